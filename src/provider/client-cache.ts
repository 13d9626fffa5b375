/**
 * One SDK client per (endpoint, key), reused across requests. Retries are ours
 * (resilient-provider.ts), one policy for both wires, so clients are built with `maxRetries: 0`.
 * `create` may be async: the adapters import their SDK on the first request, so commands that never
 * call a model (`legate tasks`, `--help`) do not load it.
 */
export function clientCache<Client>(create: (baseUrl: string, apiKey: string) => Client): (baseUrl: string, apiKey: string) => Client {
  const clients = new Map<string, Client>();
  return (baseUrl, apiKey) => {
    const id = `${baseUrl}\u0000${apiKey}`;
    let client = clients.get(id);
    if (!client) {
      client = create(baseUrl, apiKey);
      clients.set(id, client);
    }
    return client;
  };
}
