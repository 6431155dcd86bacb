import { ValidationError } from '@stackyard/errors';
import { FLAGS } from './catalogue';
import { resolveFlags, type Flags } from './placement';
import { DEFAULT_TARGET_VENV } from './inventory';

export interface DhcpRange {
  readonly range: string;
  readonly routers?: string;
  readonly dns_servers?: readonly string[];
}

/** Kayobe's inputs to `globals.yml` (reference/kayobe.md §5.3, §3.8 for the VIPs). */
export interface GlobalsInput {
  readonly baseDistro: string;
  readonly baseDistroVersion: string;
  readonly openstackRelease: string;
  /** `$KOLLA_CONFIG_PATH` (default `/etc/kolla`). */
  readonly configPath?: string;
  /** `internal_net_name | net_vip_address`. Required when the load balancer is enabled. */
  readonly internalVipAddress?: string;
  /** `internal_net_name | net_fqdn`, else the VIP. */
  readonly internalFqdn?: string;
  readonly externalVipAddress?: string;
  readonly externalFqdn?: string;
  /** The public network is the internal one. Default: no external VIP, or the same as the internal one. */
  readonly publicIsInternal?: boolean;
  readonly httpProxy?: string;
  readonly httpsProxy?: string;
  readonly noProxy?: readonly string[];
  readonly dockerRegistry?: string;
  /** `kolla_docker_namespace` (default `openstack.kolla`). */
  readonly dockerNamespace?: string;
  readonly dockerRegistryUsername?: string;
  /** `kolla_enable_<x>` overrides; every flag Kayobe knows is written, resolved. */
  readonly flags?: Flags;
  readonly ml2TypeDrivers?: readonly string[];
  readonly ml2TenantNetworkTypes?: readonly string[];
  readonly tlsInternal?: boolean;
  /** Default: `tlsInternal` when the public network is the internal one, else false. */
  readonly tlsExternal?: boolean;
  /** `kolla_admin_openrc_cacert`. */
  readonly adminOpenrcCacert?: string;
  readonly loggingDebug?: boolean;
  readonly libvirtTls?: boolean;
  /** `compute_libvirt_enable_sasl` (default true). */
  readonly libvirtEnableSasl?: boolean;
  /** From the inspection network (§3.8). Written when ironic is enabled. */
  readonly ironicDnsmasqDhcpRanges?: readonly DhcpRange[];
  readonly ironicKernelCmdlineExtras?: readonly string[];
  /** `kolla_ansible_target_venv`; `null` for none. */
  readonly virtualenv?: string | null;
  /** `kolla_extra_globals` then `$KAYOBE_CONFIG_PATH/kolla/globals.yml`, merged last (they win). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** A YAML scalar or flow collection. JSON is valid YAML; strings are always double-quoted. */
export function yamlValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

/** The resolved `enable_<x>` values Kayobe writes to globals.yml (the flags it knows), sorted. */
export function globalsFlags(overrides: Flags = {}): [string, boolean][] {
  const f = resolveFlags(overrides);
  return FLAGS.filter((d) => d.kayobe)
    .map((d) => [d.name, f[d.name] === true] as [string, boolean])
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

/**
 * `$KOLLA_CONFIG_PATH/globals.yml` as Kayobe writes it. Pure and byte-stable: keys in a fixed order,
 * extra keys override in place or follow in their own order. Throws `ValidationError` for a missing
 * internal VIP (or a missing external one when public ≠ internal) while the load balancer is enabled.
 */
export function renderGlobals(input: GlobalsInput): string {
  const flags = resolveFlags(input.flags);
  const cfg = input.configPath ?? '/etc/kolla';
  const publicIsInternal = input.publicIsInternal ?? (!input.externalVipAddress || input.externalVipAddress === input.internalVipAddress);
  if (flags.enable_haproxy) {
    if (!input.internalVipAddress) throw new ValidationError('kolla_internal_vip_address', 'The Kolla Ansible variable kolla_internal_vip_address (Virtual IP address of OpenStack internal API) is invalid. Value: ""');
    if (!publicIsInternal && !input.externalVipAddress) {
      throw new ValidationError('kolla_external_vip_address', 'The Kolla Ansible variable kolla_external_vip_address (Virtual IP address of OpenStack external API) is invalid. Value: ""');
    }
  }
  const ovn = flags.enable_ovn === true;
  const entries: [string, unknown][] = [
    ['config_strategy', 'COPY_ALWAYS'],
    ['kolla_base_distro', input.baseDistro],
    ['kolla_base_distro_version', input.baseDistroVersion],
    ['openstack_release', input.openstackRelease],
    ['node_custom_config', `${cfg}/config`],
  ];
  const add = (k: string, v: unknown) => {
    if (v !== undefined) entries.push([k, v]);
  };
  add('kolla_internal_vip_address', input.internalVipAddress);
  add('kolla_internal_fqdn', input.internalFqdn ?? input.internalVipAddress);
  add('kolla_external_vip_address', input.externalVipAddress || undefined);
  add('kolla_external_fqdn', input.externalFqdn ?? (input.externalVipAddress || undefined));
  add('container_http_proxy', input.httpProxy);
  add('container_https_proxy', input.httpsProxy);
  add('container_no_proxy', input.noProxy?.join(','));
  add('docker_registry', input.dockerRegistry);
  add('docker_namespace', input.dockerNamespace ?? 'openstack.kolla');
  add('docker_registry_username', input.dockerRegistryUsername);
  add('neutron_plugin_agent', ovn ? 'ovn' : 'openvswitch');
  add('neutron_type_drivers', (input.ml2TypeDrivers ?? ['flat', 'vlan', ovn ? 'geneve' : 'vxlan']).join(','));
  add('neutron_tenant_network_types', (input.ml2TenantNetworkTypes ?? [ovn ? 'geneve' : 'vxlan']).join(','));
  const tlsInternal = input.tlsInternal ?? false;
  add('kolla_enable_tls_internal', tlsInternal);
  add('kolla_enable_tls_external', input.tlsExternal ?? (publicIsInternal ? tlsInternal : false));
  add('kolla_admin_openrc_cacert', input.adminOpenrcCacert);
  add('openstack_logging_debug', input.loggingDebug ?? false);
  for (const [k, v] of globalsFlags(input.flags)) add(k, v);
  add('libvirt_tls', input.libvirtTls ?? false);
  add('libvirt_enable_sasl', input.libvirtEnableSasl ?? true);
  if (flags.enable_ironic) {
    add('ironic_dnsmasq_dhcp_ranges', input.ironicDnsmasqDhcpRanges);
    add('ironic_kernel_cmdline_extras', input.ironicKernelCmdlineExtras);
  }
  if (flags.enable_grafana) add('grafana_admin_username', 'grafana_local_admin');
  const venv = input.virtualenv === undefined ? DEFAULT_TARGET_VENV : input.virtualenv;
  if (venv) add('virtualenv', venv);
  for (const [k, v] of Object.entries(input.extra ?? {})) {
    const i = entries.findIndex(([e]) => e === k);
    if (i >= 0) entries[i] = [k, v];
    else entries.push([k, v]);
  }
  return `---\n# Kolla-Ansible globals, generated by Stackyard. Do not edit.\n\n${entries.map(([k, v]) => `${k}: ${yamlValue(v)}\n`).join('')}`;
}
