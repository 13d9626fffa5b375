import { describe, expect, test } from 'vitest';
import { checkLiteralHost, guardedLookup, refusedAddressKind } from '../../src/tools/web/address-guard.js';

describe('web address guard', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['127.0.0.2', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::127.0.0.1', 'reserved'],
    ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::169.254.169.254', 'link-local (cloud metadata)'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['fd00:ec2::254', 'private'],
    ['fc00::1', 'private'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['fe80::1', 'link-local (cloud metadata)'],
    ['100.64.1.1', 'carrier-grade NAT'],
    ['100.100.100.200', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['not-an-ip', 'not an IP address'],
  ])('%s is refused as %s', (address, kind) => {
    expect(refusedAddressKind(address)).toBe(kind);
  });

  test.each(['8.8.8.8', '64:ff9b::808:808', '172.15.0.1', '172.32.0.1', '100.128.0.1', '1.1.1.1', '::ffff:8.8.8.8', '2606:4700::1111', '2001:4860:4860::8888'])(
    '%s is public',
    (address) => {
      expect(refusedAddressKind(address)).toBeUndefined();
    },
  );

  test('an IP literal host is refused naming the host, the address and web.allow_hosts, unless it is listed', () => {
    expect(() => checkLiteralHost('[::1]', [])).toThrow(/host ::1 .*loopback.*web\.allow_hosts/);
    expect(() => checkLiteralHost('169.254.169.254', ['localhost'])).toThrow(/169\.254\.169\.254/);
    expect(() => checkLiteralHost('127.0.0.1', ['127.0.0.1'])).not.toThrow();
    expect(() => checkLiteralHost('example.com', [])).not.toThrow();
  });

  test('the lookup refuses a name that resolves to a private address, and hands over the addresses it checked', async () => {
    const fake = (addresses: { address: string; family: number }[]) => (_host: string, callback: (error: null, found: typeof addresses) => void) =>
      callback(null, addresses);
    const run = (allow: string[], addresses: { address: string; family: number }[], all: boolean) =>
      new Promise<{ error: Error | null; address: unknown }>((resolve) =>
        guardedLookup(allow, fake(addresses))('rebind.example', { all }, (error, address) => resolve({ error, address })),
      );
    const mixed = [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ];
    const refused = await run([], mixed, true);
    expect(refused.error?.message).toMatch(
      /host rebind\.example refused: rebind\.example resolves to 10\.0\.0\.5, which is a private address.*web\.allow_hosts/,
    );
    expect((await run(['rebind.example'], mixed, true)).address).toEqual(mixed);
    expect(await run([], [{ address: '93.184.216.34', family: 4 }], false)).toEqual({ error: null, address: '93.184.216.34' });
  });
});
