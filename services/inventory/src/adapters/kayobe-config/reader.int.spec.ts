/**
 * Imports every reference Kayobe configuration (reference/kayobe-configs) from disk and checks the
 * result against what Kayobe computes (reference/kayobe.md §2.2, §2.5, §2.6, §3.9). Expected values
 * are literal, read from the files: see the comments.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KayobeImport } from '../../domain/kayobe/config';
import { renderAnsibleInventory } from '../../domain/kayobe/export';
import { KayobeConfigError } from '../../domain/kayobe/problems';
import { importKayobeConfig } from './reader';

const REF = '/work/shared/reference/kayobe-configs';
const FIXTURES = join(__dirname, '../../../test/fixtures');

const summary = (imp: KayobeImport) =>
  Object.fromEntries(imp.hosts.map((h) => [h.name, { groups: h.directGroups, networks: h.networks }]));
const allocations = (imp: KayobeImport) => imp.allocations.map((a) => `${a.network} ${a.host} ${a.ip}`);
const warnings = (imp: KayobeImport, code: string) => imp.problems.filter((p) => p.code === code).map((p) => `${p.file}:${p.line ?? ''} ${p.variable ?? ''}`);

/** The standard groups (etc/kayobe/inventory/groups of every reference config). */
const STANDARD_GROUPS = ['seed', 'seed-hypervisor', 'container-image-builders', 'hypervisors', 'infra-vms', 'controllers', 'network', 'monitoring', 'storage', 'compute-vgpu', 'compute', 'overcloud', 'vgpu', 'iommu', 'container-engine', 'docker-registry', 'ntp', 'baremetal-compute', 'mgmt-switches', 'ctl-switches', 'hs-switches', 'switches'];

/** Every role → one network "aio" (kayobe-config-dev and a-universe-from-nothing networks.yml). */
const AIO_ROLES = ['admin_oc', 'oob_oc', 'provision_oc', 'oob_wl', 'provision_wl', 'cleaning', 'inspection', 'internal', 'external', 'public', 'tunnel', 'storage', 'storage_mgmt', 'swift_storage', 'swift_storage_replication'];
const AIO_POOLS = {
  cidr: '192.168.33.0/24',
  allocation_pool_start: '192.168.33.3',
  allocation_pool_end: '192.168.33.30',
  neutron_allocation_pool_start: '192.168.33.31',
  neutron_allocation_pool_end: '192.168.33.127',
  inspection_allocation_pool_start: '192.168.33.128',
  inspection_allocation_pool_end: '192.168.33.254',
};

describe('import of openstack/kayobe-config-dev', () => {
  it('has the five hosts of inventory/hosts and inventory/infra-vms, each on "aio" with its allocated address', async () => {
    const imp = await importKayobeConfig(`${REF}/openstack+kayobe-config-dev/etc/kayobe`);

    expect(imp.controlHosts).toEqual(['localhost']);
    // Files in inventory order: groups, hosts, infra-vms. Interfaces from group_vars/<group>/network-interfaces.
    expect(summary(imp)).toEqual({
      ansible0: { groups: ['ansible-control'], networks: [{ name: 'aio', interface: 'breth1', ip: '192.168.33.7' }] },
      'seed-hypervisor': { groups: ['seed-hypervisor'], networks: [{ name: 'aio', interface: 'braio', ip: '192.168.33.4' }] },
      seed: { groups: ['seed'], networks: [{ name: 'aio', interface: 'breth1', ip: '192.168.33.5' }] },
      controller0: { groups: ['controllers'], networks: [{ name: 'aio', interface: 'breth1', ip: '192.168.33.3' }] },
      'infra-vm-1': { groups: ['infra-vms'], networks: [{ name: 'aio', ip: '192.168.33.6' }] },
    });
    const ctl = imp.hosts.find((h) => h.name === 'controller0')!;
    // [compute:children] controllers and [monitoring:children] controllers (inventory/hosts); network:children controllers (groups).
    expect(ctl.groups).toEqual(['compute', 'container-engine', 'controllers', 'monitoring', 'network', 'ntp', 'overcloud']);
    expect(ctl.vars['ansible_host']).toBe('192.168.33.3'); // group_vars/overcloud/ansible-host: admin_oc_net_name | net_ip
    expect(ctl.vars['ansible_python_interpreter']).toBe('/opt/kayobe/venvs/kayobe/bin/python');
    expect(ctl.vars['kolla_internal_vip_address']).toBe('192.168.33.2');
    const vm = imp.hosts.find((h) => h.name === 'infra-vm-1')!;
    expect([vm.vars['infra_vm_vcpus'], vm.vars['infra_vm_memory_mb']]).toEqual([1, 2048]); // "{{ 2 * 1024 }}"

    expect(imp.networks).toEqual([{ name: 'aio', roles: AIO_ROLES, attributes: AIO_POOLS }]);
    expect(allocations(imp)).toEqual(['aio ansible0 192.168.33.7', 'aio controller0 192.168.33.3', 'aio infra-vm-1 192.168.33.6', 'aio seed 192.168.33.5', 'aio seed-hypervisor 192.168.33.4']);
    expect(imp.groups.map((g) => g.name)).toEqual(['all', 'ungrouped', 'ansible-control', ...STANDARD_GROUPS]);

    // What needs the control host or facts is reported with its file and variable, never dropped.
    expect(warnings(imp, 'UnresolvedVariable')).toEqual(
      expect.arrayContaining([
        'globals.yml:50 os_distribution',
        'controllers.yml:8 controller_bootstrap_user',
        'inventory/group_vars/controllers/network-interfaces:8 aio_bridge_ports',
        'inventory/group_vars/seed/network-interfaces:8 aio_bridge_ports',
      ]),
    );
    expect(ctl.unresolved).toEqual(expect.arrayContaining(['aio_bridge_ports', 'os_distribution', 'controller_bootstrap_user']));
    expect(warnings(imp, 'SecretInClearText')).toEqual([]);
    expect(renderAnsibleInventory(imp)).toContain('[controllers]\ncontroller0 ansible_host=192.168.33.3\n');
  });
});

describe('import of stackhpc/a-universe-from-nothing', () => {
  it('places controller0 and compute0 from overcloud_group_hosts_map and keeps aio_mtu', async () => {
    const imp = await importKayobeConfig(`${REF}/stackhpc+a-universe-from-nothing/etc/kayobe`);

    // aio_interface of seed/controllers/compute depends on os_distribution (a pipe lookup): no interface.
    expect(summary(imp)).toEqual({
      'seed-hypervisor': { groups: ['seed-hypervisor'], networks: [{ name: 'aio', interface: 'braio', ip: '192.168.33.4' }] },
      seed: { groups: ['seed'], networks: [{ name: 'aio', ip: '192.168.33.5' }] },
      controller0: { groups: ['controllers'], networks: [{ name: 'aio', ip: '192.168.33.3' }] },
      compute0: { groups: ['compute'], networks: [{ name: 'aio', ip: '192.168.33.6' }] },
    });
    expect(imp.hosts.find((h) => h.name === 'controller0')?.source).toEqual({ file: 'overcloud.yml', line: 15 });
    expect(imp.hosts.find((h) => h.name === 'controller0')?.groups).toEqual(['container-engine', 'controllers', 'network', 'ntp', 'overcloud']);
    expect(imp.hosts.find((h) => h.name === 'compute0')?.vars['aio_gateway']).toBe('192.168.33.4');
    expect(imp.networks).toEqual([{ name: 'aio', roles: AIO_ROLES, attributes: { ...AIO_POOLS, mtu: 1442 } }]);
    expect(allocations(imp)).toEqual(['aio compute0 192.168.33.6', 'aio controller0 192.168.33.3', 'aio seed 192.168.33.5', 'aio seed-hypervisor 192.168.33.4']);
    expect(imp.kollaFlags).toMatchObject({ kolla_enable_ironic: false, kolla_enable_swift: false });
    expect(warnings(imp, 'UnresolvedVariable')).toEqual(
      expect.arrayContaining(['globals.yml:49 os_distribution', 'inventory/group_vars/controllers/network-interfaces:6 aio_interface']),
    );
  });
});

describe.each([
  ['openstack/kayobe-config (commented template)', `${REF}/openstack+kayobe-config/etc/kayobe`, false],
  ['openstack/kayobe etc/kayobe', `${REF}/openstack+kayobe/etc/kayobe`, true],
])('import of %s', (_name, dir, hasAnsibleControl) => {
  it("has no managed hosts and Kayobe's default networks (§2.5: Ironic roles unused)", async () => {
    const imp = await importKayobeConfig(dir);

    expect(imp.hosts).toEqual([]);
    expect(imp.controlHosts).toEqual(['localhost']); // inventory/hosts.example (Ansible does not ignore .example)
    expect(imp.groups.map((g) => g.name)).toEqual(['all', 'ungrouped', ...(hasAnsibleControl ? ['ansible-control'] : []), ...STANDARD_GROUPS]);
    expect(imp.roles).toMatchObject({ admin_oc_net_name: 'provision_oc_net', oob_wl_net_name: null, cleaning_net_name: null, public_net_name: 'external_net', tunnel_net_name: 'internal_net' });
    expect(imp.networks.map((n) => [n.name, n.roles])).toEqual([
      ['external_net', ['external', 'public']],
      ['internal_net', ['internal', 'tunnel']],
      ['oob_oc_net', ['oob_oc']],
      ['provision_oc_net', ['admin_oc', 'provision_oc']],
      ['storage_mgmt_net', ['storage_mgmt', 'swift_storage_replication']],
      ['storage_net', ['storage', 'swift_storage']],
    ]);
    expect(imp.allocations).toEqual([]);
    expect(imp.problems).toEqual([]);
  });
});

describe('import of openstack/kayobe dev (etc/kayobe with -e @dev/dev-vagrant.yml -e @dev/dev-vagrant-network-allocation.yml)', () => {
  it('maps every role to aio and reports the allocation for controller1, which no inventory declares', async () => {
    const dev = `${REF}/openstack+kayobe/dev`;
    const imp = await importKayobeConfig(`${REF}/openstack+kayobe/etc/kayobe`, {
      extraVarsFiles: [`${dev}/dev-vagrant.yml`, `${dev}/dev-vagrant-network-allocation.yml`],
    });

    expect(imp.hosts).toEqual([]);
    expect(new Set(Object.values(imp.roles).flat())).toEqual(new Set(['aio']));
    expect(imp.networks).toEqual([
      {
        name: 'aio',
        roles: AIO_ROLES,
        attributes: {
          cidr: '192.168.33.0/24',
          allocation_pool_start: '192.168.33.3',
          allocation_pool_end: '192.168.33.127',
          inspection_allocation_pool_start: '192.168.33.128',
          inspection_allocation_pool_end: '192.168.33.254',
          vip_address: '192.168.33.2',
        },
      },
    ]);
    expect(allocations(imp)).toEqual(['aio controller1 192.168.33.3']);
    expect(imp.kollaFlags['kolla_enable_swift']).toBe(false);
    expect(imp.problems).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'AllocationForUnknownHost', file: `${dev}/dev-vagrant-network-allocation.yml`, line: 2, variable: 'aio_ips' }),
    ]);
  });
});

describe('import of a configuration with an environment (test/fixtures/with-env)', () => {
  it('layers environments/prod over the base: inventory, group_vars, networks and allocations', async () => {
    const base = await importKayobeConfig(`${FIXTURES}/with-env`);
    expect(summary(base)).toEqual({
      ctl1: { groups: ['controllers'], networks: [{ name: 'admin', interface: 'eno1', ip: '10.0.0.3' }, { name: 'internal', interface: 'eth0.101' }] },
    });

    const prod = await importKayobeConfig(`${FIXTURES}/with-env`, { environment: 'prod' });
    expect(summary(prod)).toEqual({
      // host_vars/ctl1.yml beats group_vars/controllers/network-interfaces; vlan from the env's networks.yml.
      ctl1: { groups: ['controllers'], networks: [{ name: 'admin', interface: 'eno1', ip: '10.0.0.3' }, { name: 'internal', interface: 'eth0.201' }] },
      cmp1: { groups: ['compute'], networks: [{ name: 'admin', ip: '10.0.0.4' }, { name: 'internal' }, { name: 'storage2', ip: '10.2.0.4' }] },
      cmp2: { groups: ['compute'], networks: [{ name: 'admin', ip: '10.0.0.5' }, { name: 'internal' }, { name: 'storage2' }] },
    });
    expect(prod.networks.find((n) => n.name === 'storage2')?.attributes).toEqual({ cidr: '10.2.0.0/24' });

    await expect(importKayobeConfig(`${FIXTURES}/with-env`, { environment: 'nope' })).rejects.toThrow(/environment "nope" does not exist/);
  });
});

describe('import of a broken configuration (test/fixtures/broken)', () => {
  it('imports nothing and names every error with file and line', async () => {
    const e = await importKayobeConfig(`${FIXTURES}/broken`).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(KayobeConfigError);
    const problems = (e as KayobeConfigError).problems.map((p) => `${p.code} ${p.file}:${p.line ?? ''}`);
    expect(problems.sort()).toEqual([
      'CircularGroups inventory/hosts:7',
      'DuplicateHost inventory/hosts:5',
      'MalformedYaml inventory/group_vars/compute/network-interfaces:2',
    ]);
  });
});
