import type { CallToolResult, CompatibilityCallToolResult, ContentBlock } from '@modelcontextprotocol/sdk/types.js';
import type { ToolOutput } from '../tools/tool.js';

/**
 * An MCP tool result as a legate tool result: the text of its content blocks joined by newlines
 * (other blocks as a short placeholder), its structured content when there is no content, and
 * `isError` carried over.
 */
export function toolOutput(result: CallToolResult | CompatibilityCallToolResult): ToolOutput {
  if (!('content' in result)) return JSON.stringify(result.toolResult ?? null);
  const blocks = (result as CallToolResult).content ?? [];
  let content = blocks.map(blockText).join('\n');
  if (!content && result.structuredContent !== undefined) content = JSON.stringify(result.structuredContent);
  return result.isError ? { content, isError: true } : content;
}

function blockText(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'image':
    case 'audio':
      return `[${block.type} ${block.mimeType}, ${block.data.length} base64 characters]`;
    case 'resource':
      return 'text' in block.resource ? String(block.resource.text) : `[resource ${block.resource.uri}]`;
    case 'resource_link':
      return `[resource ${block.uri}${block.name ? ` (${block.name})` : ''}]`;
    default:
      return `[${(block as { type: string }).type} content]`;
  }
}
