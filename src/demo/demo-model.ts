import type { Message, ModelRequest } from '../provider/types.js';

/** One reply of the demo model: its text and tool calls, after an optional pause. */
export interface DemoReply {
  delayMs?: number;
  text: string;
  toolCalls?: { name: string; arguments: Record<string, unknown> }[];
}

/**
 * The built-in offline demo model: a scripted "model" that drives the whole async lifecycle on
 * the user's own files. The parent spawns three children, checks one, steers one, cancels one and
 * collects the rest; the children really call list_dir / search_files and summarise what came back.
 */
export interface DemoTiming {
  /** Pause before each parent reply, so a person can follow along. */
  parentDelayMs: number;
  /** The survey child is slow, so the steer reaches it mid-run. */
  steeredChildDelayMs: number;
}

const goals = {
  layout: 'Map the layout of this directory: list its top-level entries and say what kind of project it looks like.',
  notes: 'Find TODO and FIXME notes in this directory tree and report where they are.',
  sizes: 'Measure the biggest files in this tree (a slow, thorough survey).',
};

/** The demo model: the next reply for a request of the parent (its own script) or of a child (the child's system prompt says so). */
export function demoModel(timing: DemoTiming): (request: ModelRequest) => DemoReply {
  return (request) => (request.system.includes('focused subagent') ? childReply(request.messages, timing) : parentReply(request.messages, timing));
}

/** The `status` a tool result reported (`running`, `completed`…), as read. */
function statusOf(result: string): string {
  return /"status":"(\w+)"/.exec(result)?.[1] ?? 'unknown';
}

function toolResults(messages: Message[]): string[] {
  return messages.filter((message) => message.role === 'tool').map((message) => message.content);
}

function parentReply(messages: Message[], timing: DemoTiming): DemoReply {
  const step = messages.filter((message) => message.role === 'assistant').length;
  const results = toolResults(messages);
  const ids = results.map((result) => /"task_id":"(t_[0-9a-f]+)"/.exec(result)?.[1]).filter((id): id is string => Boolean(id));
  const [layout, notes, sizes] = [...new Set(ids)];
  const delayMs = timing.parentDelayMs;
  switch (step) {
    case 0:
      return {
        delayMs,
        text: 'I will split this into three background tasks and keep working while they run.',
        toolCalls: [
          { name: 'delegate_task_async', arguments: { goal: goals.layout, context: 'Use list_dir on "." and describe what you see.' } },
          { name: 'delegate_task_async', arguments: { goal: goals.notes, context: 'Use search_files with the pattern "TODO|FIXME".' } },
          { name: 'delegate_task_async', arguments: { goal: goals.sizes, context: 'Take your time.' } },
        ],
      };
    case 1:
      // Say only what the spawn results said: a task may already be done by the time anyone looks.
      return {
        delayMs,
        text: `Started three background tasks (${results.map(statusOf).join(', ')}). Let me check on the first one.`,
        toolCalls: [{ name: 'check_task', arguments: { task_id: layout } }],
      };
    case 2:
      return {
        delayMs,
        text: `check_task says ${layout} is ${statusOf(results.at(-1) ?? '')}. The notes survey should also say which file has the most notes; steering it.`,
        toolCalls: [{ name: 'steer_task', arguments: { task_id: notes, message: 'Also tell me which file has the most notes.' } }],
      };
    case 3:
      return { delayMs, text: 'The size survey is not needed after all; cancelling it.', toolCalls: [{ name: 'cancel_task', arguments: { task_id: sizes } }] };
    case 4:
      return {
        delayMs,
        text: 'Collecting the two remaining results.',
        toolCalls: [
          { name: 'collect_task', arguments: { task_id: layout, timeout: 60 } },
          { name: 'collect_task', arguments: { task_id: notes, timeout: 60 } },
        ],
      };
    default: {
      const summaries = results
        .slice(-2)
        .map((result) => /"summary":"((?:[^"\\]|\\.)*)"/.exec(result)?.[1])
        .map((summary) => (summary ? (JSON.parse(`"${summary}"`) as string) : '(no summary)'));
      return {
        delayMs,
        text: [
          'Done. What the subagents found:',
          '',
          `1. Layout (${layout}): ${summaries[0]}`,
          `2. Notes (${notes}, steered mid-run): ${summaries[1]}`,
          `3. Size survey (${sizes}): cancelled before it finished.`,
        ].join('\n'),
      };
    }
  }
}

function childReply(messages: Message[], timing: DemoTiming): DemoReply {
  const brief = messages.find((message) => message.role === 'user')?.content ?? '';
  const results = toolResults(messages);
  const steered = messages.some((message) => message.role === 'user' && message.content.includes('[Steering message'));
  if (brief.includes(goals.sizes)) {
    // Deliberately slow: it is cancelled while this call is in flight.
    return { delayMs: 60_000, text: 'still measuring' };
  }
  if (brief.includes(goals.layout)) {
    if (results.length === 0) return { text: 'Listing the directory.', toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] };
    const entries = (results[0] ?? '')
      .split('\n')
      .slice(1)
      .filter((line) => line && !line.startsWith('['));
    const dirs = entries.filter((entry) => entry.endsWith('/'));
    const kind = entries.includes('package.json')
      ? 'a Node.js project'
      : entries.includes('Cargo.toml')
        ? 'a Rust project'
        : entries.includes('pyproject.toml')
          ? 'a Python project'
          : 'a directory of files';
    return {
      text:
        `Listed the working directory: ${entries.length} entries, ${dirs.length} of them directories (${dirs.slice(0, 6).join(', ') || 'none'}). ` +
        `It looks like ${kind}. No files changed.`,
    };
  }
  if (results.length === 0) {
    return {
      delayMs: timing.steeredChildDelayMs,
      text: 'Searching for notes.',
      toolCalls: [{ name: 'search_files', arguments: { pattern: 'TODO|FIXME', path: '.', max_results: 200 } }],
    };
  }
  const hits = (results[0] ?? '').split('\n').filter((line) => /^[^\s].*:\d+:/.test(line));
  const perFile = new Map<string, number>();
  for (const hit of hits) {
    const file = hit.slice(0, hit.search(/:\d+:/));
    perFile.set(file, (perFile.get(file) ?? 0) + 1);
  }
  const top = [...perFile.entries()].sort((a, b) => b[1] - a[1])[0];
  const found = hits.length === 0 ? 'Found no TODO or FIXME notes.' : `Found ${hits.length} TODO/FIXME notes in ${perFile.size} files.`;
  const most = steered ? (top ? ` As the parent asked: ${top[0]} has the most (${top[1]}).` : ' As the parent asked: no file has any.') : '';
  return { text: `${found}${most} No files changed.` };
}
