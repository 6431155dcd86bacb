/**
 * Port VLAN membership derived from cabling: each switch port carries the networks of the host
 * it is cabled to (native = untagged, tagged = trunked).
 */
import { ValidationError } from '@stackyard/errors';
import type { HostNetworkAttachment, PortVlanMap, PortVlans, VlanRef } from './types';
import { naturalCompare } from './natural';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * @param ports port (interface name) -> host name, for one switch
 * @param hosts host name -> its networks as seen on the cabled NIC
 * Fails (ValidationError) on unknown hosts, bad VLAN ids, a VLAN id used by two networks or a
 * network on two VLAN ids, two native VLANs on one host, a VLAN both native and tagged, and
 * port names that differ only in case.
 */
export function derivePortVlans(ports: Readonly<Record<string, string>>, hosts: Readonly<Record<string, readonly HostNetworkAttachment[]>>): PortVlanMap {
  const byVlan = new Map<number, { network: string; field: string }>();
  const byNetwork = new Map<string, { vlan: number; field: string }>();
  const perHost = new Map<string, { native: VlanRef | null; tagged: VlanRef[] }>();
  for (const host of Object.keys(hosts).sort(naturalCompare)) {
    const list = hosts[host];
    if (!Array.isArray(list)) throw new ValidationError(`hosts.${host}`, 'must be a list of {network, vlan, mode}');
    let native: VlanRef | null = null;
    const tagged: VlanRef[] = [];
    const seenOnHost = new Map<number, string>();
    list.forEach((a: unknown, i) => {
      const f = `hosts.${host}[${i}]`;
      if (!isRecord(a)) throw new ValidationError(f, 'must be an object {network, vlan, mode}');
      const network = a['network'];
      const vlan = a['vlan'];
      const mode = a['mode'];
      if (typeof network !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(network)) throw new ValidationError(`${f}.network`, 'must be a network name');
      if (typeof vlan !== 'number' || !Number.isInteger(vlan) || vlan < 1 || vlan > 4094) throw new ValidationError(`${f}.vlan`, 'must be an integer VLAN id between 1 and 4094');
      if (mode !== 'tagged' && mode !== 'native') throw new ValidationError(`${f}.mode`, 'must be tagged or native');
      const v = byVlan.get(vlan);
      if (v !== undefined && v.network !== network) throw new ValidationError(`${f}.vlan`, `VLAN ${vlan} is already network "${v.network}" (${v.field})`);
      const n = byNetwork.get(network);
      if (n !== undefined && n.vlan !== vlan) throw new ValidationError(`${f}.vlan`, `network "${network}" is already VLAN ${n.vlan} (${n.field})`);
      byVlan.set(vlan, { network, field: f });
      byNetwork.set(network, { vlan, field: f });
      const prior = seenOnHost.get(vlan);
      if (prior !== undefined && prior !== mode) throw new ValidationError(`${f}.mode`, `VLAN ${vlan} is both native and tagged on host "${host}"`);
      if (prior !== undefined) return; // duplicate entry, same meaning
      seenOnHost.set(vlan, mode);
      if (mode === 'native') {
        if (native !== null) throw new ValidationError(`${f}.mode`, `host "${host}" already has native VLAN ${native.vlan} (${native.network})`);
        native = { network, vlan };
      } else {
        tagged.push({ network, vlan });
      }
    });
    tagged.sort((x, y) => x.vlan - y.vlan);
    perHost.set(host, { native, tagged });
  }
  const out: Record<string, PortVlans> = {};
  const seenPorts = new Map<string, string>();
  for (const port of Object.keys(ports).sort(naturalCompare)) {
    const f = `ports.${port}`;
    const other = seenPorts.get(port.toLowerCase());
    if (other !== undefined) throw new ValidationError(f, `conflicts with port "${other}": names differ only in case`);
    seenPorts.set(port.toLowerCase(), port);
    const host = ports[port];
    if (typeof host !== 'string' || host === '') throw new ValidationError(f, 'must name the cabled host');
    const m = perHost.get(host);
    if (m === undefined) throw new ValidationError(f, `is cabled to unknown host "${host}"`);
    out[port] = { host, native: m.native, tagged: m.tagged };
  }
  return out;
}
