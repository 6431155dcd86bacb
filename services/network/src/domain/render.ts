import type { Nic } from '@stackyard/proto/inventory/v1/inventory';
import type { RenderedFile } from '@stackyard/proto/network/v1/network';
import { ValidationError } from '@stackyard/errors';
import { parseCidr } from './ipv4';
import type { NetworkData } from './network';

export interface Attachment {
  readonly network: NetworkData;
  readonly address: string;
}

export interface InterfacePlan {
  /** Device name on the host. */
  readonly device: string;
  /** Parent device for VLAN interfaces. */
  readonly parent: string | undefined;
  readonly vlan: number;
  readonly attachments: Attachment[];
  readonly mtu: number;
}

/** Resolves "{nicN}" against inspected NICs; an empty interface means the first NIC. */
export function resolveInterface(spec: string, nics: readonly Nic[]): string {
  const m = /^\{nic(\d)\}$/.exec(spec || '{nic0}');
  if (!m) return spec;
  const nic = nics[Number(m[1])];
  if (!nic) throw new ValidationError('network.interface', `${spec || '{nic0}'} refers to a NIC the host does not have (${nics.length} inspected)`);
  return nic.name;
}

/**
 * Plans interfaces: a network with a VLAN on a plain device gets a VLAN sub-interface
 * `<device>.<vlan>` whose parent is the device (Kayobe's implied VLAN parent, §3.3).
 */
export function planInterfaces(attachments: readonly Attachment[], nics: readonly Nic[]): InterfacePlan[] {
  const plans = new Map<string, InterfacePlan>();
  const ensure = (device: string, parent: string | undefined, vlan: number) => {
    let p = plans.get(device);
    if (!p) {
      p = { device, parent, vlan, attachments: [], mtu: 0 };
      plans.set(device, p);
    }
    return p;
  };
  for (const a of attachments) {
    const base = resolveInterface(a.network.interface, nics);
    const dot = base.lastIndexOf('.');
    let device = base;
    let parent: string | undefined;
    let vlan = 0;
    if (dot > 0 && /^\d+$/.test(base.slice(dot + 1))) {
      parent = base.slice(0, dot);
      vlan = Number(base.slice(dot + 1));
    } else if (a.network.vlan) {
      parent = base;
      vlan = a.network.vlan;
      device = `${base}.${vlan}`;
    }
    if (device.length > 15) throw new ValidationError('network.interface', `interface name "${device}" is longer than 15 characters`);
    if (parent) ensure(parent, undefined, 0);
    const p = ensure(device, parent, vlan);
    p.attachments.push(a);
    (p as { mtu: number }).mtu = Math.max(p.mtu, a.network.mtu);
  }
  // A parent's MTU must be at least its VLANs' MTU.
  for (const p of plans.values()) {
    if (p.parent) {
      const parent = plans.get(p.parent)!;
      (parent as { mtu: number }).mtu = Math.max(parent.mtu, p.mtu);
    }
  }
  return [...plans.values()].sort((a, b) => a.device.localeCompare(b.device));
}

/** systemd-networkd files (`<prefix><device>.network` / `.netdev`), a pure function of the plan. */
export function renderNetworkd(plans: readonly InterfacePlan[], prefix = '50-kayobe-'): RenderedFile[] {
  const files: RenderedFile[] = [];
  for (const p of plans) {
    const vlans = plans.filter((c) => c.parent === p.device).map((c) => c.device);
    if (p.parent) {
      files.push({
        path: `/etc/systemd/network/${prefix}${p.device}.netdev`,
        content: ['[NetDev]', `Name=${p.device}`, 'Kind=vlan', ...(p.mtu ? [`MTUBytes=${p.mtu}`] : []), '', '[VLAN]', `Id=${p.vlan}`, ''].join('\n'),
      });
    }
    const lines = ['[Match]', `Name=${p.device}`, '', '[Network]'];
    for (const a of p.attachments) {
      const c = parseCidr(a.network.cidr)!;
      lines.push(`Address=${a.address}/${c.prefix}`);
      if (a.network.gateway) lines.push(`Gateway=${a.network.gateway}`);
    }
    for (const v of vlans) lines.push(`VLAN=${v}`);
    if (p.attachments.length === 0) lines.push('LinkLocalAddressing=no');
    if (p.mtu) lines.push('', '[Link]', `MTUBytes=${p.mtu}`);
    lines.push('');
    files.push({ path: `/etc/systemd/network/${prefix}${p.device}.network`, content: lines.join('\n') });
  }
  return files;
}
