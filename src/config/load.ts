import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { LegateError } from '../errors.js';
import { formatIssues } from './format-issues.js';
import { interpolateEnv } from './interpolate.js';
import { type ConfigFile, type ConfigInput, configSchema } from './schema.js';

/** Where a setting came from, for error messages (`model.api_key in /home/u/.legate/config.yaml`). */
export interface LoadedConfig {
  config: ConfigFile;
  /** The config file read, or undefined when the environment was used. */
  file: string | undefined;
  home: string;
  /** key path → unset `${VAR}` names it referenced */
  unset: Map<string, string[]>;
}

export interface LoadOptions {
  /** `--config FILE`; default `$LEGATE_HOME/config.yaml`. */
  configPath?: string;
  /**
   * The settings as a plain object (what `config.yaml` would hold), for a program embedding legate:
   * read instead of any file, validated like one, its `${VAR}` references taken from `env`.
   */
  config?: ConfigInput;
  env?: NodeJS.ProcessEnv;
}

export function legateHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.LEGATE_HOME || join(homedir(), '.legate'));
}

/**
 * Read and validate config: `options.config`, else the file. An explicit `--config` that does not
 * exist is an error; a missing default file falls back to the environment (`OPENAI_API_KEY`,
 * `OPENAI_BASE_URL`, `ANTHROPIC_API_KEY`, `LEGATE_MODEL`).
 */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const home = legateHome(env);
  if (options.config !== undefined) return validate(options.config, 'config object', undefined, home, env);
  const file = resolve(options.configPath ?? join(home, 'config.yaml'));
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (options.configPath) {
      throw new LegateError('config_not_found', `config file ${file} does not exist (from --config)`);
    }
  }
  if (text === undefined) return { config: configFromEnv(env), file: undefined, home, unset: new Map() };

  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new LegateError('config_invalid', `${file}: not valid YAML: ${(error as Error).message}`);
  }
  const loop = aliasLoop(raw, '', new Set());
  if (loop !== undefined) {
    throw new LegateError('config_invalid', `${file}: not valid config: the YAML alias at "${loop}" refers to a node that contains it (a recursive alias)`);
  }
  return validate(raw, file, file, home, env);
}

/** The key path of the first value that contains itself (a YAML alias inside its own anchor), if any. */
function aliasLoop(node: unknown, path: string, open: Set<unknown>): string | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  if (open.has(node)) return path || '(top level)';
  open.add(node);
  const entries = Array.isArray(node)
    ? node.map((item, index) => [`${path}[${index}]`, item] as const)
    : Object.entries(node).map(([key, value]) => [path ? `${path}.${key}` : key, value] as const);
  for (const [at, value] of entries) {
    const found = aliasLoop(value, at, open);
    if (found !== undefined) return found;
  }
  open.delete(node);
  return undefined;
}

/** Settings read from `where` (the file, or `config object`), interpolated and validated. */
function validate(raw: unknown, where: string, file: string | undefined, home: string, env: NodeJS.ProcessEnv): LoadedConfig {
  const { value, unset } = interpolateEnv(raw, env);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LegateError('config_invalid', `${where}: expected a mapping of settings at the top level`);
  }
  const withModel = addEnvModel(value as Record<string, unknown>, env);
  const parsed = configSchema.safeParse(withModel);
  if (!parsed.success) {
    const lines = formatIssues(parsed.error, withModel).map((line, index) => line + unsetNote(parsed.error.issues[index]?.path ?? [], unset));
    throw new LegateError('config_invalid', `${where}: ${lines.join('; ')}`, { file, issues: lines });
  }
  return { config: parsed.data, file, home, unset };
}

/**
 * ` (from ${VAR}, which is not set)` when the value at `path` came from unset variables, so an error about an
 * empty `base_url` names the variable to export rather than an empty string.
 */
function unsetNote(path: readonly PropertyKey[], unset: Map<string, string[]>): string {
  const key = path.reduce<string>(
    (joined, part) => (typeof part === 'number' ? `${joined}[${part}]` : joined ? `${joined}.${String(part)}` : String(part)),
    '',
  );
  const names = unset.get(key);
  if (!names || names.length === 0) return '';
  return ` (from ${names.map((name) => `\${${name}}`).join(', ')}, which ${names.length === 1 ? 'is' : 'are'} not set)`;
}

/** A config file may leave out `model` entirely and rely on the environment for it. */
function addEnvModel(value: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  if (value.model !== undefined) return value;
  return { ...value, model: configFromEnv(env).model };
}

function configFromEnv(env: NodeJS.ProcessEnv): ConfigFile {
  const anthropic = !env.OPENAI_API_KEY && !!env.ANTHROPIC_API_KEY;
  const model = anthropic
    ? { provider: 'anthropic', name: env.LEGATE_MODEL || 'claude-sonnet-4-6', api_key: env.ANTHROPIC_API_KEY, base_url: env.ANTHROPIC_BASE_URL || undefined }
    : { provider: 'openai', name: env.LEGATE_MODEL || 'gpt-4.1-mini', api_key: env.OPENAI_API_KEY, base_url: env.OPENAI_BASE_URL || undefined };
  return configSchema.parse({ model });
}
