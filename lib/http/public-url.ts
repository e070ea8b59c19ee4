import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * ipaddr.js range names that are never a public service: loopback, private (RFC 1918 and
 * unique local), link-local (cloud metadata), CGNAT, multicast, benchmarking, and the
 * reserved ranges, which include the documentation networks 192.0.2.0/24, 198.51.100.0/24,
 * 203.0.113.0/24 and 2001:db8::/32.
 */
const NON_PUBLIC_V4 = new Set(['unspecified', 'broadcast', 'multicast', 'linkLocal', 'loopback', 'carrierGradeNat', 'private', 'reserved']);
const NON_PUBLIC_V6 = new Set([
  'unspecified',
  'linkLocal',
  'multicast',
  'loopback',
  'uniqueLocal',
  'deprecatedSiteLocal',
  'discard',
  'benchmarking',
  'deprecatedOrchid',
  'orchid2',
  'segmentRouting',
  'reserved',
]);

/** Ranges whose last 32 bits are an IPv4 address: IPv4-mapped, IPv4-translated and NAT64. */
const V4_IN_LOW_BITS = [
  ipaddr.IPv6.parseCIDR('::ffff:0:0/96'),
  ipaddr.IPv6.parseCIDR('::ffff:0:0:0/96'),
  ipaddr.IPv6.parseCIDR('64:ff9b::/96'),
];
/** The deprecated IPv4-compatible form `::a.b.c.d`, which no public service uses. */
const V4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');

function isPublicV4(address: ipaddr.IPv4): boolean {
  return !NON_PUBLIC_V4.has(address.range());
}

function isPublicV6(address: ipaddr.IPv6): boolean {
  const parts = address.parts;
  if (V4_IN_LOW_BITS.some((range) => address.match(range))) {
    return isPublicV4(new ipaddr.IPv4([parts[6]! >> 8, parts[6]! & 255, parts[7]! >> 8, parts[7]! & 255]));
  }
  const range = address.range();
  // 64:ff9b:1::/48 is NAT64 for local use only.
  if (range === 'rfc6052' || range === 'rfc6145' || address.match(V4_COMPATIBLE)) return false;
  if (range === '6to4') return isPublicV4(new ipaddr.IPv4([parts[1]! >> 8, parts[1]! & 255, parts[2]! >> 8, parts[2]! & 255]));
  return !NON_PUBLIC_V6.has(range);
}

const INTERNAL_NAMES = /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/i;

/**
 * An `https:` URL whose host may name a public service: not an address in a loopback,
 * private, link-local (169.254.169.254), shared, multicast, documentation or other reserved
 * range (ranges as ipaddr.js names them, IPv4 inside IPv6 checked as IPv4), and not a name
 * reserved for local networks. The service never fetches such URLs; refusing them keeps a
 * stored reference from pointing anyone (an auditor's tool, a portal) at internal endpoints.
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
  if (family === 4) return isPublicV4(ipaddr.IPv4.parse(host));
  if (family === 6) return isPublicV6(ipaddr.IPv6.parse(host));
  // Numeric forms URL parsing did not normalise (e.g. 0x7f.1) are not names either.
  if (/^[0-9.]+$/.test(host) || /^0x/i.test(host)) return false;
  return host.includes('.') && !INTERNAL_NAMES.test(host.replace(/\.$/, ''));
}
