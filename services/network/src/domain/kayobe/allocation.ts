/**
 * Kayobe's IP allocation (reference/kayobe.md §3.9, `ip_allocation.py` `update_allocation`) as a pure
 * function over the contents of `network-allocation.yml`, plus that file's parser and writer.
 */
import { parse, stringify } from 'yaml';
import { formatIp, parseCidrLoose, parseIp } from '../ipv4';
import { KayobeConfigError } from './errors';

/** `network-allocation.yml`: `<net>_ips` → host name → address. */
export type AllocationFile = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface AllocationRequest {
  readonly net: string;
  readonly hostname: string;
  readonly cidr: string;
  readonly allocationPoolStart?: string | null;
  readonly allocationPoolEnd?: string | null;
}

export interface AllocationResult {
  readonly changed: boolean;
  readonly ip: string;
  /** The whole file after the allocation (unchanged if `changed` is false). */
  readonly allocations: AllocationFile;
}

/**
 * Allocates `hostname` an address on `net`: validates every existing entry of the network against the
 * cidr, keeps an existing address, else takes the lowest free address of the pool (both pool ends
 * set) or of the subnet minus its network and broadcast addresses (except /32).
 */
export function ipAllocation(file: AllocationFile, req: AllocationRequest): AllocationResult {
  const key = `${req.net}_ips`;
  const cidr = parseCidrLoose(req.cidr);
  if (!cidr) throw new KayobeConfigError(`${req.net}_cidr`, `Failed to allocate IP address: AddrFormatError('invalid IPNetwork ${req.cidr}')`);
  const existing = file[key] ?? {};
  const invalid = Object.entries(existing).filter(([, ip]) => {
    const n = parseIp(String(ip));
    return n === undefined || n < cidr.network || n > cidr.broadcast;
  });
  if (invalid.length > 0) {
    throw new KayobeConfigError(key, `Found invalid existing allocations in network ${req.cidr}: ${invalid.map(([h, ip]) => `${h}: ${String(ip)}`).join(', ')}`);
  }
  const mine = existing[req.hostname];
  if (mine !== undefined) return { changed: false, ip: mine, allocations: file };

  let first: number;
  let last: number;
  if (req.allocationPoolStart && req.allocationPoolEnd) {
    const s = parseIp(req.allocationPoolStart);
    const e = parseIp(req.allocationPoolEnd);
    if (s === undefined || e === undefined) {
      throw new KayobeConfigError(`${req.net}_allocation_pool_start`, `Failed to allocate IP address: invalid pool ${req.allocationPoolStart} - ${req.allocationPoolEnd}`);
    }
    if (s > e) throw new KayobeConfigError(`${req.net}_allocation_pool_end`, `Failed to allocate IP address: lower bound IP greater than upper bound!`);
    first = s;
    last = e;
  } else if (cidr.prefix === 32) {
    first = last = cidr.network;
  } else {
    first = cidr.network + 1;
    last = cidr.broadcast - 1;
  }
  const taken = new Set(Object.values(existing).map((ip) => parseIp(String(ip))));
  for (let ip = first; ip <= last; ip++) {
    if (taken.has(ip)) continue;
    const address = formatIp(ip);
    return { changed: true, ip: address, allocations: { ...file, [key]: { ...existing, [req.hostname]: address } } };
  }
  throw new KayobeConfigError(key, `No unallocated IP addresses for ${req.hostname} in ${req.net}`);
}

/** Reads `network-allocation.yml`: empty is `{}`; anything but a map of `<net>_ips` maps is an error. */
export function parseAllocationFile(text: string, path = 'network-allocation.yml'): AllocationFile {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    throw new KayobeConfigError('network-allocation.yml', `Failed to parse allocation file ${path} as YAML`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new KayobeConfigError('network-allocation.yml', `${path} must be a mapping of <network>_ips entries`);
  const out: Record<string, Record<string, string>> = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (v === null || v === undefined) {
      out[k] = {};
      continue;
    }
    if (typeof v !== 'object' || Array.isArray(v)) throw new KayobeConfigError(k, `${k} in ${path} must map host names to addresses`);
    out[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([h, ip]) => [h, String(ip)]));
  }
  return out;
}

/** Writes the file as Kayobe does (PyYAML `dump(default_flow_style=False)`): block style, keys sorted. */
export function exportAllocationFile(file: AllocationFile): string {
  if (Object.keys(file).length === 0) return '{}\n';
  return stringify(file, { sortMapEntries: true });
}
