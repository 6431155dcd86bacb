/**
 * Network roles (reference/kayobe.md §2.5) resolved from a site's networks, and the Kolla-Ansible host
 * variables they yield for one host (§3.8).
 */
import type { KayobeHost } from './kayobe/attributes';
import { kollaAnsibleHostVars, KOLLA_HOST_VAR_NAMES, overcloudInterfaceSpecs, type KollaHostFlags, type KollaNetworkRoles } from './kayobe/kolla';
import type { NetworkData, NetworkRole } from './network';

/** Roles and the network playing them; `external_net_names` may hold several. */
export interface SiteRoles extends KollaNetworkRoles {
  readonly admin_oc_net_name: string | null;
  readonly provision_oc_net_name: string | null;
}

/**
 * Who plays each role: the network listing it in `kayobe.roles`, else the network named `<role>` or
 * `<role>_net` (Kayobe's default names, §2.5), else Kayobe's fallbacks: `admin_oc` → provision_oc,
 * `public` → the first external network, `tunnel` → internal, `swift_storage` → storage,
 * `swift_storage_replication` → storage_mgmt, `cleaning` → provision_wl. Ironic is not modelled, so
 * `provision_wl`, `cleaning` and `inspection` are taken only from explicit roles.
 */
export function siteRoles(networks: readonly NetworkData[]): SiteRoles {
  const byRole = (role: NetworkRole, byName = true): string | null => {
    const explicit = networks.find((n) => n.kayobe?.roles?.includes(role));
    if (explicit) return explicit.name;
    if (!byName) return null;
    return networks.find((n) => n.name === role || n.name === `${role}_net`)?.name ?? null;
  };
  const explicitExternal = networks.filter((n) => n.kayobe?.roles?.includes('external')).map((n) => n.name);
  const external = explicitExternal.length > 0 ? explicitExternal : networks.filter((n) => n.name === 'external' || n.name === 'external_net').map((n) => n.name);
  const internal = byRole('internal');
  const storage = byRole('storage');
  const storageMgmt = byRole('storage_mgmt');
  const provisionOc = byRole('provision_oc');
  const provisionWl = byRole('provision_wl', false);
  return {
    provision_oc_net_name: provisionOc,
    admin_oc_net_name: byRole('admin_oc') ?? provisionOc,
    internal_net_name: internal,
    storage_net_name: storage,
    storage_mgmt_net_name: storageMgmt,
    swift_storage_net_name: byRole('swift_storage') ?? storage,
    swift_storage_replication_net_name: byRole('swift_storage_replication') ?? storageMgmt,
    provision_wl_net_name: provisionWl,
    cleaning_net_name: byRole('cleaning', false) ?? provisionWl,
    inspection_net_name: byRole('inspection', false),
    public_net_name: byRole('public', false) ?? external[0] ?? null,
    tunnel_net_name: byRole('tunnel') ?? internal,
    external_net_names: external,
  };
}

export interface KollaHostVarsView {
  /** Kolla's names: network_interface, api_interface, neutron_external_interface, ... */
  readonly vars: Readonly<Record<string, string>>;
  /** Kayobe's failure messages for this host, one per problem; empty if Kayobe would accept it. */
  readonly problems: readonly string[];
}

/**
 * The host's Kolla network host variables. Where Kayobe's action plugin would fail (a required
 * network not mapped to the host, no interface, inconsistent physnets) the problems are returned
 * and the variables are those that could be derived with every network optional; the caller decides
 * whether a problem is fatal.
 */
export function kollaHostVarsFor(host: KayobeHost, networkInterfaces: readonly string[], roles: KollaNetworkRoles, flags: KollaHostFlags): KollaHostVarsView {
  const { interfaces, externalNetworks } = overcloudInterfaceSpecs(roles, flags);
  const strict = kollaAnsibleHostVars(host, networkInterfaces, interfaces, externalNetworks);
  const rename = (facts: Readonly<Record<string, string>>) => Object.fromEntries(Object.entries(facts).map(([k, v]) => [KOLLA_HOST_VAR_NAMES[k] ?? k, v]));
  if (!('failed' in strict)) return { vars: rename(strict.kolla_ansible_host_vars), problems: [] };
  const lenient = kollaAnsibleHostVars(
    host,
    networkInterfaces,
    interfaces.map((s) => ({ ...s, required: false })),
    externalNetworks.map((s) => ({ ...s, required: false })),
  );
  return { vars: 'failed' in lenient ? {} : rename(lenient.kolla_ansible_host_vars), problems: strict.msg.split('; ') };
}

/** Flags §2.6 depends on. */
export interface DefaultAttachmentFlags {
  /** `kolla_enable_neutron_provider_networks`: computes join the external networks. */
  readonly neutronProviderNetworks?: boolean;
  /** `kolla_enable_swift` and the host in `swift_hosts`: storage hosts join the swift networks. */
  readonly swiftStorageHost?: boolean;
}

/** Groups that define `<group>_network_interfaces`, in the order Ansible applies them (last wins). */
const GROUPS_WITH_NETWORK_LISTS = ['ansible-control', 'compute', 'controllers', 'infra-vms', 'monitoring', 'seed', 'seed-hypervisor', 'storage'] as const;

/**
 * The networks Kayobe attaches a host to by default (reference/kayobe.md §2.6): each group's list of
 * roles (`<group>_network_interfaces` = `(default + extra) | select | unique`), resolved to the site's
 * network names; roles nobody plays (oob networks, Ironic's when not configured) drop out. A host in
 * several such groups gets the value of the group Ansible applies last (sibling groups in
 * alphabetical order), which is why `monitoring` returns the controller list for controllers.
 */
export function kayobeDefaultNetworks(hostGroups: readonly string[], roles: SiteRoles, flags: DefaultAttachmentFlags = {}): string[] {
  const group = [...GROUPS_WITH_NETWORK_LISTS].reverse().find((g) => hostGroups.includes(g));
  if (!group) return [];
  const r = roles;
  const controllers = (): (string | null)[] => [
    r.admin_oc_net_name,
    null, // oob_wl: out-of-band networks are not modelled
    r.provision_wl_net_name,
    r.inspection_net_name,
    r.internal_net_name,
    r.storage_net_name,
    r.swift_storage_net_name,
    r.cleaning_net_name,
    ...(hostGroups.includes('network') ? [r.admin_oc_net_name, r.internal_net_name, r.storage_net_name, r.public_net_name, r.tunnel_net_name, ...r.external_net_names] : []),
  ];
  let list: (string | null)[];
  switch (group) {
    case 'seed':
    case 'seed-hypervisor':
      list = [r.admin_oc_net_name, null /* oob_oc */, r.provision_oc_net_name];
      break;
    case 'ansible-control':
    case 'infra-vms':
      list = [r.admin_oc_net_name];
      break;
    case 'controllers':
      list = controllers();
      break;
    case 'compute':
      list = [r.admin_oc_net_name, r.internal_net_name, r.storage_net_name, r.tunnel_net_name, ...(flags.neutronProviderNetworks ? r.external_net_names : [])];
      break;
    case 'storage':
      list = [r.admin_oc_net_name, r.internal_net_name, r.storage_mgmt_net_name, r.storage_net_name, ...(flags.swiftStorageHost ? [r.swift_storage_net_name, r.swift_storage_replication_net_name] : [])];
      break;
    case 'monitoring':
      list = hostGroups.includes('controllers') ? controllers() : [r.admin_oc_net_name, r.internal_net_name, r.public_net_name];
      break;
  }
  return [...new Set(list.filter((n): n is string => !!n))];
}

/**
 * The site's networks a host is attached to: those whose `groups` share one of the host's groups,
 * and those defined without groups when Kayobe's defaults for the host's groups (§2.6) include them.
 */
export function attachedNetworks(siteNets: readonly NetworkData[], hostGroups: readonly string[], flags: DefaultAttachmentFlags = {}): NetworkData[] {
  const defaults = siteNets.some((n) => n.groups.length === 0) ? new Set(kayobeDefaultNetworks(hostGroups, siteRoles(siteNets), flags)) : new Set<string>();
  return siteNets.filter((n) => (n.groups.length === 0 ? defaults.has(n.name) : n.groups.some((g) => hostGroups.includes(g))));
}
