import { BlockList, isIP } from 'node:net';

/** Address ranges that are never a public service: loopback, private, link-local (cloud metadata), CGNAT, multicast, ... */
const NON_PUBLIC_V4 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  NON_PUBLIC_V4.addSubnet(network, prefix, 'ipv4');
// Kept apart from the IPv4 list: a BlockList matches IPv4 addresses against IPv4-mapped IPv6 rules.
const NON_PUBLIC_V6 = new BlockList();
for (const [network, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NON_PUBLIC_V6.addSubnet(network, prefix, 'ipv6');

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) address, if any. */
function embeddedV4(v6: string): string | undefined {
  const match =
    /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(v6) ?? /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(v6);
  if (!match) return undefined;
  if (match[2] === undefined) return match[1];
  const high = parseInt(match[1]!, 16);
  const low = parseInt(match[2], 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

const INTERNAL_NAMES = /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/i;

/**
 * An `https:` URL whose host may name a public service: not an address in a loopback,
 * private, link-local (169.254.169.254), shared or multicast range, and not a name reserved
 * for local networks. The service never fetches such URLs; refusing them keeps a stored
 * reference from pointing anyone (an auditor's tool, a portal) at internal endpoints.
 * Names are not resolved here: a public name that resolves to a private address is the
 * business of whoever dereferences it.
 */
export function isPublicHttpsUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' || !url.hostname || url.username || url.password) return false;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const family = isIP(host);
  if (family === 4) return !NON_PUBLIC_V4.check(host, 'ipv4');
  if (family === 6) {
    const v4 = embeddedV4(host);
    return v4 ? !NON_PUBLIC_V4.check(v4, 'ipv4') : !NON_PUBLIC_V6.check(host, 'ipv6');
  }
  // Numeric forms URL parsing did not normalise (e.g. 0x7f.1) are not names either.
  if (/^[0-9.]+$/.test(host) || /^0x/i.test(host)) return false;
  return host.includes('.') && !INTERNAL_NAMES.test(host.replace(/\.$/, ''));
}
