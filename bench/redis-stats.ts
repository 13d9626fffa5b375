import { Redis } from 'ioredis';

/**
 * What one Redis did in a measured window, from `INFO commandstats` and `INFO cpu`: every command
 * it ran (those a function runs with `redis.call` counted one by one, as well as the `FCALL`
 * itself) and the microseconds inside each (an FCALL's include its inner calls), and the server process's CPU (main thread and all, as
 * `used_cpu_user` + `used_cpu_sys`). `reset` (`CONFIG RESETSTAT`) starts the window.
 */
export interface RedisWindow {
  /** Commands run, by name (`fcall`, `hset`, …). */
  commands: Record<string, { calls: number; usec: number }>;
  totalCalls: number;
  /** The redis-server process's CPU over the window (user + system), ms. */
  cpuMs: number;
}

export interface RedisStats {
  reset(): Promise<void>;
  read(): Promise<RedisWindow>;
  close(): void;
}

export function redisStats(url: string): RedisStats {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  let cpuAtReset = 0;
  const cpuSeconds = async (): Promise<number> => {
    const info = await client.info('cpu');
    const field = (name: string): number => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? 0);
    return field('used_cpu_user') + field('used_cpu_sys');
  };
  return {
    async reset() {
      await client.config('RESETSTAT');
      cpuAtReset = await cpuSeconds();
    },
    async read() {
      const cpu = await cpuSeconds();
      const info = await client.info('commandstats');
      const commands: RedisWindow['commands'] = {};
      let totalCalls = 0;
      for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
        const name = match[1]!;
        // The reads of this window's own INFO are not the store's.
        if (name === 'info' || name.startsWith('config')) continue;
        const calls = Number(match[2]);
        const usec = Number(match[3]);
        commands[name] = { calls, usec };
        totalCalls += calls;
      }
      return { commands, totalCalls, cpuMs: (cpu - cpuAtReset) * 1000 };
    },
    close: () => client.disconnect(),
  };
}
