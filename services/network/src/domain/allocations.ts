/**
 * `network-allocation.yml` import and export over a site's allocations (reference/kayobe.md §3.9:
 * "allocation files are routinely pre-seeded and version-controlled"). Pure: the caller reads the
 * current allocations and writes the plan.
 */
import { AlreadyExistsError, ValidationError } from '@stackyard/errors';
import { assertToken } from '@stackyard/events';
import { formatIp, hostRange, parseCidr, parseIp } from './ipv4';
import { exportAllocationFile, parseAllocationFile, type AllocationFile } from './kayobe/allocation';
import { allocatesAddresses, networkIssues, type NetworkData } from './network';

/** One address held by one host on one network of a site. */
export interface SiteAllocation {
  readonly network: string;
  readonly hostId: string;
  readonly hostName: string;
  readonly address: number;
}

/** Inventory's host id rule (`<site>-<name>`), so entries for hosts not registered yet match them later. */
export function hostIdOf(siteId: string, hostName: string): string {
  return `${siteId}-${hostName}`;
}

/** A host's name from an allocation: the stored name, else its id without the `<site>-` prefix. */
export function hostNameOf(siteId: string, a: { hostId: string; hostName?: string | undefined }): string {
  if (a.hostName) return a.hostName;
  return a.hostId.startsWith(`${siteId}-`) ? a.hostId.slice(siteId.length + 1) : a.hostId;
}

/** The site's allocations in Kayobe's format: `<network>_ips: {<host name>: <address>}`, sorted. */
export function exportAllocations(allocations: readonly SiteAllocation[]): string {
  const file: Record<string, Record<string, string>> = {};
  for (const a of allocations) (file[`${a.network}_ips`] ??= {})[a.hostName] = formatIp(a.address);
  return exportAllocationFile(file);
}

export interface ImportPlan {
  /** Entries to write, in file order. */
  readonly insert: readonly SiteAllocation[];
  /** Entries already held with the same address. */
  readonly unchanged: readonly SiteAllocation[];
}

/**
 * Checks a whole file before anything is written:
 * - YAML and shape (Kayobe's parser), every key `<network>_ips` of a network of the site that allocates
 *   addresses, host names as subject tokens;
 * - every address a host address of the network's cidr, not the gateway, the VIP or inside the
 *   inspection or Neutron pools, not given twice (the network's Kayobe validation over the merged map);
 * - against the current allocations: an address held by another host, or a host holding another
 *   address, is a conflict.
 * Content errors are a ValidationError naming `yaml.<key>[.<host>]`; conflicts are one
 * AlreadyExistsError listing them all. Entries outside the host pool are allowed (static addresses).
 */
export function planImport(siteId: string, text: string, networks: readonly NetworkData[], current: readonly SiteAllocation[]): ImportPlan {
  let file: AllocationFile;
  try {
    file = parseAllocationFile(text);
  } catch (e) {
    throw new ValidationError('yaml', (e as Error).message.replace(/^[^:]*: /, ''));
  }
  const insert: SiteAllocation[] = [];
  const unchanged: SiteAllocation[] = [];
  const conflicts: string[] = [];
  for (const [key, entries] of Object.entries(file)) {
    const name = key.endsWith('_ips') ? key.slice(0, -'_ips'.length) : undefined;
    const n = networks.find((x) => x.name === name);
    if (!n) throw new ValidationError(`yaml.${key}`, name === undefined ? 'keys must be <network>_ips' : `site ${siteId} has no network ${name}`);
    if (!allocatesAddresses(n)) throw new ValidationError(`yaml.${key}`, `network ${n.name} allocates no addresses (no cidr, no_ip or DHCP)`);
    const cidr = parseCidr(n.cidr)!;
    const range = hostRange(cidr);
    const held = current.filter((a) => a.network === n.name);
    const merged: Record<string, string> = Object.fromEntries(held.map((a) => [a.hostName, formatIp(a.address)]));
    for (const [host, ip] of Object.entries(entries)) {
      const field = `yaml.${key}.${host}`;
      assertToken(field, host);
      const address = parseIp(ip);
      if (address === undefined) throw new ValidationError(field, `"${ip}" is not an IPv4 address`);
      if (address < range.first || address > range.last) throw new ValidationError(field, `${ip} is not a host address of ${n.cidr}`);
      for (const pool of ['inspection_allocation_pool', 'neutron_allocation_pool'] as const) {
        const s = parseIp(n.kayobe?.[`${pool}_start`] ?? '');
        const e = parseIp(n.kayobe?.[`${pool}_end`] ?? '');
        if (s !== undefined && e !== undefined && address >= s && address <= e) throw new ValidationError(field, `${ip} is inside ${n.name}'s ${pool.replace(/_/g, ' ')}`);
      }
      const entry: SiteAllocation = { network: n.name, hostId: hostIdOf(siteId, host), hostName: host, address };
      const mine = held.find((a) => a.hostId === entry.hostId);
      const owner = held.find((a) => a.address === address);
      if (mine && mine.address === address) {
        unchanged.push(entry);
      } else if (mine) {
        conflicts.push(`${key}: ${host} already holds ${formatIp(mine.address)}, not ${ip}`);
        continue;
      } else if (owner) {
        conflicts.push(`${key}: ${ip} for ${host} is held by ${owner.hostName}`);
        continue;
      } else {
        insert.push(entry);
      }
      merged[host] = ip;
    }
    // Kayobe's own checks over the merged map: duplicates, gateway, VIP, cidr.
    const problem = networkIssues(n, merged).find((i) => i.severity === 'error' && i.field === 'allocations');
    if (problem) throw new ValidationError(`yaml.${key}`, problem.message);
  }
  if (conflicts.length > 0) throw new AlreadyExistsError('allocation', conflicts.join('; '));
  return { insert, unchanged };
}
