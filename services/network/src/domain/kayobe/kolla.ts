/**
 * Kolla-Ansible host variables derived from networks (reference/kayobe.md §3.8, tests §4.5): Kayobe's
 * `kolla_ansible_host_vars` action plugin and the interface list `ansible/kolla-ansible.yml` feeds it.
 */
import { netInterface, netParent, netPhysicalNetwork, netSelectBridges, netVlan, type KayobeHost } from './attributes';
import { KayobeConfigError } from './errors';
import { patchName } from './ovs';

export interface KollaInterfaceSpec {
  readonly var_name: string;
  readonly description: string;
  /** A role's network name; null when the role maps to no network (e.g. Ironic disabled). */
  readonly network: string | null;
  readonly required: boolean;
}

export interface KollaExternalNetworkSpec {
  readonly network: string | null;
  readonly required: boolean;
}

export type KollaHostVarsResult =
  | { readonly changed: false; readonly kolla_ansible_host_vars: Readonly<Record<string, string>> }
  | { readonly changed: false; readonly failed: true; readonly msg: string };

/**
 * The action plugin: for each interface spec, the network's interface if the network is in the
 * host's `network_interfaces`; for the external networks, Neutron's bridge names, external interfaces
 * (a veth `p-<iface>-ovs` when the interface is a bridge network) and physical networks. Every error is
 * collected and the messages joined with "; ", as Kayobe does.
 */
export function kollaAnsibleHostVars(
  host: KayobeHost,
  networkInterfaces: readonly string[],
  interfaces: readonly KollaInterfaceSpec[],
  externalNetworks: readonly KollaExternalNetworkSpec[] = [],
): KollaHostVarsResult {
  const facts: Record<string, string> = {};
  const errors: string[] = [];
  const mapped = (n: string | null): n is string => n !== null && networkInterfaces.includes(n);

  for (const spec of interfaces) {
    if (mapped(spec.network)) {
      const iface = netInterface(host, spec.network);
      if (spec.required && !iface) {
        errors.push(`Required network '${spec.network}' (${spec.description}) does not have an interface configured for this host`);
      } else if (iface) {
        facts[spec.var_name] = iface;
      }
    } else if (spec.required) {
      errors.push(`Required network '${spec.network ?? 'None'}' (${spec.description}) is not mapped to this host`);
    }
  }

  const externalInterfaces = new Map<string, string[]>();
  for (const spec of externalNetworks) {
    if (!mapped(spec.network)) {
      if (spec.required) errors.push(`Required external network '${spec.network ?? 'None'}' is not mapped to this host`);
      continue;
    }
    let iface = netInterface(host, spec.network);
    if (!iface) {
      if (spec.required) errors.push(`Required external network '${spec.network}' does not have an interface configured for this host`);
      continue;
    }
    const vlan = netVlan(host, spec.network);
    const parent = netParent(host, spec.network);
    if (vlan && parent) iface = parent;
    else if (vlan && iface.endsWith(`.${vlan}`)) iface = iface.split(`.${vlan}`).join('');
    const nets = externalInterfaces.get(iface) ?? [];
    if (!nets.includes(spec.network)) nets.push(spec.network);
    externalInterfaces.set(iface, nets);
  }

  if (externalInterfaces.size > 0) {
    const r = externalInterfaceFacts(host, networkInterfaces, externalInterfaces);
    if (typeof r === 'string') errors.push(r);
    else Object.assign(facts, r);
  }

  return errors.length > 0 ? { changed: false, failed: true, msg: errors.join('; ') } : { changed: false, kolla_ansible_host_vars: facts };
}

function externalInterfaceFacts(host: KayobeHost, networkInterfaces: readonly string[], external: Map<string, string[]>): Record<string, string> | string {
  const v = host.vars;
  const bridgeInterfaces = netSelectBridges(host, networkInterfaces).map((n) => netInterface(host, n));
  const bridgeNames: string[] = [];
  const externalIfaces: string[] = [];
  const physnets: string[] = [];
  const missing: string[] = [];
  for (const [iface, nets] of external) {
    bridgeNames.push(iface + v.network_bridge_suffix_ovs);
    externalIfaces.push(bridgeInterfaces.includes(iface) ? patchName(iface, v.network_patch_prefix, v.network_patch_suffix_ovs) : iface);
    const ifacePhysnets: string[] = [];
    for (const n of nets) {
      const p = netPhysicalNetwork(host, n);
      if (p && !ifacePhysnets.includes(p)) ifacePhysnets.push(p);
    }
    if (ifacePhysnets.length > 1) {
      return `Inconsistent 'physical_network' attributes for external networks ${nets.join(', ')} using interface ${iface}: ${ifacePhysnets.join(', ')}`;
    }
    if (ifacePhysnets.length > 0) physnets.push(...ifacePhysnets);
    else missing.push(...nets);
  }
  const facts: Record<string, string> = {
    kolla_neutron_bridge_names: bridgeNames.join(','),
    kolla_neutron_external_interfaces: externalIfaces.join(','),
  };
  if (physnets.length > 0) {
    if (missing.length > 0) return `Some external networks have a 'physical_network' attribute defined but the following do not: ${missing.join(', ')}`;
    facts['kolla_neutron_physical_networks'] = physnets.join(',');
  }
  return facts;
}

/** The network role names (§2.5) the Kolla host variables are drawn from. */
export interface KollaNetworkRoles {
  readonly internal_net_name: string | null;
  readonly storage_net_name: string | null;
  readonly storage_mgmt_net_name: string | null;
  readonly swift_storage_net_name: string | null;
  readonly swift_storage_replication_net_name: string | null;
  readonly provision_wl_net_name: string | null;
  readonly cleaning_net_name: string | null;
  readonly inspection_net_name: string | null;
  readonly public_net_name: string | null;
  readonly tunnel_net_name: string | null;
  readonly external_net_names: readonly string[];
}

export interface KollaHostFlags {
  readonly kollaEnableIronic: boolean;
  readonly kollaEnableNeutron: boolean;
  readonly kollaEnableNeutronProviderNetworks: boolean;
  /** Host groups (controllers, network, compute...). */
  readonly groups: readonly string[];
}

/** The interface list of Kayobe's "Generate Kolla Ansible host vars for overcloud hosts" play. */
export function overcloudInterfaceSpecs(roles: KollaNetworkRoles, flags: KollaHostFlags): { interfaces: KollaInterfaceSpec[]; externalNetworks: KollaExternalNetworkSpec[] } {
  const inControllers = flags.groups.includes('controllers');
  const ironicRequired = flags.kollaEnableIronic && inControllers;
  const providerRequired =
    flags.kollaEnableNeutron && (flags.groups.includes('network') || (flags.kollaEnableNeutronProviderNetworks && flags.groups.includes('compute')));
  const spec = (var_name: string, description: string, network: string | null, required: boolean): KollaInterfaceSpec => ({ var_name, description, network, required });
  return {
    interfaces: [
      spec('kolla_network_interface', 'Default network', roles.internal_net_name, true),
      spec('kolla_api_interface', 'API network', roles.internal_net_name, true),
      spec('kolla_storage_interface', 'Storage network', roles.storage_net_name, false),
      spec('kolla_cluster_interface', 'Cluster network', roles.storage_mgmt_net_name, false),
      spec('kolla_swift_storage_interface', 'Swift storage network', roles.swift_storage_net_name, false),
      spec('kolla_swift_replication_interface', 'Swift storage replication network', roles.swift_storage_replication_net_name, false),
      spec('kolla_provision_interface', 'Bare metal provisioning network', roles.provision_wl_net_name, ironicRequired),
      spec('kolla_inspector_dnsmasq_interface', 'Bare metal introspection network', roles.inspection_net_name, ironicRequired),
      spec('kolla_dns_interface', 'DNS network', roles.public_net_name, false),
      spec('kolla_tunnel_interface', 'Tunnel network', roles.tunnel_net_name, false),
      spec('kolla_external_vip_interface', 'External network', roles.public_net_name, flags.groups.includes('network')),
    ],
    externalNetworks: [
      { network: roles.provision_wl_net_name, required: ironicRequired },
      { network: roles.cleaning_net_name, required: ironicRequired },
      ...unique(roles.external_net_names).map((network) => ({ network, required: providerRequired })),
    ],
  };
}

/** Kayobe's default `kolla_overcloud_inventory_pass_through_host_vars_map` for the network variables. */
export const KOLLA_HOST_VAR_NAMES: Readonly<Record<string, string>> = {
  kolla_network_interface: 'network_interface',
  kolla_api_interface: 'api_interface',
  kolla_storage_interface: 'storage_interface',
  kolla_cluster_interface: 'cluster_interface',
  kolla_swift_storage_interface: 'swift_storage_interface',
  kolla_swift_replication_interface: 'swift_replication_interface',
  kolla_provision_interface: 'provision_interface',
  kolla_inspector_dnsmasq_interface: 'ironic_dnsmasq_interface',
  kolla_dns_interface: 'dns_interface',
  kolla_tunnel_interface: 'tunnel_interface',
  kolla_external_vip_interface: 'kolla_external_vip_interface',
  kolla_neutron_external_interfaces: 'neutron_external_interface',
  kolla_neutron_bridge_names: 'neutron_bridge_name',
  kolla_neutron_physical_networks: 'neutron_physical_networks',
};

/**
 * The overcloud host's Kolla-Ansible network host variables under Kolla's names (`network_interface`,
 * `api_interface`, `neutron_external_interface`, ...), or a KayobeConfigError (field
 * `network_interfaces`) carrying Kayobe's joined message.
 */
export function kollaNetworkHostVars(host: KayobeHost, networkInterfaces: readonly string[], roles: KollaNetworkRoles, flags: KollaHostFlags): Record<string, string> {
  const { interfaces, externalNetworks } = overcloudInterfaceSpecs(roles, flags);
  const r = kollaAnsibleHostVars(host, networkInterfaces, interfaces, externalNetworks);
  if ('failed' in r) throw new KayobeConfigError('network_interfaces', r.msg);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.kolla_ansible_host_vars)) out[KOLLA_HOST_VAR_NAMES[k] ?? k] = v;
  return out;
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}
