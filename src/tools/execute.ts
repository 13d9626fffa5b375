import type { z } from 'zod';
import { errorMessage } from '../errors.js';
import type { ToolCall } from '../provider/types.js';
import { capOutput, excerpt } from './output-cap.js';
import { describeUnknown, unknownArguments } from './strict-arguments.js';
import type { Tool, ToolContext, ToolOutput } from './tool.js';
import { toToolSpec } from './tool-spec.js';

/** What a tool call produced, ready to become a tool result message. */
export interface ToolCallResult {
  content: string;
  isError: boolean;
  /** Bytes the call fetched from the web, when it fetched any. */
  fetchedBytes?: number;
}

const EXCERPT_CHARS = 200;

/**
 * Run one tool call from the model. Never throws: an unknown tool (`unknown_tool`), arguments that
 * are not JSON, fail the schema or hold an argument it does not name (`invalid_arguments`), and an error thrown by the tool
 * (`tool_failed`) each become an error result naming the bad value. If `context.signal` is aborted
 * before or during the call, the result is an `aborted` error and it returns at once, without
 * waiting for the tool. Output is capped with `capOutput`.
 */
export async function executeToolCall(tools: ReadonlyMap<string, Tool>, call: ToolCall, context: Omit<ToolContext, 'toolCallId'>): Promise<ToolCallResult> {
  const cancelled = (): ToolCallResult => failure(`aborted: the ${call.name} call was cancelled`);
  if (context.signal.aborted) return cancelled();

  const tool = tools.get(call.name);
  if (!tool) {
    const available = [...tools.keys()].join(', ') || '(none)';
    return failure(`unknown_tool: no tool named ${JSON.stringify(excerpt(String(call.name)))}; available: ${available}`);
  }

  const raw = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? '');
  let input: unknown;
  try {
    input = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch (error) {
    return failure(`invalid_arguments: arguments for ${tool.name} are not valid JSON (${errorMessage(error)}): ${excerpt(raw, EXCERPT_CHARS)}`);
  }

  const unknown = unknownArgumentsOf(tool, input);
  if (unknown.length > 0) return failure(`invalid_arguments: ${tool.name}: ${unknown.map(describeUnknown).join('; ')}`);

  let parsed: Awaited<ReturnType<Tool['parameters']['safeParseAsync']>>;
  try {
    parsed = await tool.parameters.safeParseAsync(input);
  } catch (error) {
    return failure(`invalid_arguments: ${tool.name}: the arguments could not be checked (${errorMessage(error)})`);
  }
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => describeIssue(issue, input));
    return failure(`invalid_arguments: ${tool.name}: ${problems.join('; ')}`);
  }

  let output: ToolOutput;
  try {
    output = await untilAborted(
      Promise.resolve().then(() => tool.execute(parsed.data, { ...context, toolCallId: call.id })),
      context.signal,
    );
  } catch (error) {
    if (context.signal.aborted) return cancelled();
    return failure(`tool_failed: ${tool.name}: ${errorMessage(error)}`);
  }
  if (context.signal.aborted) return cancelled();
  if (typeof output === 'string') return { content: capOutput(output), isError: false };
  const fetchedBytes = typeof output?.fetchedBytes === 'number' && output.fetchedBytes > 0 ? output.fetchedBytes : undefined;
  return { content: capOutput(String(output?.content ?? '')), isError: output?.isError === true, ...(fetchedBytes ? { fetchedBytes } : {}) };
}

/** The arguments `tool`'s schema does not name (none when its schema cannot be read: the parse then decides). */
function unknownArgumentsOf(tool: Tool, input: unknown): ReturnType<typeof unknownArguments> {
  let parameters: Record<string, unknown>;
  try {
    parameters = toToolSpec(tool).parameters;
  } catch {
    return [];
  }
  return unknownArguments(parameters, input, tool.inputSchema === undefined);
}

function failure(content: string): ToolCallResult {
  return { content: capOutput(content), isError: true };
}

/** `path.to.field: expected string, received number (got 42)`, for one zod issue. */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = issue.path.length === 0 ? '(arguments)' : issue.path.map(String).join('.');
  const message = issue.message.replace(/^Invalid input: /, '');
  const value = valueAt(input, issue.path);
  const got = value === undefined ? 'missing' : `got ${excerpt(preview(value), EXCERPT_CHARS)}`;
  return `${where}: ${message} (${got})`;
}

/** The value as JSON; a shape marker when it is nested too deeply to stringify (the stack overflows). */
function preview(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // too deep for JSON.stringify: said so instead
    return Array.isArray(value) ? '[…nested too deeply to show…]' : '{…nested too deeply to show…}';
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** `promise`, or a rejection with an AbortError as soon as `signal` fires. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new DOMException('tool call cancelled', 'AbortError'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
