/**
 * The Kolla-Ansible service catalogue as data (reference/kayobe.md §5.1, §5.2):
 * - `FLAGS`: the `enable_<x>` flags with Kayobe's defaults (`kolla_enable_<x>`), some derived from others;
 * - `SERVICES`: Kolla's roles in `ansible/site.yml` deploy order, each with its enable flag, the roles
 *   it needs, and its containers with the inventory groups whose hosts run them;
 * - `COMPONENT_GROUPS` / `SERVICE_GROUPS`: the group layout of Kolla-Ansible's `ansible/inventory/multinode`
 *   below the top level (what Kayobe copies into `overcloud-components.j2` / `overcloud-services.j2`);
 * - `TOP_LEVEL_GROUP_MAP`: `kolla_overcloud_inventory_top_level_group_map`, Kolla group → Kayobe groups.
 */

/** A flag's default: a constant, or derived from other flags (all true / any true). */
export type FlagDefault = boolean | { readonly all: readonly string[] } | { readonly any: readonly string[] };

export interface FlagDef {
  readonly name: string;
  readonly default: FlagDefault;
  /** Kayobe knows the flag (`kolla_enable_<x>`) and writes it to globals.yml; else a Kolla-Ansible-only default. */
  readonly kayobe: boolean;
}

/** A flag name, or `!flag` for "flag is false". */
export type Condition = string;

export interface ContainerDef {
  readonly name: string;
  /** Inventory groups whose hosts run this container (any of them). */
  readonly groups: readonly string[];
  /** Extra conditions, all of which must hold (besides the service's flag). */
  readonly when: readonly Condition[];
}

export interface ServiceDef {
  /** The Kolla-Ansible role, e.g. `nova`. */
  readonly name: string;
  /** The enable flag; none means always deployed (e.g. `common`). */
  readonly flag: string | undefined;
  /** Roles this one needs enabled (and therefore deployed earlier). */
  readonly dependsOn: readonly string[];
  readonly containers: readonly ContainerDef[];
}

export interface GroupDef {
  readonly name: string;
  readonly children: readonly string[];
}

export interface TopLevelMapping {
  readonly groups: readonly string[];
  readonly vars?: Readonly<Record<string, string>>;
}
/** Kolla top-level group → Kayobe groups (+ group vars). Key order is the rendering order. */
export type TopLevelGroupMap = Readonly<Record<string, TopLevelMapping>>;

const core = { all: ['enable_openstack_core'] };
const k = (name: string, d: FlagDefault): FlagDef => ({ name: `enable_${name}`, default: d, kayobe: true });
const ka = (name: string, d: FlagDefault): FlagDef => ({ name, default: d, kayobe: false });

/** Kayobe's `kolla_enable_*` flags (ansible/inventory/group_vars/all/kolla), in its order, then Kolla-only ones. */
export const FLAGS: readonly FlagDef[] = [
  k('openstack_core', true),
  k('glance', core),
  k('haproxy', true),
  k('keepalived', { all: ['enable_haproxy'] }),
  k('keystone', core),
  k('mariadb', true),
  k('memcached', true),
  k('neutron', core),
  k('nova', core),
  k('proxysql', true),
  k('rabbitmq', true),
  k('aodh', false),
  k('barbican', false),
  k('blazar', false),
  k('ceilometer', false),
  k('central_logging', false),
  k('cinder', false),
  k('cinder_backend_iscsi', { all: ['enable_cinder_backend_lvm'] }),
  k('cinder_backend_lvm', false),
  k('cloudkitty', false),
  k('collectd', false),
  k('cyborg', false),
  k('designate', false),
  k('etcd', false),
  k('fluentd', true),
  k('gnocchi', false),
  k('grafana', false),
  k('hacluster', false),
  k('heat', core),
  k('horizon', core),
  k('ironic', false),
  // Kayobe: ironic and kolla_inspector_enable_discovery (true by default).
  k('ironic_dnsmasq', { all: ['enable_ironic'] }),
  k('ironic_pxe_filter', { all: ['enable_ironic'] }),
  k('ironic_neutron_agent', { all: ['enable_neutron', 'enable_ironic'] }),
  k('iscsid', { all: ['enable_cinder', 'enable_cinder_backend_iscsi'] }),
  k('letsencrypt', false),
  k('magnum', false),
  k('manila', false),
  k('masakari', false),
  k('mistral', false),
  k('multipathd', false),
  k('neutron_bgp_dragent', false),
  k('neutron_mlnx', false),
  k('neutron_provider_networks', false),
  k('neutron_sriov', false),
  k('nova_libvirt_container', true),
  k('octavia', false),
  k('openvswitch', { all: ['enable_neutron'] }),
  k('ovn', false),
  k('ovs_dpdk', false),
  k('opensearch', { any: ['enable_central_logging', 'enable_osprofiler'] }),
  k('opensearch_dashboards', { all: ['enable_opensearch'] }),
  k('osprofiler', false),
  k('placement', { all: ['enable_nova'] }),
  k('prometheus', false),
  k('qdrouterd', false),
  k('redis', false),
  k('skyline', false),
  k('swift', false),
  k('tacker', false),
  k('trove', false),
  k('valkey', false),
  k('vitrage', false),
  k('watcher', false),
  // Kolla-Ansible defaults Kayobe does not set.
  ka('enable_tgtd', { all: ['enable_cinder', 'enable_cinder_backend_lvm'] }),
  ka('enable_ceilometer_ipmi', false),
  ka('enable_gnocchi_statsd', false),
  ka('enable_neutron_metering', false),
  ka('enable_nova_serialconsole_proxy', false),
  ka('designate_enable_notifications_sink', false),
];

/** A container; by default its group is its name with `-` for `_` (`nova_api` → `nova-api`). */
const c = (name: string, groups?: readonly string[], when: readonly Condition[] = []): ContainerDef => ({
  name,
  groups: groups ?? [name.replace(/_/g, '-')],
  when,
});
const s = (name: string, flag: string | undefined, dependsOn: readonly string[], ...containers: ContainerDef[]): ServiceDef => ({ name, flag, dependsOn, containers });
const API = ['keystone', 'mariadb', 'rabbitmq'];

/** Kolla-Ansible's roles in deploy order (ansible/site.yml). */
export const SERVICES: readonly ServiceDef[] = [
  s('common', undefined, [], c('kolla_toolbox', ['kolla_toolbox']), c('cron', ['cron']), c('fluentd', ['fluentd'], ['enable_fluentd'])),
  s('mariadb', 'enable_mariadb', [], c('mariadb', ['mariadb'])),
  s(
    'loadbalancer',
    'enable_haproxy',
    [],
    c('haproxy', ['loadbalancer']),
    c('keepalived', ['loadbalancer'], ['enable_keepalived']),
    c('proxysql', ['loadbalancer'], ['enable_proxysql', 'enable_mariadb']),
  ),
  s('opensearch', 'enable_opensearch', [], c('opensearch', ['opensearch']), c('opensearch_dashboards', undefined, ['enable_opensearch_dashboards'])),
  s('letsencrypt', 'enable_letsencrypt', ['loadbalancer'], c('letsencrypt_webserver'), c('letsencrypt_lego')),
  s('collectd', 'enable_collectd', [], c('collectd', ['collectd'])),
  s('valkey', 'enable_valkey', [], c('valkey', ['valkey']), c('valkey_sentinel', ['valkey'])),
  s('memcached', 'enable_memcached', [], c('memcached', ['memcached'])),
  s(
    'prometheus',
    'enable_prometheus',
    [],
    c('prometheus_server', ['prometheus']),
    c('prometheus_node_exporter'),
    c('prometheus_mysqld_exporter', undefined, ['enable_mariadb']),
    c('prometheus_memcached_exporter', undefined, ['enable_memcached']),
    c('prometheus_cadvisor'),
    c('prometheus_alertmanager'),
    c('prometheus_openstack_exporter'),
    c('prometheus_elasticsearch_exporter', undefined, ['enable_opensearch']),
    c('prometheus_blackbox_exporter'),
    c('prometheus_libvirt_exporter', undefined, ['enable_nova', 'enable_nova_libvirt_container']),
    c('prometheus_openstack_network_exporter', undefined, ['enable_neutron']),
    c('prometheus_valkey_exporter', undefined, ['enable_valkey']),
  ),
  s('iscsi', undefined, [], c('iscsid', ['iscsid'], ['enable_iscsid']), c('tgtd', ['tgtd'], ['enable_tgtd'])),
  s('multipathd', 'enable_multipathd', [], c('multipathd', ['multipathd'])),
  s('rabbitmq', 'enable_rabbitmq', [], c('rabbitmq', ['rabbitmq'])),
  s('etcd', 'enable_etcd', [], c('etcd', ['etcd'])),
  s('keystone', 'enable_keystone', ['mariadb', 'memcached'], c('keystone', ['keystone']), c('keystone_fernet', ['keystone']), c('keystone_ssh', ['keystone'])),
  s('glance', 'enable_glance', ['keystone', 'mariadb'], c('glance_api')),
  s(
    'ironic',
    'enable_ironic',
    [...API, 'glance'],
    c('ironic_api'),
    c('ironic_conductor'),
    c('ironic_dnsmasq', undefined, ['enable_ironic_dnsmasq']),
    c('ironic_tftp'),
    c('ironic_http'),
    c('ironic_neutron_agent', undefined, ['enable_ironic_neutron_agent']),
  ),
  s('cinder', 'enable_cinder', API, c('cinder_api'), c('cinder_scheduler'), c('cinder_volume'), c('cinder_backup')),
  s('placement', 'enable_placement', ['keystone', 'mariadb'], c('placement_api')),
  s('openvswitch', 'enable_openvswitch', [], c('openvswitch_db', ['openvswitch']), c('openvswitch_vswitchd', ['openvswitch'])),
  s('ovn-controller', 'enable_ovn', ['openvswitch'], c('ovn_controller')),
  s('ovn-db', 'enable_ovn', [], c('ovn_northd'), c('ovn_nb_db'), c('ovn_sb_db')),
  s(
    'nova',
    'enable_nova',
    [...API, 'placement', 'glance'],
    c('nova_api'),
    c('nova_scheduler'),
    c('nova_super_conductor'),
    c('nova_metadata'),
    c('nova_conductor'),
    c('nova_novncproxy'),
    c('nova_serialproxy', undefined, ['enable_nova_serialconsole_proxy']),
    // nova_cell_compute_group: compute (no service group in the inventory)
    c('nova_libvirt', ['compute'], ['enable_nova_libvirt_container']),
    c('nova_ssh', ['compute']),
    c('nova_compute', ['compute']),
    c('nova_compute_ironic', undefined, ['enable_ironic']),
  ),
  s(
    'neutron',
    'enable_neutron',
    API,
    c('neutron_server'),
    // On compute hosts and wherever the dhcp, l3 or metadata agents run.
    c('neutron_openvswitch_agent', ['compute', 'neutron-dhcp-agent', 'neutron-l3-agent', 'neutron-metadata-agent'], ['!enable_ovn']),
    c('neutron_dhcp_agent', undefined, ['!enable_ovn']),
    c('neutron_l3_agent', undefined, ['!enable_ovn']),
    c('neutron_metadata_agent', undefined, ['!enable_ovn']),
    c('neutron_ovn_metadata_agent', undefined, ['enable_ovn']),
    c('neutron_bgp_dragent', undefined, ['enable_neutron_bgp_dragent']),
    c('neutron_metering_agent', undefined, ['enable_neutron_metering']),
  ),
  s('hacluster', 'enable_hacluster', [], c('hacluster_corosync', ['hacluster']), c('hacluster_pacemaker', ['hacluster']), c('hacluster_pacemaker_remote', ['hacluster-remote'])),
  s('heat', 'enable_heat', API, c('heat_api'), c('heat_api_cfn'), c('heat_engine')),
  s('horizon', 'enable_horizon', ['keystone', 'memcached'], c('horizon', ['horizon'])),
  s('magnum', 'enable_magnum', [...API, 'heat'], c('magnum_api'), c('magnum_conductor')),
  s('mistral', 'enable_mistral', API, c('mistral_api'), c('mistral_engine'), c('mistral_executor'), c('mistral_event_engine')),
  s('manila', 'enable_manila', API, c('manila_api'), c('manila_scheduler'), c('manila_share'), c('manila_data')),
  s('gnocchi', 'enable_gnocchi', ['keystone', 'mariadb'], c('gnocchi_api'), c('gnocchi_metricd'), c('gnocchi_statsd', undefined, ['enable_gnocchi_statsd'])),
  s('ceilometer', 'enable_ceilometer', ['keystone', 'rabbitmq'], c('ceilometer_central'), c('ceilometer_notification'), c('ceilometer_compute'), c('ceilometer_ipmi', undefined, ['enable_ceilometer_ipmi'])),
  s('aodh', 'enable_aodh', API, c('aodh_api'), c('aodh_evaluator'), c('aodh_listener'), c('aodh_notifier')),
  s('barbican', 'enable_barbican', API, c('barbican_api'), c('barbican_keystone_listener'), c('barbican_worker')),
  s('cyborg', 'enable_cyborg', API, c('cyborg_api'), c('cyborg_conductor'), c('cyborg_agent')),
  s(
    'designate',
    'enable_designate',
    API,
    c('designate_api'),
    c('designate_central'),
    c('designate_producer'),
    c('designate_mdns'),
    c('designate_worker'),
    c('designate_backend_bind9'),
    c('designate_sink', undefined, ['designate_enable_notifications_sink']),
  ),
  s('trove', 'enable_trove', API, c('trove_api'), c('trove_conductor'), c('trove_taskmanager')),
  s('watcher', 'enable_watcher', API, c('watcher_api'), c('watcher_engine'), c('watcher_applier')),
  s('grafana', 'enable_grafana', ['mariadb'], c('grafana', ['grafana'])),
  s('cloudkitty', 'enable_cloudkitty', API, c('cloudkitty_api'), c('cloudkitty_processor')),
  s('tacker', 'enable_tacker', API, c('tacker_server'), c('tacker_conductor')),
  s(
    'octavia',
    'enable_octavia',
    [...API, 'glance', 'nova', 'neutron'],
    c('octavia_api'),
    c('octavia_driver_agent'),
    c('octavia_health_manager'),
    c('octavia_housekeeping'),
    c('octavia_worker'),
  ),
  s('blazar', 'enable_blazar', API, c('blazar_api'), c('blazar_manager')),
  s('masakari', 'enable_masakari', [...API, 'hacluster'], c('masakari_api'), c('masakari_engine'), c('masakari_hostmonitor'), c('masakari_instancemonitor')),
  s('skyline', 'enable_skyline', ['keystone', 'mariadb'], c('skyline_apiserver'), c('skyline_console')),
];

const g = (name: string, ...children: string[]): GroupDef => ({ name, children });

/** Component groups: services' groups mapped onto the top level (KA multinode, first part). */
export const COMPONENT_GROUPS: readonly GroupDef[] = [
  g('baremetal', 'control', 'network', 'compute', 'storage', 'monitoring'),
  g('tls-backend', 'control', 'network'),
  g('common', 'control', 'network', 'compute', 'storage', 'monitoring'),
  g('collectd', 'compute'),
  g('grafana', 'monitoring'),
  g('etcd', 'control'),
  g('prometheus', 'monitoring'),
  g('hacluster', 'control'),
  g('hacluster-remote', 'compute'),
  g('loadbalancer', 'network'),
  g('mariadb', 'control'),
  g('rabbitmq', 'control'),
  g('keystone', 'control'),
  g('glance', 'control'),
  g('nova', 'control'),
  g('neutron', 'network'),
  g('openvswitch', 'network', 'compute', 'manila-share'),
  g('cinder', 'control'),
  g('cloudkitty', 'control'),
  g('memcached', 'control'),
  g('horizon', 'control'),
  g('barbican', 'control'),
  g('heat', 'control'),
  g('ironic', 'control'),
  g('magnum', 'control'),
  g('mistral', 'control'),
  g('manila', 'control'),
  g('ceilometer', 'control'),
  g('aodh', 'control'),
  g('cyborg', 'control'),
  g('gnocchi', 'control'),
  g('tacker', 'control'),
  g('trove', 'control'),
  g('watcher', 'control'),
  g('octavia', 'control'),
  g('designate', 'control'),
  g('placement', 'control'),
  g('bifrost', 'deployment'),
  g('skyline', 'control'),
  g('valkey', 'control'),
  g('blazar', 'control'),
  g('letsencrypt', 'loadbalancer'),
];

/** Service groups: one per container (or container family), mapped onto components (KA multinode, second part). */
export const SERVICE_GROUPS: readonly GroupDef[] = [
  g('cron', 'common'),
  g('fluentd', 'common'),
  g('kolla_logs', 'common'),
  g('kolla_toolbox', 'common'),
  g('opensearch', 'control'),
  g('opensearch-dashboards', 'opensearch'),
  g('glance-api', 'glance'),
  g('nova-api', 'nova'),
  g('nova-conductor', 'nova'),
  g('nova-metadata', 'nova'),
  g('nova-super-conductor', 'nova'),
  g('nova-novncproxy', 'nova'),
  g('nova-scheduler', 'nova'),
  g('nova-spicehtml5proxy', 'nova'),
  g('nova-compute-ironic', 'nova'),
  g('nova-serialproxy', 'nova'),
  g('ironic-neutron-agent', 'neutron'),
  g('neutron-bgp-dragent', 'neutron'),
  g('neutron-dhcp-agent', 'neutron'),
  g('neutron-l3-agent', 'neutron'),
  g('neutron-metadata-agent', 'neutron'),
  g('neutron-metering-agent', 'neutron'),
  g('neutron-periodic-worker', 'control'),
  g('neutron-rpc-server', 'control'),
  g('neutron-server', 'control'),
  g('neutron-ovn-agent', 'compute', 'network'),
  g('neutron-ovn-maintenance-worker', 'control'),
  g('neutron-ovn-metadata-agent', 'compute', 'network'),
  g('neutron-ovn-vpn-agent', 'neutron'),
  g('cinder-api', 'cinder'),
  g('cinder-backup', 'cinder'),
  g('cinder-backup-lvm', 'storage'),
  g('cinder-backup-multiple', 'cinder', 'storage'),
  g('cinder-scheduler', 'cinder'),
  g('cinder-volume', 'cinder'),
  g('cinder-volume-lvm', 'storage'),
  g('cinder-volume-multiple', 'cinder', 'storage'),
  g('cloudkitty-api', 'cloudkitty'),
  g('cloudkitty-processor', 'cloudkitty'),
  g('iscsid', 'compute', 'storage', 'ironic'),
  g('tgtd', 'storage'),
  g('manila-api', 'manila'),
  g('manila-scheduler', 'manila'),
  g('manila-share', 'network'),
  g('manila-data', 'manila'),
  g('barbican-api', 'barbican'),
  g('barbican-keystone-listener', 'barbican'),
  g('barbican-worker', 'barbican'),
  g('heat-api', 'heat'),
  g('heat-api-cfn', 'heat'),
  g('heat-engine', 'heat'),
  g('ironic-api', 'ironic'),
  g('ironic-conductor', 'ironic'),
  g('ironic-dnsmasq', 'ironic'),
  g('ironic-tftp', 'ironic'),
  g('ironic-http', 'ironic'),
  g('magnum-api', 'magnum'),
  g('magnum-conductor', 'magnum'),
  g('mistral-api', 'mistral'),
  g('mistral-executor', 'mistral'),
  g('mistral-engine', 'mistral'),
  g('mistral-event-engine', 'mistral'),
  g('ceilometer-central', 'ceilometer'),
  g('ceilometer-notification', 'ceilometer'),
  g('ceilometer-compute', 'compute'),
  g('ceilometer-ipmi', 'compute'),
  g('aodh-api', 'aodh'),
  g('aodh-evaluator', 'aodh'),
  g('aodh-listener', 'aodh'),
  g('aodh-notifier', 'aodh'),
  g('cyborg-api', 'cyborg'),
  g('cyborg-agent', 'compute'),
  g('cyborg-conductor', 'cyborg'),
  g('gnocchi-api', 'gnocchi'),
  g('gnocchi-statsd', 'gnocchi'),
  g('gnocchi-metricd', 'gnocchi'),
  g('trove-api', 'trove'),
  g('trove-conductor', 'trove'),
  g('trove-taskmanager', 'trove'),
  g('multipathd', 'compute', 'storage'),
  g('watcher-api', 'watcher'),
  g('watcher-engine', 'watcher'),
  g('watcher-applier', 'watcher'),
  g('octavia-api', 'octavia'),
  g('octavia-driver-agent', 'octavia'),
  g('octavia-health-manager', 'octavia'),
  g('octavia-housekeeping', 'octavia'),
  g('octavia-worker', 'octavia'),
  g('designate-api', 'designate'),
  g('designate-central', 'designate'),
  g('designate-producer', 'designate'),
  g('designate-mdns', 'network'),
  g('designate-worker', 'designate'),
  g('designate-sink', 'designate'),
  g('designate-backend-bind9', 'designate'),
  g('placement-api', 'placement'),
  g('skyline-apiserver', 'skyline'),
  g('skyline-console', 'skyline'),
  g('tacker-server', 'tacker'),
  g('tacker-conductor', 'tacker'),
  g('blazar-api', 'blazar'),
  g('blazar-manager', 'blazar'),
  g('prometheus-node-exporter', 'monitoring', 'control', 'compute', 'network', 'storage'),
  g('prometheus-mysqld-exporter', 'mariadb'),
  g('prometheus-memcached-exporter', 'memcached'),
  g('prometheus-cadvisor', 'monitoring', 'control', 'compute', 'network', 'storage'),
  g('prometheus-alertmanager', 'monitoring'),
  g('prometheus-openstack-exporter', 'monitoring'),
  g('prometheus-elasticsearch-exporter', 'opensearch'),
  g('prometheus-blackbox-exporter', 'monitoring'),
  g('prometheus-libvirt-exporter', 'compute'),
  g('prometheus-openstack-network-exporter', 'compute', 'network'),
  g('prometheus-valkey-exporter', 'valkey'),
  g('masakari-api', 'control'),
  g('masakari-engine', 'control'),
  g('masakari-hostmonitor', 'control'),
  g('masakari-instancemonitor', 'compute'),
  g('ovn-controller', 'ovn-controller-compute', 'ovn-controller-network'),
  g('ovn-controller-compute', 'compute'),
  g('ovn-controller-network', 'network'),
  g('ovn-database', 'control'),
  g('ovn-northd', 'ovn-database'),
  g('ovn-nb-db', 'ovn-database'),
  g('ovn-sb-db', 'ovn-database'),
  g('ovn-sb-db-relay', 'ovn-database'),
  g('letsencrypt-webserver', 'letsencrypt'),
  g('letsencrypt-lego', 'letsencrypt'),
];

/** `kolla_overcloud_inventory_top_level_group_map` (storage = `kolla_overcloud_inventory_storage_groups`). */
export const TOP_LEVEL_GROUP_MAP: TopLevelGroupMap = {
  control: { groups: ['controllers'] },
  network: { groups: ['network'] },
  compute: { groups: ['compute'] },
  'compute-vgpu': { groups: ['compute-vgpu'] },
  monitoring: { groups: ['monitoring'] },
  storage: { groups: ['storage'] },
};

/** `kolla_overcloud_inventory_kolla_top_level_groups`: those with no mapping get an empty section. */
export const KOLLA_TOP_LEVEL_GROUPS: readonly string[] = ['control', 'network', 'compute', 'monitoring', 'storage', 'deployment'];
