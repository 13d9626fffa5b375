import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { LegateError } from '../../errors.js';

/**
 * Where a web request by legate may never connect, whatever the page or the model asks: each range
 * with the name the refusal uses. IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) are matched
 * against the IPv4 ranges (node's `BlockList` does that).
 */
const ranges: { kind: string; subnets: [string, number, 'ipv4' | 'ipv6'][] }[] = [
  {
    kind: 'unspecified',
    subnets: [
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ],
  },
  {
    kind: 'loopback',
    subnets: [
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ],
  },
  {
    kind: 'private',
    subnets: [
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['fc00::', 7, 'ipv6'],
    ],
  },
  { kind: 'carrier-grade NAT', subnets: [['100.64.0.0', 10, 'ipv4']] },
  // 169.254.169.254 is the cloud metadata service (AWS, GCP, Azure…); fd00:ec2::254 (AWS) is in fc00::/7.
  {
    kind: 'link-local (cloud metadata)',
    subnets: [
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
      ['fec0::', 10, 'ipv6'],
    ],
  },
  // ::/96 holds the deprecated IPv4-compatible addresses (::127.0.0.1): none is reachable on purpose.
  {
    kind: 'reserved',
    subnets: [
      ['192.0.0.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['240.0.0.0', 4, 'ipv4'],
      ['::', 96, 'ipv6'],
    ],
  },
  {
    kind: 'multicast',
    subnets: [
      ['224.0.0.0', 4, 'ipv4'],
      ['ff00::', 8, 'ipv6'],
    ],
  },
];

const lists = ranges.map(({ kind, subnets }) => {
  const list = new BlockList();
  for (const [network, prefix, family] of subnets) list.addSubnet(network, prefix, family);
  return { kind, list };
});

/**
 * What kind of address `address` (an IPv4 or IPv6 literal, without brackets) is when it is one a
 * web request must not reach (`loopback`, `private`, …); undefined for a public address. A string
 * that is not an IP address is `not an IP address`, never public.
 */
export function refusedAddressKind(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const hit = lists.find(({ list }) => list.check(address, type));
  if (hit) return hit.kind;
  // An IPv4 address inside an IPv6 one: mapped (::ffff:7f00:1, in case the BlockList misses a
  // spelling) or NAT64 (64:ff9b::a00:1, which a NAT64 gateway sends on to 10.0.0.1): classify the IPv4.
  const embedded = type === 'ipv6' && translations.check(address, 'ipv6') ? lastIPv4(address) : undefined;
  return embedded === undefined ? undefined : refusedAddressKind(embedded);
}

const translations = new BlockList();
translations.addSubnet('::ffff:0:0', 96, 'ipv6');
translations.addSubnet('64:ff9b::', 96, 'ipv6');

/** The last 32 bits of an IPv6 address, as an IPv4 address. */
function lastIPv4(address: string): string | undefined {
  // The URL parser writes every IPv6 literal one way: lower-case hex groups, the longest zero run as `::`.
  const canonical = bareHost(new URL(`http://[${address}]/`).hostname);
  const groups = canonical.split(':');
  const [high, low] = groups.slice(-2).map((group) => Number.parseInt(group || '0', 16));
  if (high === undefined || low === undefined || Number.isNaN(high) || Number.isNaN(low)) return undefined;
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** The host of a URL as the network sees it: lower case, an IPv6 literal without its brackets. */
export function bareHost(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/** `host` is listed in `web.allow_hosts` (exact match, case-insensitive). */
export function isAllowedHost(host: string, allowHosts: readonly string[]): boolean {
  const bare = bareHost(host);
  return allowHosts.some((allowed) => bareHost(allowed) === bare);
}

/** The refusal of a connection to `address` (of `kind`) resolved for `host`. */
export function addressRefusal(host: string, address: string, kind: string): LegateError {
  const resolved = host === address ? '' : ` resolves to ${address}, which`;
  return new LegateError(
    'sandbox_denied',
    `web request to host ${host} refused: ${host}${resolved} is a ${kind} address, which web tools never reach; ` +
      `list the host in web.allow_hosts to allow it`,
    { host, address },
  );
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Resolver = (host: string, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const systemResolver: Resolver = (host, callback) => dnsLookup(host, { all: true, verbatim: true }, callback);

/**
 * A `lookup` for `http.request`: resolves the host (every address), refuses it when any address is
 * one a web request must not reach (unless the host is in `allowHosts`), and hands the socket the
 * addresses it checked, so the connection goes where the check looked (no DNS-rebinding gap).
 */
export function guardedLookup(allowHosts: readonly string[], resolve: Resolver = systemResolver) {
  return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback): void => {
    const host = bareHost(hostname);
    resolve(host, (error, found) => {
      if (error) return callback(error, '');
      const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
      const addresses = family === 0 ? found : found.filter((entry) => entry.family === family);
      if (addresses.length === 0) return callback(Object.assign(new Error(`no address found for ${host}`), { code: 'ENOTFOUND' }), '');
      if (!isAllowedHost(host, allowHosts)) {
        for (const entry of addresses) {
          const kind = refusedAddressKind(entry.address);
          if (kind) return callback(addressRefusal(host, entry.address, kind) as NodeJS.ErrnoException, '');
        }
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/**
 * Throws the refusal when `host` is an IP literal a web request must not reach (the socket does no
 * lookup for a literal, so `guardedLookup` never sees it) and is not in `allowHosts`.
 */
export function checkLiteralHost(hostname: string, allowHosts: readonly string[]): void {
  const host = bareHost(hostname);
  if (isIP(host) === 0 || isAllowedHost(host, allowHosts)) return;
  const kind = refusedAddressKind(host);
  if (kind) throw addressRefusal(host, host, kind);
}
