import { describe, expect, it } from 'vitest';
import { tempDir } from './cli.js';
import { maskUrl, startTestRedis, useTestRedis } from './redis.js';

const redis = await useTestRedis();

describe.skipIf(!redis)('test Redis helper', () => {
  it('sets and reads a key under its prefix, and deletes only its own keys', async () => {
    const client = redis!.connect();
    const own = `${redis!.prefix}:greeting`;
    const other = `${redis!.prefix}-other:kept`; // shares the text, not the `prefix:` namespace
    await client.set(own, 'hello');
    await client.set(other, 'not mine');
    expect(await client.get(own)).toBe('hello');
    expect(await redis!.keys()).toEqual([own]);

    await redis!.deleteKeys();
    expect(await client.exists(own)).toBe(0);
    expect(await client.get(other)).toBe('not mine');
    await client.del(other);
  });

  it('a private server with AOF keeps its keys across a restart, and is gone after stop', async () => {
    const dir = tempDir('legate-redis-aof-');
    const own = await startTestRedis({ aof: { dir } });
    expect(own?.source).toBe('private');
    const client = own!.connect();
    await client.set(`${own!.prefix}:durable`, 'yes');
    const pid = own!.server!.pid;
    await own!.server!.restart({ kill: true });
    expect(own!.server!.pid).not.toBe(pid);
    expect(await client.get(`${own!.prefix}:durable`)).toBe('yes');
    await own!.stop();
    await own!.stop();
    expect(own!.server!.pid).toBeUndefined();
  });
});

describe('maskUrl', () => {
  it('hides a password, keeps the rest', () => {
    expect(maskUrl('redis://:s3cret@redis.internal:6379/0')).toBe('redis://:***@redis.internal:6379/0');
    expect(maskUrl('redis://user:s3cret@host:6379')).toBe('redis://user:***@host:6379');
    expect(maskUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
