/**
 * Which host NIC is cabled to which switch port (the LLDP neighbour inspection reported on the NIC),
 * and which of the host's networks that NIC carries: the input of derivePortVlans.
 *
 * A host carries the site's networks whose groups it is in (as the network step configures them).
 * A network reaches NICs through its resolved interface: the NIC itself, the parent of a VLAN
 * interface (`eno1.20`, `kayobe.parent`), or the slaves/ports of a bond or bridge (one level deep,
 * through the host's other networks' bonds and bridges too). Its membership on those ports:
 * - tagged: a VLAN interface (the network's `vlan` on a plain device, a dotted name, or a parent);
 * - native: the network's `vlan` on a bond or bridge device that is not itself a VLAN interface;
 * - none: no VLAN id known (an untagged network): noted, nothing derived.
 */
import type { Nic } from '@stackyard/proto/inventory/v1/inventory';
import { VLAN_INTERFACE_NAME } from '../kayobe/attributes';
import type { NetworkData } from '../network';
import { resolveInterface } from '../render';
import { naturalCompare } from './natural';
import type { HostNetworkAttachment, SwitchInventory } from './types';

export interface CabledHost {
  readonly name: string;
  readonly groups: readonly string[];
  /** Inspected NICs with their LLDP neighbour (`lldpSwitch`, `lldpPort`; empty when unknown). */
  readonly nics: readonly Nic[];
}

export interface PortCabling {
  readonly host: string;
  readonly nic: string;
}

export interface Cabling {
  /** Switch name -> port -> the key of `attachments` cabled to it (`<host>/<nic>`). */
  readonly ports: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** `<host>/<nic>` -> the networks that NIC carries. */
  readonly attachments: Readonly<Record<string, readonly HostNetworkAttachment[]>>;
  /** `<host>/<nic>` -> host and NIC. */
  readonly cabled: Readonly<Record<string, PortCabling>>;
  /** What could not be placed on a port, and why; sorted. */
  readonly notes: readonly string[];
}

interface Reach {
  readonly nics: readonly string[];
  readonly attachment: HostNetworkAttachment | null;
  readonly note?: string;
}

function reachOf(n: NetworkData, nics: readonly Nic[], members: ReadonlyMap<string, readonly string[]>): Reach {
  const k = n.kayobe ?? {};
  const base = resolveInterface(n.interface, nics);
  const resolve = (spec: string, field: string) => resolveInterface(spec, nics, field);
  const expand = (dev: string): string[] => [...(members.get(dev) ?? [dev])];
  const plain = !k.parent && k.bridge_ports === undefined && k.bond_slaves === undefined;
  const dotted = VLAN_INTERFACE_NAME.test(base) ? Number(base.slice(base.lastIndexOf('.') + 1)) : 0;
  const vlan = n.vlan || dotted;
  if (k.parent || dotted) {
    const parent = k.parent ? resolve(k.parent, 'network.kayobe.parent') : base.slice(0, base.lastIndexOf('.'));
    return { nics: expand(parent), attachment: vlan ? { network: n.name, vlan, mode: 'tagged' } : null };
  }
  if (plain) {
    if (!n.vlan) return { nics: [], attachment: null, note: `network ${n.name} has no VLAN id: it is not placed on switch ports` };
    return { nics: expand(base), attachment: { network: n.name, vlan: n.vlan, mode: 'tagged' } };
  }
  const ports = k.bond_slaves?.map((p, i) => resolve(p, `network.kayobe.bond.slaves[${i}]`)) ?? k.bridge_ports?.map((p, i) => resolve(p, `network.kayobe.bridge.ports[${i}]`)) ?? [];
  if (!n.vlan) return { nics: [], attachment: null, note: `network ${n.name} has no VLAN id: it is not placed on switch ports` };
  return { nics: ports.flatMap(expand), attachment: { network: n.name, vlan: n.vlan, mode: 'native' } };
}

/** The device a bond or bridge network defines -> its member devices (for VLANs on top of it). */
function memberMap(nets: readonly NetworkData[], nics: readonly Nic[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of nets) {
    const k = n.kayobe ?? {};
    const list = k.bond_slaves ?? k.bridge_ports;
    if (list === undefined) continue;
    try {
      out.set(resolveInterface(n.interface, nics), list.map((p) => resolveInterface(p, nics)));
    } catch {
      // reported when the network itself is placed
    }
  }
  // One more level: a bridge over a bond.
  for (const [dev, ms] of out) out.set(dev, ms.flatMap((m) => out.get(m) ?? [m]));
  return out;
}

/** Matches an LLDP system name to an inventory switch: the same name, or its first DNS label. */
function switchFor(lldp: string, names: ReadonlyMap<string, string>): string | undefined {
  return names.get(lldp.toLowerCase()) ?? names.get(lldp.split('.')[0]!.toLowerCase());
}

export function deriveCabling(inventory: SwitchInventory, hosts: readonly CabledHost[], networks: readonly NetworkData[]): Cabling {
  const names = new Map(inventory.switches.map((s) => [s.name.toLowerCase(), s.name]));
  /** Port names as the inventory spells them (LLDP may differ in case). */
  const spelled = new Map(inventory.switches.map((s) => [s.name, new Map(Object.keys(s.switch_interface_config).map((i) => [i.toLowerCase(), i]))]));
  const notes = new Set<string>();
  const attachments: Record<string, HostNetworkAttachment[]> = {};
  const cabled: Record<string, PortCabling> = {};
  const claims = new Map<string, string[]>(); // `${switch}\0${port}` -> keys
  for (const h of [...hosts].sort((a, b) => naturalCompare(a.name, b.name))) {
    const nets = networks.filter((n) => n.groups.some((g) => h.groups.includes(g))).sort((a, b) => naturalCompare(a.name, b.name));
    const members = memberMap(nets, h.nics);
    const perNic = new Map<string, HostNetworkAttachment[]>();
    for (const n of nets) {
      let r: Reach;
      try {
        r = reachOf(n, h.nics, members);
      } catch (e) {
        notes.add(`host ${h.name}: network ${n.name}: ${(e as Error).message}`);
        continue;
      }
      if (r.note) notes.add(`host ${h.name}: ${r.note}`);
      if (r.attachment === null) continue;
      for (const nic of r.nics) {
        const list = perNic.get(nic) ?? [];
        list.push(r.attachment);
        perNic.set(nic, list);
      }
    }
    for (const [nicName, list] of perNic) {
      const nic = h.nics.find((x) => x.name === nicName);
      if (!nic) {
        notes.add(`host ${h.name}: ${nicName} is not an inspected NIC: its networks are not placed on switch ports`);
        continue;
      }
      if (!nic.lldpSwitch || !nic.lldpPort) {
        notes.add(`host ${h.name}: NIC ${nicName} has no LLDP neighbour: its networks are not placed on switch ports`);
        continue;
      }
      const sw = switchFor(nic.lldpSwitch, names);
      if (sw === undefined) {
        notes.add(`host ${h.name}: NIC ${nicName} is cabled to ${nic.lldpSwitch}, which is not in the switch inventory`);
        continue;
      }
      const port = spelled.get(sw)?.get(nic.lldpPort.toLowerCase()) ?? nic.lldpPort;
      const key = `${h.name}/${nicName}`;
      attachments[key] = list;
      cabled[key] = { host: h.name, nic: nicName };
      const c = `${sw}\0${port}`;
      claims.set(c, [...(claims.get(c) ?? []), key]);
    }
  }
  const ports: Record<string, Record<string, string>> = {};
  for (const [c, keys] of claims) {
    const [sw, port] = c.split('\0') as [string, string];
    if (keys.length > 1) {
      notes.add(`switch ${sw} port ${port} is reported by ${keys.join(', ')}: left out (fix the cabling or the LLDP facts)`);
      continue;
    }
    (ports[sw] ??= {})[port] = keys[0]!;
  }
  return { ports, attachments, cabled, notes: [...notes].sort() };
}
