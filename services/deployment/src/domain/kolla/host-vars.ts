import { ValidationError } from '@stackyard/errors';
import { yamlValue } from './globals';

/** A network attached to the host: its interface there (§3.1 `net_interface`). */
export interface HostNetwork {
  readonly interface: string;
  /** The interface is a Linux bridge (then Kayobe adds a veth pair `p-<iface[:9]>-ovs`). */
  readonly bridge?: boolean;
  /** VLAN parent of the interface, when it is a VLAN (else `<name>.<vlan>` is stripped). */
  readonly parent?: string;
  readonly physicalNetwork?: string;
}

/** Kayobe's network roles (`<role>_net_name`), §2.5. */
export interface NetworkRoles {
  readonly internal: string;
  readonly public?: string;
  readonly storage?: string;
  readonly storageMgmt?: string;
  readonly tunnel?: string;
  readonly provisionWl?: string;
  readonly inspection?: string;
  /** `external_net_names`. */
  readonly external?: readonly string[];
}

export interface HostVarsInput {
  /** The host's Kolla inventory groups (`kollaGroupsOf`). */
  readonly kollaGroups: ReadonlySet<string>;
  readonly roles: NetworkRoles;
  /** Networks attached to the host, by name. */
  readonly networks: Readonly<Record<string, HostNetwork>>;
  readonly ironicEnabled?: boolean;
  /** Compute hosts get the external networks too when provider networks are enabled. */
  readonly providerNetworks?: boolean;
  /** Pass-through values, e.g. `ansible_host`, `kolla_container_engine`. */
  readonly passThrough?: Readonly<Record<string, string>>;
}

const DESC: Record<string, string> = {
  internal: 'internal network',
  public: 'public network',
  provisionWl: 'workload provisioning network',
  inspection: 'workload inspection network',
};

/**
 * The network-derived Kolla host variables of one overcloud host (reference/kayobe.md §3.8, Kayobe's
 * `kolla_ansible_host_vars` action plugin). All problems are reported together, joined with "; ".
 */
export function kollaHostVars(input: HostVarsInput): Record<string, string> {
  const { roles, networks, kollaGroups } = input;
  const errors: string[] = [];
  const out: Record<string, string> = { ...input.passThrough };
  const iface = (role: keyof typeof DESC | 'storage' | 'storageMgmt' | 'tunnel', required: boolean): string | undefined => {
    const net = roles[role as keyof NetworkRoles] as string | undefined;
    if (!net) return undefined;
    const n = networks[net];
    if (!n) {
      if (required) errors.push(`Required network '${net}' (${DESC[role] ?? role}) is not mapped to this host`);
      return undefined;
    }
    if (!n.interface) {
      if (required) errors.push(`Required network '${net}' (${DESC[role] ?? role}) does not have an interface configured for this host`);
      return undefined;
    }
    return n.interface;
  };
  const set = (k: string, v: string | undefined) => {
    if (v) out[k] = v;
  };
  const internal = iface('internal', true);
  set('network_interface', internal);
  set('api_interface', internal);
  set('storage_interface', iface('storage', false));
  set('cluster_interface', iface('storageMgmt', false));
  const ironicConductor = input.ironicEnabled === true && kollaGroups.has('ironic-conductor');
  set('provision_interface', iface('provisionWl', ironicConductor));
  set('ironic_dnsmasq_interface', iface('inspection', ironicConductor));
  set('dns_interface', iface('public', false));
  set('tunnel_interface', iface('tunnel', false));
  set('kolla_external_vip_interface', iface('public', kollaGroups.has('loadbalancer')));

  const wantsExternal = kollaGroups.has('network') || (input.providerNetworks === true && kollaGroups.has('compute'));
  if (wantsExternal) {
    const nets = [...(ironicConductor && roles.provisionWl ? [roles.provisionWl] : []), ...(roles.external ?? [])];
    const ifaces: string[] = [];
    const physnets = new Map<string, string | undefined>();
    for (const net of [...new Set(nets)]) {
      const n = networks[net];
      if (!n) {
        errors.push(`Required external network '${net}' is not mapped to this host`);
        continue;
      }
      if (!n.interface) {
        errors.push(`Required external network '${net}' does not have an interface configured for this host`);
        continue;
      }
      const parent = n.parent ?? n.interface.replace(/\.\d+$/, '');
      if (!ifaces.includes(parent)) ifaces.push(parent);
      if (physnets.has(parent) && physnets.get(parent) !== n.physicalNetwork) {
        errors.push(`Inconsistent 'physical_network' attributes for external networks using interface ${parent}`);
      }
      physnets.set(parent, n.physicalNetwork);
    }
    const withPhys = nets.filter((n) => networks[n]?.physicalNetwork);
    if (withPhys.length && withPhys.length < nets.length) {
      errors.push(`Some external networks have a 'physical_network' attribute defined but the following do not: ${nets.filter((n) => !networks[n]?.physicalNetwork).join(', ')}`);
    }
    if (ifaces.length) {
      const isBridge = (i: string) => Object.values(networks).some((n) => n.interface === i && n.bridge);
      out.neutron_bridge_name = ifaces.map((i) => `${i}-ovs`).join(',');
      out.neutron_external_interface = ifaces.map((i) => (isBridge(i) ? `p-${i.slice(0, 9)}-ovs` : i)).join(',');
      if (withPhys.length) out.neutron_physical_networks = ifaces.map((i) => physnets.get(i) ?? '').join(',');
    }
  }
  if (errors.length) throw new ValidationError('host_vars', errors.join('; '));
  return out;
}

/** `inventory/overcloud/host_vars/<host>`: keys sorted, strings quoted. Byte-stable. */
export function renderHostVars(vars: Readonly<Record<string, string>>): string {
  return `---\n${Object.keys(vars)
    .sort()
    .map((k) => `${k}: ${yamlValue(vars[k])}\n`)
    .join('')}`;
}
