/**
 * `${VAR}` interpolation over a parsed YAML tree. Unset variables become empty strings and are
 * recorded with the key path that referenced them, so a later "no API key" error can say
 * `model.api_key refers to ${OPENAI_API_KEY}, which is not set`.
 */
export interface Interpolated {
  value: unknown;
  /** key path (`model.api_key`) → names of variables that were referenced but unset */
  unset: Map<string, string[]>;
}

const pattern = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function interpolateEnv(tree: unknown, env: NodeJS.ProcessEnv): Interpolated {
  const unset = new Map<string, string[]>();
  const walk = (node: unknown, path: string): unknown => {
    if (typeof node === 'string') {
      return node.replace(pattern, (_match, name: string) => {
        const value = env[name];
        if (value === undefined || value === '') {
          unset.set(path, [...(unset.get(path) ?? []), name]);
          return '';
        }
        return value;
      });
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, `${path}[${index}]`));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, walk(value, path ? `${path}.${key}` : key)]));
    }
    return node;
  };
  return { value: walk(tree, ''), unset };
}
