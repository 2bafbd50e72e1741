import ipaddr from 'ipaddr.js';

/**
 * Why an address is not a place Gancho may send webhooks to. Everything that
 * is not `public` is refused, unless private networks are allowed by config.
 */
export const addressRefusalReasons = [
  'invalid',
  'unspecified',
  'loopback',
  'private',
  'carrier_grade_nat',
  'link_local',
  'unique_local',
  'site_local',
  'multicast',
  'broadcast',
  'documentation',
  'benchmarking',
  'cloud_metadata',
  'reserved',
] as const;
export type AddressRefusalReason = (typeof addressRefusalReasons)[number];
export type AddressClass = 'public' | AddressRefusalReason;

type Range = readonly [cidr: string, reason: AddressRefusalReason];

// First match wins, so single addresses come before the ranges that hold them.
const ipv4Ranges: readonly Range[] = [
  ['169.254.169.254/32', 'cloud_metadata'], // AWS, GCP, Azure, OpenStack, DigitalOcean…
  ['168.63.129.16/32', 'cloud_metadata'], // Azure WireServer (a public address)
  ['255.255.255.255/32', 'broadcast'],
  ['0.0.0.0/8', 'unspecified'], // "this network"
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['100.64.0.0/10', 'carrier_grade_nat'], // also Alibaba's metadata 100.100.100.200
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link_local'],
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
  ['192.0.2.0/24', 'documentation'], // TEST-NET-1
  ['198.51.100.0/24', 'documentation'], // TEST-NET-2
  ['203.0.113.0/24', 'documentation'], // TEST-NET-3
  ['198.18.0.0/15', 'benchmarking'],
  ['192.88.99.0/24', 'reserved'], // deprecated 6to4 relay anycast
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
];

const ipv6Ranges: readonly Range[] = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fd00:ec2::254/128', 'cloud_metadata'], // AWS IMDS over IPv6
  ['64:ff9b:1::/48', 'private'], // local-use NAT64
  ['fc00::/7', 'unique_local'],
  ['fe80::/10', 'link_local'],
  ['fec0::/10', 'site_local'],
  ['ff00::/8', 'multicast'],
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['2001:2::/48', 'benchmarking'],
  ['2001::/23', 'reserved'], // IETF protocol assignments, Teredo among them
  ['100::/64', 'reserved'], // discard-only
  ['5f00::/16', 'reserved'], // segment routing SIDs
];

const parsedIpv4 = ipv4Ranges.map(([cidr, reason]) => [ipaddr.IPv4.parseCIDR(cidr), reason] as const);
const parsedIpv6 = ipv6Ranges.map(([cidr, reason]) => [ipaddr.IPv6.parseCIDR(cidr), reason] as const);
const globalUnicast = ipaddr.IPv6.parseCIDR('2000::/3');

/** IPv6 forms that carry an IPv4 address, and where: [prefix, first 16-bit part of the IPv4]. */
const embeddingIpv4: ReadonlyArray<readonly [[ipaddr.IPv6, number], number]> = [
  [ipaddr.IPv6.parseCIDR('::ffff:0:0/96'), 6], // IPv4-mapped, ::ffff:127.0.0.1
  [ipaddr.IPv6.parseCIDR('::ffff:0:0:0/96'), 6], // IPv4-translated (RFC 6145)
  [ipaddr.IPv6.parseCIDR('64:ff9b::/96'), 6], // NAT64 well-known prefix
  [ipaddr.IPv6.parseCIDR('::/96'), 6], // deprecated IPv4-compatible, ::127.0.0.1
  [ipaddr.IPv6.parseCIDR('2002::/16'), 1], // 6to4
];

function classifyIpv4(address: ipaddr.IPv4): AddressClass {
  for (const [range, reason] of parsedIpv4) if (address.match(range)) return reason;
  return 'public';
}

function classifyIpv6(address: ipaddr.IPv6): AddressClass {
  // ::/128 and ::1/128 sit inside ::/96; they are answered first.
  for (const [range, reason] of parsedIpv6.slice(0, 2)) if (address.match(range)) return reason;
  for (const [range, at] of embeddingIpv4) {
    if (address.match(range)) {
      const [high = 0, low = 0] = address.parts.slice(at, at + 2);
      return classifyIpv4(new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]));
    }
  }
  for (const [range, reason] of parsedIpv6) if (address.match(range)) return reason;
  // Only 2000::/3 is handed out as global unicast; everything else is reserved.
  return address.match(globalUnicast) ? 'public' : 'reserved';
}

/**
 * Parses an IP address in any form a URL or a resolver may hand over (IPv6
 * with or without brackets or zone, IPv4 in dotted, decimal `2130706433`,
 * octal `0177.0.0.1`, hex `0x7f.1` or short `127.1` notation), or undefined
 * when the text is not an address.
 */
export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = text.trim().replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(bare)) return undefined;
  return ipaddr.parse(bare);
}

/**
 * Whether an IP address is a public unicast address, or why not. Pure and
 * synchronous: the same check runs when a URL is saved and, in delivery, on
 * the address actually connected to. IPv6 forms that embed an IPv4 address
 * (mapped, translated, NAT64, compatible, 6to4) are judged by that address.
 */
export function classifyAddress(ip: string): AddressClass {
  const address = parseAddress(ip);
  if (!address) return 'invalid';
  return address.kind() === 'ipv4' ? classifyIpv4(address as ipaddr.IPv4) : classifyIpv6(address as ipaddr.IPv6);
}

export function isPublicAddress(ip: string): boolean {
  return classifyAddress(ip) === 'public';
}
