import { Argument, type Command } from 'commander';
import type { Streams } from './context.js';

export const completionShells = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof completionShells)[number];

/** `legate completion bash|zsh|fish`: a completion script generated from the command tree. */
export function registerCompletion(program: Command, streams: Streams): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(legate completion bash); zsh and fish too')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(completionShells))
    .action((shell: CompletionShell) => {
      streams.stdout.write(completionScript(program, shell));
    });
}

interface Node {
  /** Subcommand names from the top, space-separated (`''` for `legate` itself, `'tasks list'`). */
  path: string;
  /** Subcommands, and the fixed choices of its arguments (`completion bash|zsh|fish`). */
  commands: { name: string; description: string }[];
  options: { flags: string[]; description: string; takesValue: boolean }[];
}

/** Every command of the tree with its subcommands and options (the global options on the top). */
function walk(command: Command, path = ''): Node[] {
  const node: Node = {
    path,
    commands: [
      ...command.commands.map((sub) => ({ name: sub.name(), description: sub.description() })),
      ...command.registeredArguments.flatMap((argument) => (argument.argChoices ?? []).map((choice) => ({ name: choice, description: argument.description }))),
    ],
    options: [
      ...command.options.map((option) => ({
        flags: [option.long, option.short].filter((flag): flag is string => Boolean(flag)),
        description: option.description,
        takesValue: option.required || option.optional,
      })),
      { flags: ['--help', '-h'], description: 'display help for command', takesValue: false },
    ],
  };
  return [node, ...command.commands.flatMap((sub) => walk(sub, path ? `${path} ${sub.name()}` : sub.name()))];
}

export function completionScript(program: Command, shell: CompletionShell): string {
  const nodes = walk(program);
  const globals = nodes[0]!.options.filter((option) => option.flags[0] !== '--help');
  if (shell === 'fish') return fishScript(nodes, globals);
  const bash = bashScript(nodes, globals);
  // zsh runs the bash function through its bash-compatibility layer.
  return shell === 'zsh' ? `#compdef legate\nautoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n${bash}` : bash;
}

function bashScript(nodes: Node[], globals: Node['options']): string {
  const valueOptions = [...new Set(nodes.flatMap((node) => node.options.filter((option) => option.takesValue).flatMap((option) => option.flags)))];
  const paths = nodes.filter((node) => node.path).map((node) => `" ${node.path}"`);
  const cases = nodes.map((node) => {
    const words = [
      ...node.commands.map((sub) => sub.name),
      ...node.options.flatMap((option) => option.flags.filter((flag) => flag.startsWith('--'))),
      ...(node.path ? globals.flatMap((option) => option.flags.filter((flag) => flag.startsWith('--'))) : []),
    ];
    return `    "${node.path ? ` ${node.path}` : ''}") words="${[...new Set(words)].join(' ')}" ;;`;
  });
  return `# legate completion for bash: source <(legate completion bash)
_legate() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" path="" words="" i word
  [ "$COMP_CWORD" -gt 0 ] && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    --config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --cwd) COMPREPLY=($(compgen -d -- "$cur")); return ;;
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in
      ${valueOptions.join('|')}) i=$((i + 1)); continue ;;
      -*) continue ;;
    esac
    case "$path $word" in
      ${paths.join('|')}) path="$path $word" ;;
    esac
  done
  case "$path" in
${cases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _legate legate
`;
}

function fishScript(nodes: Node[], globals: Node['options']): string {
  const quote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = ['# legate completion for fish: legate completion fish | source', 'complete -c legate -f'];
  for (const option of globals) {
    const long = option.flags.find((flag) => flag.startsWith('--'))?.slice(2);
    if (long) lines.push(`complete -c legate -l ${long}${option.takesValue ? ' -r' : ''} -d ${quote(option.description)}`);
  }
  for (const node of nodes) {
    const names = node.path.split(' ').filter(Boolean);
    // At the top: no subcommand yet; below: the last name of the path was given.
    const condition = names.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${names.at(-1)}`;
    for (const sub of node.commands) lines.push(`complete -c legate -n ${quote(condition)} -a ${sub.name} -d ${quote(sub.description)}`);
    if (names.length === 0) continue;
    for (const option of node.options) {
      const long = option.flags.find((flag) => flag.startsWith('--'))?.slice(2);
      if (long && long !== 'help')
        lines.push(`complete -c legate -n ${quote(condition)} -l ${long}${option.takesValue ? ' -r' : ''} -d ${quote(option.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
