/** IPv4 arithmetic on 32-bit unsigned integers. */
export function parseIp(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0]! << 24) >>> 0) + (o[1]! << 16) + (o[2]! << 8) + o[3]!;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  readonly network: number;
  readonly prefix: number;
  readonly broadcast: number;
}

export function parseCidr(s: string): Cidr | undefined {
  const [ip, p] = s.split('/');
  const prefix = Number(p);
  const addr = ip === undefined ? undefined : parseIp(ip);
  if (addr === undefined || p === undefined || !/^\d{1,2}$/.test(p) || prefix > 32) return undefined;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (addr & mask) >>> 0;
  if (network !== addr) return undefined; // host bits set: Kayobe/netaddr would also reject it as a network
  return { network, prefix, broadcast: (network | (~mask >>> 0)) >>> 0 };
}

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.network && ip <= c.broadcast;
}

/** Usable host addresses: network and broadcast excluded (except /31 and /32). */
export function hostRange(c: Cidr): { first: number; last: number } {
  if (c.prefix >= 31) return { first: c.network, last: c.broadcast };
  return { first: c.network + 1, last: c.broadcast - 1 };
}

/**
 * Parses `a.b.c.d/p` the way netaddr's IPNetwork does: host bits are allowed and masked off.
 * Kayobe reads every `<net>_cidr` with netaddr/ipaddress, so `1.2.3.4/24` is the network 1.2.3.0/24.
 */
export function parseCidrLoose(s: string): (Cidr & { readonly address: number }) | undefined {
  const [ip, p] = s.split('/');
  const addr = ip === undefined ? undefined : parseIp(ip);
  if (addr === undefined || p === undefined || !/^\d{1,2}$/.test(p) || Number(p) > 32) return undefined;
  const prefix = Number(p);
  const mask = prefixMask(prefix);
  const network = (addr & mask) >>> 0;
  return { address: addr, network, prefix, broadcast: (network | (~mask >>> 0)) >>> 0 };
}

/** The netmask of a prefix length as a 32-bit unsigned number (`/24` is 0xffffff00). */
export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}
