/**
 * The part of Kayobe's built-in inventory (`openstack/kayobe:ansible/inventory/group_vars`) that the
 * import evaluates: network role names, each group's `<group>_network_interfaces` chain, the
 * group → `network_interfaces` mapping, `ansible_host`, the overcloud group map and the Kolla flags
 * those depend on. Values are copied verbatim (Jinja included) so that they are evaluated the way
 * Ansible does, against the operator's configuration. This is the lowest-precedence layer (§2.1 ①).
 *
 * Source: openstack/kayobe master 720683bc (reference/kayobe.md §2.5, §2.6).
 */

/** `group_vars/all/<topic>` files of the built-in inventory: the network part. */
const NETWORK_DEFAULT_ALL: Readonly<Record<string, string>> = {
  network: `
admin_oc_net_name: "{{ provision_oc_net_name }}"
oob_oc_net_name: 'oob_oc_net'
provision_oc_net_name: 'provision_oc_net'
oob_wl_net_name: "{{ 'oob_wl_net' if kolla_enable_ironic | bool else None }}"
provision_wl_net_name: "{{ 'provision_wl_net' if kolla_enable_ironic | bool else None }}"
internal_net_name: 'internal_net'
external_net_names: ['external_net']
public_net_name: >-
  {{ external_net_names[0]
     if external_net_names | length > 0 else
     None }}
tunnel_net_name: "{{ internal_net_name }}"
storage_net_name: 'storage_net'
storage_mgmt_net_name: 'storage_mgmt_net'
swift_storage_net_name: "{{ storage_net_name }}"
swift_storage_replication_net_name: "{{ storage_mgmt_net_name }}"
inspection_net_name: "{{ 'inspection_net' if kolla_enable_ironic | bool else None }}"
cleaning_net_name: "{{ provision_wl_net_name }}"
`,
  controllers: `
controller_network_group: network
controller_network_interfaces: >
  {{ (controller_default_network_interfaces +
      controller_extra_network_interfaces +
      (controller_network_host_network_interfaces
       if inventory_hostname in groups['network'] else [])) | select | unique | list }}
controller_default_network_interfaces: >
  {{ [admin_oc_net_name,
      oob_wl_net_name,
      provision_wl_net_name,
      inspection_net_name,
      internal_net_name,
      storage_net_name,
      swift_storage_net_name,
      cleaning_net_name] | select | unique | list }}
controller_extra_network_interfaces: []
controller_network_host_network_interfaces: >
  {{ (controller_network_host_default_network_interfaces +
      controller_network_host_extra_network_interfaces) | select | unique | list }}
controller_network_host_default_network_interfaces: >
  {{ ([admin_oc_net_name,
       internal_net_name,
       storage_net_name,
       public_net_name,
       tunnel_net_name] +
      external_net_names) | select | unique | list }}
controller_network_host_extra_network_interfaces: []
`,
  compute: `
compute_network_interfaces: >
  {{ (compute_default_network_interfaces +
      compute_extra_network_interfaces) | select | unique | list }}
compute_default_network_interfaces: >
  {{ ([admin_oc_net_name,
       internal_net_name,
       storage_net_name,
       tunnel_net_name] +
      (external_net_names if kolla_enable_neutron_provider_networks | bool else [])) | select | unique | list }}
compute_extra_network_interfaces: []
`,
  storage: `
storage_network_interfaces: >
  {{ (storage_default_network_interfaces +
      storage_extra_network_interfaces +
      ([swift_storage_net_name]
       if storage_needs_swift_network else []) +
      ([swift_storage_replication_net_name]
       if storage_needs_swift_replication_network else [])) | select | unique | list }}
storage_default_network_interfaces: >
  {{ [admin_oc_net_name,
      internal_net_name,
      storage_mgmt_net_name,
      storage_net_name] | select | unique | list }}
storage_extra_network_interfaces: []
storage_needs_swift_network: >-
  {{ kolla_enable_swift | bool and
     inventory_hostname in query('inventory_hostnames', swift_hosts) }}
storage_needs_swift_replication_network: >-
  {{ kolla_enable_swift | bool and
     inventory_hostname in query('inventory_hostnames', swift_hosts) }}
`,
  monitoring: `
monitoring_network_interfaces: >
  {{ controller_network_interfaces | unique | list
     if inventory_hostname in groups['controllers'] else
     (monitoring_default_network_interfaces +
      monitoring_extra_network_interfaces) | select | unique | list }}
monitoring_default_network_interfaces: >
  {{ [admin_oc_net_name,
      internal_net_name,
      public_net_name] | select | unique | list }}
monitoring_extra_network_interfaces: []
`,
  seed: `
seed_network_interfaces: >
  {{ (seed_default_network_interfaces +
      seed_extra_network_interfaces) | select | unique | list }}
seed_default_network_interfaces: >
  {{ [admin_oc_net_name,
      oob_oc_net_name,
      provision_oc_net_name] | select | unique | list }}
seed_extra_network_interfaces: []
`,
  'seed-hypervisor': `
seed_hypervisor_network_interfaces: >
  {{ (seed_hypervisor_default_network_interfaces +
      seed_hypervisor_extra_network_interfaces) | select | unique | list }}
seed_hypervisor_default_network_interfaces: "{{ seed_default_network_interfaces }}"
seed_hypervisor_extra_network_interfaces: "{{ seed_extra_network_interfaces }}"
`,
  'infra-vms': `
infra_vm_network_interfaces: >
  {{ (infra_vm_default_network_interfaces +
      infra_vm_extra_network_interfaces) | select | unique | list }}
infra_vm_default_network_interfaces: >
  {{ [admin_oc_net_name] | select | unique | list }}
infra_vm_extra_network_interfaces: []
`,
  'ansible-control': `
ansible_control_network_interfaces: >
  {{ (ansible_control_default_network_interfaces +
      ansible_control_extra_network_interfaces) | select | unique | list }}
ansible_control_default_network_interfaces: >
  {{ [admin_oc_net_name] | select | unique | list }}
ansible_control_extra_network_interfaces: []
`,
  overcloud: `
overcloud_group_default: controllers
overcloud_groups: >
  {{ (overcloud_group_hosts_map | list +
      [overcloud_group_default]) | reject('equalto', 'ignore') | unique | sort | list }}
overcloud_group_hosts_map: {}
`,
  kolla: `
kolla_enable_openstack_core: "yes"
kolla_enable_neutron: "{{ kolla_enable_openstack_core | bool }}"
kolla_enable_ironic: "no"
kolla_enable_neutron_provider_networks: "no"
kolla_enable_swift: "no"
`,
  swift: `
swift_hosts: "storage"
`,
  globals: `
base_path: "/opt/kayobe"
config_path: "{{ base_path ~ '/etc' }}"
image_cache_path: "{{ base_path ~ '/images' }}"
source_checkout_path: "{{ base_path ~ '/src' }}"
virtualenv_path: "{{ base_path ~ '/venvs' }}"
kayobe_ansible_user: "stack"
os_distribution: "rocky"
os_family_map:
  centos: RedHat
  rocky: RedHat
  ubuntu: Debian
os_family: "{{ os_family_map[os_distribution | lower] }}"
os_release: >-
  {{ '10-stream' if os_distribution == 'centos'
  else '10' if os_distribution == 'rocky'
  else 'noble' }}
`,
};

/**
 * Host configuration ("host configure", reference/kayobe.md §2.3): each group's `<prefix>_lvm_groups`
 * chain (the data VG with the docker-volumes or podman-volumes LV), `_sysctl_parameters`, `_users`
 * and `_swap`; the container engine, chrony, the kolla user. Same source as above.
 */
export const HOST_CONFIGURE_PREFIXES: Readonly<Record<string, string>> = {
  controllers: 'controller',
  compute: 'compute',
  storage: 'storage',
  monitoring: 'monitoring',
  seed: 'seed',
  'seed-hypervisor': 'seed_hypervisor',
  'infra-vms': 'infra_vm',
  'ansible-control': 'ansible_control',
};

/** The `<p>_lvm_groups` chain as Kayobe defines it for controllers, compute, storage, seed, infra VMs and the control host. */
const lvmChain = (p: string): string => `
${p}_lvm_groups: "{{ ${p}_lvm_groups_default + ${p}_lvm_groups_extra }}"
${p}_lvm_groups_default: "{{ [${p}_lvm_group_data] if ${p}_lvm_group_data_enabled | bool else [] }}"
${p}_lvm_groups_extra: []
${p}_lvm_group_data_enabled: false
${p}_lvm_group_data:
  vgname: data
  disks: "{{ ${p}_lvm_group_data_disks }}"
  create: True
  lvnames: "{{ ${p}_lvm_group_data_lvs }}"
${p}_lvm_group_data_disks:
  - changeme
${p}_lvm_group_data_docker_lvs:
  - "{{ ${p}_lvm_group_data_lv_docker_volumes }}"
${p}_lvm_group_data_podman_lvs:
  - "{{ ${p}_lvm_group_data_lv_podman_volumes }}"
${p}_lvm_group_data_lvs: "{{ ${p}_lvm_group_data_podman_lvs if container_engine == 'podman' else ${p}_lvm_group_data_docker_lvs }}"
${p}_lvm_group_data_lv_docker_volumes:
  lvname: docker-volumes
  size: "{{ ${p}_lvm_group_data_lv_docker_volumes_size }}"
  create: True
  filesystem: "{{ ${p}_lvm_group_data_lv_docker_volumes_fs }}"
  mount: True
  mntp: "{{ docker_volumes_path }}"
${p}_lvm_group_data_lv_podman_volumes:
  lvname: podman-volumes
  size: "{{ ${p}_lvm_group_data_lv_podman_volumes_size }}"
  create: True
  filesystem: "{{ ${p}_lvm_group_data_lv_podman_volumes_fs }}"
  mount: True
  mntp: "{{ podman_volumes_path }}"
${p}_lvm_group_data_lv_docker_volumes_size: 75%VG
${p}_lvm_group_data_lv_docker_volumes_fs: ext4
${p}_lvm_group_data_lv_podman_volumes_size: 75%VG
${p}_lvm_group_data_lv_podman_volumes_fs: ext4
`;

const hostBasics = (p: string): string => `
${p}_sysctl_parameters: {}
${p}_users: "{{ users_default }}"
${p}_swap: []
`;

const HOST_CONFIGURE_ALL: Readonly<Record<string, string>> = {
  controllers: lvmChain('controller') + hostBasics('controller'),
  compute: lvmChain('compute') + hostBasics('compute'),
  storage: lvmChain('storage') + hostBasics('storage'),
  monitoring: `
monitoring_lvm_groups: "{{ monitoring_lvm_groups_default + monitoring_lvm_groups_extra }}"
monitoring_lvm_groups_default: "{{ controller_lvm_groups_default }}"
monitoring_lvm_groups_extra: "{{ controller_lvm_groups_extra }}"
monitoring_sysctl_parameters: "{{ controller_sysctl_parameters }}"
monitoring_users: "{{ controller_users }}"
monitoring_swap: []
`,
  seed: lvmChain('seed') + hostBasics('seed'),
  'seed-hypervisor': `\nseed_hypervisor_lvm_groups: []\n${hostBasics('seed_hypervisor')}`,
  'infra-vms': lvmChain('infra_vm') + hostBasics('infra_vm'),
  'ansible-control': `${lvmChain('ansible_control')}${hostBasics('ansible_control')}ansible_control_container_engine_enabled: false\n`,
  'container-engine': `
container_engine: docker
container_engine_volumes_path: "{{ podman_volumes_path if container_engine == 'podman' else docker_volumes_path }}"
docker_storage_driver: overlay2
docker_registry:
docker_registry_insecure: "{{ docker_registry_enabled | bool and not docker_registry_enable_tls | bool }}"
docker_registry_mirrors: []
docker_daemon_live_restore: false
docker_runtime_directory: ""
docker_volumes_path: "{{ docker_runtime_directory | default('/var/lib/docker', true) ~ '/volumes' }}"
podman_registry:
podman_registry_insecure: "{{ docker_registry_enabled | bool and not docker_registry_enable_tls | bool }}"
podman_runtime_directory:
podman_volumes_path: "{{ podman_runtime_directory | default('/var/lib/containers/storage', true) ~ '/volumes' }}"
`,
  'docker-registry': `
docker_registry_enabled: False
docker_registry_enable_tls: false
`,
  time: `
chrony_ntp_servers:
  - server: pool.ntp.org
    type: pool
    options:
      - option: iburst
      - option: minpoll
        val: 8
chrony_rtcsync_enabled: true
`,
  users: `
users_default: []
`,
  kolla: `
kolla_ansible_user: kolla
kolla_ansible_group: kolla
`,
};

/** `group_vars/all/<topic>` files of the built-in inventory (network and host configuration). */
export const KAYOBE_DEFAULT_ALL: Readonly<Record<string, string>> = Object.fromEntries(
  [...new Set([...Object.keys(NETWORK_DEFAULT_ALL), ...Object.keys(HOST_CONFIGURE_ALL)])].map((t) => [t, (NETWORK_DEFAULT_ALL[t] ?? '') + (HOST_CONFIGURE_ALL[t] ?? '')]),
);

/** `group_vars/<group>/network` of the built-in inventory: which chain a group's hosts use. */
const NETWORK_CHAIN: Readonly<Record<string, string>> = {
  'ansible-control': 'ansible_control_network_interfaces',
  compute: 'compute_network_interfaces',
  controllers: 'controller_network_interfaces',
  'infra-vms': 'infra_vm_network_interfaces',
  monitoring: 'monitoring_network_interfaces',
  'seed-hypervisor': 'seed_hypervisor_network_interfaces',
  seed: 'seed_network_interfaces',
  storage: 'storage_network_interfaces',
};

/** Groups whose built-in `ansible-host` file sets `ansible_host` from the admin network. */
const ANSIBLE_HOST_GROUPS = ['ansible-control', 'infra-vms', 'overcloud', 'seed-hypervisor', 'seed'];

/** `group_vars/<group>/<topic>` files of the built-in inventory, keyed `<group>/<topic>`. */
export const KAYOBE_DEFAULT_GROUPS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(NETWORK_CHAIN).map(([g, v]) => [`${g}/network`, `network_interfaces: "{{ ${v} | unique | list }}"\n`])),
  ...Object.fromEntries(ANSIBLE_HOST_GROUPS.map((g) => [`${g}/ansible-host`, `ansible_host: "{{ admin_oc_net_name | net_ip }}"\n`])),
  ...Object.fromEntries(
    Object.entries(HOST_CONFIGURE_PREFIXES).flatMap(([g, p]) => [
      [`${g}/lvm`, `lvm_groups: "{{ ${p}_lvm_groups }}"\n`],
      [`${g}/swap`, `swap: "{{ ${p}_swap }}"\n`],
      [`${g}/sysctl`, `sysctl_parameters: "{{ ${p}_sysctl_parameters }}"\n`],
      [`${g}/users`, `users: "{{ ${p}_users }}"\n`],
    ]),
  ),
  'ansible-control/container-engine': 'container_engine_enabled: "{{ ansible_control_container_engine_enabled }}"\n',
  'overcloud/etc-hosts': `etc_hosts_hosts: "{{ groups['overcloud'] }}"\netc_hosts_network: "{{ internal_net_name }}"\n`,
};

/** Network role variables (§2.5), in Kayobe's documentation order. */
export const NETWORK_ROLES = [
  'admin_oc_net_name',
  'oob_oc_net_name',
  'provision_oc_net_name',
  'oob_wl_net_name',
  'provision_wl_net_name',
  'cleaning_net_name',
  'inspection_net_name',
  'internal_net_name',
  'external_net_names',
  'public_net_name',
  'tunnel_net_name',
  'storage_net_name',
  'storage_mgmt_net_name',
  'swift_storage_net_name',
  'swift_storage_replication_net_name',
] as const;

/** Global network attributes (`<net>_<attr>`, §2.4). */
export const GLOBAL_NETWORK_ATTRIBUTES = [
  'cidr',
  'allocation_pool_start',
  'allocation_pool_end',
  'inspection_allocation_pool_start',
  'inspection_allocation_pool_end',
  'inspection_gateway',
  'inspection_dns_servers',
  'neutron_allocation_pool_start',
  'neutron_allocation_pool_end',
  'neutron_gateway',
  'neutron_dns_servers',
  'gateway',
  'vlan',
  'mtu',
  'vip_address',
  'fqdn',
  'routes',
  'rules',
  'physical_network',
  'libvirt_network_name',
  'no_ip',
] as const;

/** Per-host network attributes (`<net>_<attr>` in group_vars/host_vars, §2.4). */
export const HOST_NETWORK_ATTRIBUTES = ['interface', 'parent', 'bootproto', 'defroute', 'bridge_ports', 'bond_slaves', 'bond_mode'] as const;
