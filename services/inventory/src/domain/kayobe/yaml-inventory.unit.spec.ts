import { describe, expect, it } from 'vitest';
import { importKayobeFiles, type ConfigFile } from './config';
import { emptyInventory, finishInventory, groupHosts, hostGroups, parseIniInventory, type Inventory } from './inventory';
import type { Problem } from './problems';
import { parseYamlInventory } from './yaml-inventory';
import { Vaulted } from './yaml-vars';

function parse(...files: [string, string][]) {
  const inv = emptyInventory();
  const problems: Problem[] = [];
  for (const [path, text] of files) (/\.(ya?ml|json)$/.test(path) ? parseYamlInventory : parseIniInventory)(inv, { path, text }, problems);
  finishInventory(inv);
  return { inv, problems };
}

describe('parseYamlInventory', () => {
  it('Given all with hosts, vars and nested children, then groups, membership and variables are those of Ansible', () => {
    const { inv, problems } = parse([
      'inventory/hosts.yml',
      `all:
  hosts:
    localhost:
      ansible_connection: local
  vars:
    ntp_enabled: yes
  children:
    controllers:
      hosts:
        ctl[01:03]:
          ansible_user: stack
        "ctl09:2222":
      vars:
        mtu: 9000
        secret: !vault |
          $ANSIBLE_VAULT;1.1;AES256
          6162
    network:
      children:
        controllers:
    compute:
      hosts: cmp1
      children:
        gpu:
          hosts:
            gpu1: null
`,
    ]);
    expect(problems).toEqual([]);
    expect([...inv.hosts.keys()]).toEqual(['localhost', 'ctl01', 'ctl02', 'ctl03', 'ctl09', 'cmp1', 'gpu1']);
    expect(inv.hosts.get('ctl02')).toMatchObject({ vars: { ansible_user: 'stack' }, varLocations: { ansible_user: { file: 'inventory/hosts.yml', line: 11 } } });
    expect(inv.hosts.get('ctl09')?.vars).toEqual({ ansible_port: 2222 });
    expect(inv.groups.get('all')?.vars).toEqual({ ntp_enabled: true }); // YAML 1.1: yes is true
    expect(inv.groups.get('controllers')?.vars['mtu']).toBe(9000);
    expect(inv.groups.get('controllers')?.vars['secret']).toBeInstanceOf(Vaulted);
    expect(inv.groups.get('controllers')?.declaredAt).toEqual({ file: 'inventory/hosts.yml', line: 8 });
    expect([...hostGroups(inv, 'ctl01')].sort()).toEqual(['controllers', 'network']);
    expect([...hostGroups(inv, 'gpu1')].sort()).toEqual(['compute', 'gpu']);
    expect([...hostGroups(inv, 'localhost')]).toEqual(['ungrouped']);
    expect(groupHosts(inv, 'compute')).toEqual(['cmp1', 'gpu1']);
    expect(inv.groups.get('gpu')?.parents).toEqual(['compute']);
  });

  it('accepts any group at the top level, a null group, sections as strings and a JSON file', () => {
    const { inv, problems } = parse(
      ['groups', '[seed]\n[controllers]\n'],
      ['hosts.json', '{"seed": {"hosts": {"seed0": {"ansible_host": "10.0.0.5"}}}, "storage": null}'],
      ['more.yaml', 'controllers:\n  hosts: ctl0\n  children: storage\n'],
    );
    expect(problems).toEqual([]);
    expect(inv.hosts.get('seed0')?.vars).toEqual({ ansible_host: '10.0.0.5' });
    expect(inv.groups.get('storage')?.declaredAt).toEqual({ file: 'hosts.json', line: 1 });
    expect(inv.groups.get('controllers')?.children).toEqual(['storage']);
    expect(groupHosts(inv, 'controllers')).toEqual(['ctl0']);
  });

  it('a child referenced with null may be declared earlier in the file, later in it, or in an earlier file', () => {
    const { problems } = parse(
      ['groups', '[seed]\n'],
      ['hosts.yml', 'overcloud:\n  children:\n    seed:\n    compute:\ncompute:\n  hosts:\n    c1:\n'],
    );
    expect(problems).toEqual([]);
  });

  it('merges variables of a host listed in several groups when they agree', () => {
    const { inv, problems } = parse(['h.yml', 'a:\n  hosts:\n    h1: {x: 1}\nb:\n  hosts:\n    h1: {x: 1, z: 2}\n']);
    expect(problems).toEqual([]);
    expect(inv.hosts.get('h1')?.vars).toEqual({ x: 1, z: 2 });
  });

  it.each<[string, string, Partial<Problem>]>([
    ['a child group that is never declared', 'overcloud:\n  children:\n    controlers:\ncontrollers:\n  hosts:\n    c1:\n', { code: 'UnknownGroup', line: 3, message: 'group "overcloud" has child "controlers", which is not declared (it has no hosts, vars or children here and no inventory file declares it)' }],
    ['a host listed twice in one group', 'compute:\n  hosts:\n    c1:\n    c[0:2]:\n', { code: 'DuplicateHost', line: 4, message: 'host "c1" is listed twice in the hosts of group "compute" (first at line 3)' }],
    ['a duplicate host key', 'compute:\n  hosts:\n    c1:\n    c1:\n', { code: 'DuplicateHost', line: 4 }],
    ['a host redefined with another value', 'a:\n  hosts:\n    h1: {ansible_host: 10.0.0.1}\nb:\n  hosts:\n    h1:\n      ansible_host: 10.0.0.2\n', { code: 'DuplicateHost', line: 7, variable: 'ansible_host', message: 'host "h1" is defined again with a different value (first at inventory/hosts.yml:3)' }],
    ['circular children', 'a:\n  children:\n    b:\n      children:\n        a:\n', { code: 'CircularGroups', line: 3, message: 'adding group "b" as a child of "a" creates a cycle (a → b → a)' }],
    ['a group that is its own child', 'a:\n  children:\n    a:\n', { code: 'CircularGroups', line: 3 }],
    ['an unexpected key (a typo would drop hosts)', 'compute:\n  host:\n    c1:\n', { code: 'MalformedInventory', line: 2, message: 'unexpected key "host" in group "compute" (only hosts, vars and children are valid)' }],
    ['hosts given as a list', 'compute:\n  hosts:\n    - c1\n', { code: 'MalformedInventory', line: 2, message: '"hosts" of group "compute" must be a mapping, not a list' }],
    ['a group that is a string', 'compute: c1\n', { code: 'MalformedInventory', line: 1 }],
    ['host variables that are not a mapping', 'compute:\n  hosts:\n    c1: 10.0.0.1\n', { code: 'MalformedInventory', line: 3 }],
    ['a file that is a list', '- a\n- b\n', { code: 'MalformedInventory', line: 1 }],
    ['bad YAML', 'all:\n  hosts: [\n', { code: 'MalformedYaml' }],
  ])('reports %s with file and line', (_what, text, expected) => {
    const { problems } = parse(['inventory/hosts.yml', text]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'error', file: 'inventory/hosts.yml', ...expected });
  });

  it('reports a dynamic inventory (plugin:) as unsupported instead of reading it', () => {
    const { inv, problems } = parse(['inventory/openstack.yml', 'plugin: openstack.cloud.openstack\nexpand_hostvars: yes\n']);
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: 'UnsupportedFeature', line: 1 })]);
    expect(inv.hosts.size).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Equivalence: openstack/kayobe-config-dev's inventory (etc/kayobe/inventory/{groups,hosts,infra-vms},
// comments dropped) and the same inventory written as YAML describe the same hosts, groups and vars.

const DEV_GROUPS_INI = `[ansible-control]
[seed]
[seed-hypervisor]
[container-image-builders:children]
seed
[hypervisors:children]
seed-hypervisor
[infra-vms]
[controllers]
[network:children]
controllers
[monitoring]
[storage]
[compute-vgpu]
[compute:children]
compute-vgpu
[overcloud:children]
controllers
network
monitoring
storage
compute
[vgpu:children]
compute-vgpu
[iommu:children]
vgpu
[container-engine:children]
seed
controllers
network
monitoring
storage
compute
ansible-control
[docker-registry:children]
seed
[ntp:children]
seed
seed-hypervisor
overcloud
infra-vms
ansible-control
[baremetal-compute]
[mgmt-switches]
[ctl-switches]
[hs-switches]
[switches:children]
mgmt-switches
ctl-switches
hs-switches
`;
const DEV_HOSTS_INI = `localhost ansible_connection=local
[ansible-control]
ansible0
[seed-hypervisor]
seed-hypervisor
[seed]
seed
[controllers]
controller0
[compute:children]
controllers
[monitoring:children]
controllers
[baremetal-compute]
[mgmt-switches]
[ctl-switches]
[hs-switches]
`;
const DEV_INFRA_VMS_INI = '[infra-vms]\ninfra-vm-1\n';

const DEV_GROUPS_YAML = `all:
  children:
    ansible-control:
    seed:
    seed-hypervisor:
    container-image-builders:
      children: {seed: }
    hypervisors:
      children: {seed-hypervisor: }
    infra-vms:
    controllers:
    network:
      children: {controllers: }
    monitoring:
    storage:
    compute-vgpu:
    compute:
      children: {compute-vgpu: }
    overcloud:
      children: {controllers: , network: , monitoring: , storage: , compute: }
    vgpu:
      children: {compute-vgpu: }
    iommu:
      children: {vgpu: }
    container-engine:
      children: {seed: , controllers: , network: , monitoring: , storage: , compute: , ansible-control: }
    docker-registry:
      children: {seed: }
    ntp:
      children: {seed: , seed-hypervisor: , overcloud: , infra-vms: , ansible-control: }
    baremetal-compute:
    mgmt-switches:
    ctl-switches:
    hs-switches:
    switches:
      children: {mgmt-switches: , ctl-switches: , hs-switches: }
`;
const DEV_HOSTS_YAML = `all:
  hosts:
    localhost:
      ansible_connection: local
  children:
    ansible-control:
      hosts: {ansible0: }
    seed-hypervisor:
      hosts: {seed-hypervisor: }
    seed:
      hosts: {seed: }
    controllers:
      hosts: {controller0: }
    compute:
      children: {controllers: }
    monitoring:
      children: {controllers: }
    baremetal-compute: {}
    mgmt-switches: {}
    ctl-switches: {}
    hs-switches: {}
`;
const DEV_INFRA_VMS_YAML = 'infra-vms:\n  hosts:\n    infra-vm-1:\n';

/** What an inventory describes, independent of file order: group → sorted parents, children and all hosts. */
function describeInventory(inv: Inventory) {
  return {
    groups: Object.fromEntries(
      [...inv.groups.values()]
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((g) => [g.name, { parents: [...g.parents].sort(), children: [...g.children].sort(), hosts: groupHosts(inv, g.name).sort(), vars: g.vars }]),
    ),
    hosts: Object.fromEntries([...inv.hosts.values()].map((h) => [h.name, { vars: h.vars, groups: [...hostGroups(inv, h.name)].sort() }])),
  };
}

describe('equivalence with the INI inventory of kayobe-config-dev', () => {
  it('the YAML inventory describes the same hosts, groups and variables', () => {
    const ini = parse(['inventory/groups', DEV_GROUPS_INI], ['inventory/hosts', DEV_HOSTS_INI], ['inventory/infra-vms', DEV_INFRA_VMS_INI]);
    const yaml = parse(['inventory/groups.yml', DEV_GROUPS_YAML], ['inventory/hosts.yml', DEV_HOSTS_YAML], ['inventory/infra-vms.yml', DEV_INFRA_VMS_YAML]);
    expect(ini.problems).toEqual([]);
    expect(yaml.problems).toEqual([]);
    expect(describeInventory(yaml.inv)).toEqual(describeInventory(ini.inv));
    expect(describeInventory(ini.inv).hosts['controller0']?.groups).toEqual(['compute', 'container-engine', 'controllers', 'monitoring', 'network', 'ntp', 'overcloud']);
  });

  it('imports the same hosts and variables, with INI and YAML files mixed in one inventory directory', () => {
    const common: ConfigFile[] = [
      { path: 'inventory/groups', text: DEV_GROUPS_INI },
      { path: 'networks.yml', text: 'admin_oc_net_name: aio\naio_cidr: 192.168.33.0/24\n' },
      { path: 'network-allocation.yml', text: 'aio_ips:\n  controller0: 192.168.33.3\n  seed: 192.168.33.5\n' },
      { path: 'inventory/host_vars/infra-vm-1', text: 'infra_vm_memory_mb: "{{ 2 * 1024 }}"\n' },
    ];
    const ini = importKayobeFiles([...common, { path: 'inventory/hosts', text: DEV_HOSTS_INI }, { path: 'inventory/infra-vms', text: DEV_INFRA_VMS_INI }]);
    const yaml = importKayobeFiles([...common, { path: 'inventory/hosts.yml', text: DEV_HOSTS_YAML }, { path: 'inventory/infra-vms.yaml', text: DEV_INFRA_VMS_YAML }]);
    const view = (imp: typeof ini) => ({
      controlHosts: imp.controlHosts,
      hosts: Object.fromEntries(imp.hosts.map((h) => [h.name, { groups: h.groups, direct: h.directGroups, vars: h.vars }])),
      groups: imp.groups.map((g) => ({ ...g, hosts: [...g.hosts].sort(), children: [...g.children].sort(), parents: [...g.parents].sort() })).sort((a, b) => (a.name < b.name ? -1 : 1)),
    });
    expect(view(yaml)).toEqual(view(ini));
    expect(yaml.controlHosts).toEqual(['localhost']);
    expect(yaml.hosts.find((h) => h.name === 'controller0')?.vars['ansible_host']).toBe('192.168.33.3');
    expect(yaml.hosts.find((h) => h.name === 'infra-vm-1')?.vars['infra_vm_memory_mb']).toBe(2048);
    expect(yaml.hosts.find((h) => h.name === 'seed')?.source).toEqual({ file: 'inventory/hosts.yml', line: 11 });
  });

  it('a host only under all is in no group, as in INI', () => {
    expect(() => importKayobeFiles([{ path: 'inventory/hosts.yml', text: 'all:\n  hosts:\n    stray:\n' }])).toThrow(/inventory\/hosts.yml:3: host "stray" is in no group/);
  });
});
