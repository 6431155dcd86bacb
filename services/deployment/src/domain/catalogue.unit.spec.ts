import { describe, expect, it } from 'vitest';
import { HAVE_REFERENCE, NO_REFERENCE, readReference } from '../test-support/reference';
import {
  COMPONENT_GROUPS,
  DEFAULT_LAYOUT,
  FLAGS,
  KOLLA_TOP_LEVEL_GROUPS,
  SERVICES,
  SERVICE_GROUPS,
  containersFor,
  dependencyProblems,
  kollaGroupsOf,
  placement,
  resolveFlags,
} from './catalogue';
import { childGroups, groupsOf, hostsOf, parseInventory } from './kolla/ini';

const names = (groups: string[], flags = {}) => placement(groups, { flags }).map((c) => c.name);
const COMMON = ['kolla_toolbox', 'cron', 'fluentd'];
/** Every flag on except the ones that switch something else off (OVN replaces the OVS agents). */
const ALL_ON = Object.fromEntries(FLAGS.map((f) => [f.name, f.name !== 'enable_ovn']));
/** Kolla top-level group → the Kayobe group the default map sends to it. */
const KAYOBE_FOR: Record<string, string> = { control: 'controllers', network: 'network', compute: 'compute', monitoring: 'monitoring', storage: 'storage' };

describe('the catalogue data', () => {
  it('lists each service once, and each service depends only on services deployed before it', () => {
    const order = SERVICES.map((s) => s.name);
    expect(new Set(order).size).toBe(order.length);
    for (const s of SERVICES) {
      for (const d of s.dependsOn) {
        expect(order.indexOf(d), `${s.name} depends on ${d}`).toBeGreaterThanOrEqual(0);
        expect(order.indexOf(d), `${d} before ${s.name}`).toBeLessThan(order.indexOf(s.name));
      }
    }
  });

  it('follows Kolla-Ansible site.yml: mariadb, loadbalancer ... memcached ... rabbitmq, keystone ... nova, neutron ... horizon ... octavia', () => {
    const order = SERVICES.map((s) => s.name);
    const seq = ['common', 'mariadb', 'loadbalancer', 'opensearch', 'memcached', 'prometheus', 'rabbitmq', 'keystone', 'glance', 'ironic', 'cinder', 'placement', 'openvswitch', 'nova', 'neutron', 'heat', 'horizon', 'magnum', 'grafana', 'octavia', 'skyline'];
    expect(seq.map((s) => order.indexOf(s))).toEqual([...seq.map((s) => order.indexOf(s))].sort((a, b) => a - b));
    expect(seq.every((s) => order.includes(s))).toBe(true);
  });

  it('names each container once and places it on groups the layout defines', () => {
    const containers = SERVICES.flatMap((s) => s.containers);
    expect(new Set(containers.map((c) => c.name)).size).toBe(containers.length);
    const defined = new Set([...KOLLA_TOP_LEVEL_GROUPS, ...COMPONENT_GROUPS.map((g) => g.name), ...SERVICE_GROUPS.map((g) => g.name)]);
    for (const c of containers) for (const g of c.groups) expect(defined.has(g), `${c.name} on ${g}`).toBe(true);
  });

  it('refers only to flags it defines', () => {
    const flags = new Set(FLAGS.map((f) => f.name));
    for (const s of SERVICES) {
      if (s.flag) expect(flags.has(s.flag), s.flag).toBe(true);
      for (const c of s.containers) for (const w of c.when) expect(flags.has(w.replace(/^!/, '')), w).toBe(true);
    }
    for (const f of FLAGS) {
      if (typeof f.default !== 'boolean') for (const x of 'all' in f.default ? f.default.all : f.default.any) expect(flags.has(x), x).toBe(true);
    }
  });
});

describe('flags', () => {
  it("Given no overrides, then Kayobe's defaults hold: the core services and infrastructure on, the rest off", () => {
    const f = resolveFlags();
    for (const on of ['enable_keystone', 'enable_glance', 'enable_nova', 'enable_neutron', 'enable_heat', 'enable_horizon', 'enable_placement', 'enable_openvswitch', 'enable_mariadb', 'enable_rabbitmq', 'enable_memcached', 'enable_haproxy', 'enable_keepalived', 'enable_proxysql', 'enable_fluentd']) expect(f[on], on).toBe(true);
    for (const off of ['enable_cinder', 'enable_ironic', 'enable_octavia', 'enable_magnum', 'enable_prometheus', 'enable_grafana', 'enable_opensearch', 'enable_ovn', 'enable_iscsid', 'enable_tgtd']) expect(f[off], off).toBe(false);
  });

  it('Given a flag others follow, then they follow it unless overridden themselves', () => {
    expect(resolveFlags({ enable_openstack_core: false })).toMatchObject({ enable_nova: false, enable_placement: false, enable_keystone: false, enable_mariadb: true });
    expect(resolveFlags({ enable_central_logging: true })).toMatchObject({ enable_opensearch: true, enable_opensearch_dashboards: true });
    expect(resolveFlags({ enable_cinder: true, enable_cinder_backend_lvm: true })).toMatchObject({ enable_cinder_backend_iscsi: true, enable_iscsid: true, enable_tgtd: true });
    expect(resolveFlags({ enable_nova: true, enable_placement: false }).enable_placement).toBe(false);
  });

  it('reports enabled services whose dependencies are switched off', () => {
    expect(dependencyProblems(resolveFlags())).toEqual([]);
    expect(dependencyProblems(resolveFlags({ enable_rabbitmq: false }))).toEqual([
      'nova needs rabbitmq (enable_rabbitmq is false)',
      'neutron needs rabbitmq (enable_rabbitmq is false)',
      'heat needs rabbitmq (enable_rabbitmq is false)',
    ]);
    expect(dependencyProblems(resolveFlags({ enable_magnum: true, enable_heat: false }))).toEqual(['magnum needs heat (enable_heat is false)']);
  });
});

describe('placement with the default Kayobe map', () => {
  it('Given compute, then common, openvswitch, nova compute services and the OVS agent, in deploy order', () => {
    expect(placement(['compute'])).toEqual([
      { service: 'common', name: 'kolla_toolbox' },
      { service: 'common', name: 'cron' },
      { service: 'common', name: 'fluentd' },
      { service: 'openvswitch', name: 'openvswitch_db' },
      { service: 'openvswitch', name: 'openvswitch_vswitchd' },
      { service: 'nova', name: 'nova_libvirt' },
      { service: 'nova', name: 'nova_ssh' },
      { service: 'nova', name: 'nova_compute' },
      { service: 'neutron', name: 'neutron_openvswitch_agent' },
    ]);
  });

  it('Given controllers, then the databases and queues come before the APIs that need them', () => {
    expect(names(['controllers'])).toEqual([
      ...COMMON,
      'mariadb',
      'memcached',
      'rabbitmq',
      'keystone',
      'keystone_fernet',
      'keystone_ssh',
      'glance_api',
      'placement_api',
      'nova_api',
      'nova_scheduler',
      'nova_super_conductor',
      'nova_metadata',
      'nova_conductor',
      'nova_novncproxy',
      'neutron_server',
      'heat_api',
      'heat_api_cfn',
      'heat_engine',
      'horizon',
    ]);
  });

  it('Given network, then the load balancer, openvswitch and the L3/DHCP/metadata agents', () => {
    expect(names(['network'])).toEqual([...COMMON, 'haproxy', 'keepalived', 'proxysql', 'openvswitch_db', 'openvswitch_vswitchd', 'neutron_openvswitch_agent', 'neutron_dhcp_agent', 'neutron_l3_agent', 'neutron_metadata_agent']);
  });

  it("Given storage or monitoring with Kayobe's defaults (cinder, prometheus, grafana off), then only the common containers", () => {
    expect(names(['storage'])).toEqual(COMMON);
    expect(names(['monitoring'])).toEqual(COMMON);
  });

  it('Given monitoring with prometheus and grafana, then the server, alertmanager, exporters and grafana', () => {
    expect(names(['monitoring'], { enable_prometheus: true, enable_grafana: true })).toEqual([
      ...COMMON,
      'prometheus_server',
      'prometheus_node_exporter',
      'prometheus_cadvisor',
      'prometheus_alertmanager',
      'prometheus_openstack_exporter',
      'prometheus_blackbox_exporter',
      'grafana',
    ]);
  });

  it('Given cinder with LVM, then storage hosts run the volume side and compute hosts iscsid', () => {
    const f = { enable_cinder: true, enable_cinder_backend_lvm: true };
    expect(names(['storage'], f)).toEqual([...COMMON, 'iscsid', 'tgtd']);
    expect(names(['compute'], f)).toContain('iscsid');
    expect(names(['controllers'], f)).toEqual(expect.arrayContaining(['cinder_api', 'cinder_scheduler', 'cinder_volume', 'cinder_backup']));
  });

  it('Given OVN, then the OVN controller and metadata agent replace the OVS agents, and the OVN databases run on controllers', () => {
    expect(names(['compute'], { enable_ovn: true })).toEqual([...COMMON, 'openvswitch_db', 'openvswitch_vswitchd', 'ovn_controller', 'nova_libvirt', 'nova_ssh', 'nova_compute', 'neutron_ovn_metadata_agent']);
    expect(names(['controllers'], { enable_ovn: true })).toEqual(expect.arrayContaining(['ovn_northd', 'ovn_nb_db', 'ovn_sb_db']));
    expect(names(['network'], { enable_ovn: true })).not.toContain('neutron_l3_agent');
  });

  it('Given a host in no mapped group (seed, or a custom group), then it is not an overcloud host and runs nothing', () => {
    expect(placement([])).toEqual([]);
    expect(placement(['seed', 'my-custom-group'])).toEqual([]);
  });

  it('Given several groups, then the deploy order wins over the group order and nothing is placed twice', () => {
    expect(names(['network', 'compute'])).toEqual(names(['compute', 'network']));
    expect(placement(['compute', 'compute'])).toEqual(placement(['compute']));
    const n = names(['controllers', 'network', 'monitoring']);
    expect(new Set(n).size).toBe(n.length);
    expect(n.indexOf('mariadb')).toBeLessThan(n.indexOf('haproxy'));
    expect(n.indexOf('openvswitch_db')).toBeLessThan(n.indexOf('nova_api'));
  });

  it('a controller of the sample site (controllers, network, monitoring) runs 31 containers with the default flags (3 common + 19 + 9)', () => {
    expect(names(['controllers', 'network', 'monitoring'])).toHaveLength(31);
  });
});

describe('placement with custom maps', () => {
  it('Given extra Kayobe groups mapped to control and storage, then their hosts get those containers', () => {
    const layout = { ...DEFAULT_LAYOUT, topLevel: { ...DEFAULT_LAYOUT.topLevel, control: { groups: ['controllers', 'ctl-extra'] }, storage: { groups: ['storage', 'ceph'] } } };
    expect(placement(['ctl-extra'], { layout })).toEqual(placement(['controllers']));
    expect(placement(['ceph'], { layout, flags: { enable_cinder: true, enable_cinder_backend_lvm: true } }).map((c) => c.name)).toContain('tgtd');
  });

  it('Given custom components (the load balancer on the controllers), then haproxy moves with it', () => {
    const custom = childGroups(parseInventory('[loadbalancer:children]\ncontrol\n'));
    const components = DEFAULT_LAYOUT.components.map((g) => custom.find((c) => c.name === g.name) ?? g);
    const layout = { ...DEFAULT_LAYOUT, components };
    expect(placement(['controllers'], { layout }).map((c) => c.name)).toEqual(expect.arrayContaining(['haproxy', 'keepalived', 'proxysql']));
    expect(placement(['network'], { layout }).map((c) => c.name)).not.toContain('haproxy');
  });
});

describe.skipIf(!HAVE_REFERENCE)(`against Kolla-Ansible's multinode inventory (${HAVE_REFERENCE ? 'reference found' : NO_REFERENCE})`, () => {
  const multinode = () => parseInventory(readReference('openstack+kolla-ansible/ansible/inventory/multinode'));

  it('the component and service layout is exactly the multinode file below the top level, in file order', () => {
    const inv = multinode();
    expect([...COMPONENT_GROUPS, ...SERVICE_GROUPS].map((g) => ({ name: g.name, children: [...g.children] }))).toEqual(childGroups(inv));
    const topLevel = inv.sections.filter((s) => !s.includes(':'));
    expect(topLevel).toEqual(KOLLA_TOP_LEVEL_GROUPS);
  });

  it('every container sits on a group the multinode file defines', () => {
    const inv = multinode();
    for (const c of SERVICES.flatMap((s) => s.containers)) for (const g of c.groups) expect(inv.groups.has(g), `${c.name} on ${g}`).toBe(true);
  });

  for (const [label, overrides] of [
    ['default flags', {}],
    ['every service enabled', ALL_ON],
    ['OVN', { ...ALL_ON, enable_ovn: true }],
  ] as const) {
    it(`with ${label}, each multinode host gets the same containers from its Kayobe groups as from the file's groups`, () => {
      const inv = multinode();
      const flags = resolveFlags(overrides);
      for (const top of ['control', 'network', 'compute', 'monitoring', 'storage']) {
        for (const host of hostsOf(inv, top)) {
          const fromFile = containersFor(new Set(groupsOf(inv, host)), flags);
          const kayobe = KOLLA_TOP_LEVEL_GROUPS.filter((g) => hostsOf(inv, g).includes(host)).map((g) => KAYOBE_FOR[g] ?? g);
          expect(placement(kayobe, { flags: overrides }), host).toEqual(fromFile);
          expect(kollaGroupsOf(kayobe)).toEqual(new Set([...groupsOf(inv, host), ...kayobe]));
        }
      }
    });
  }

  it('places the expected containers on the multinode hosts', () => {
    const inv = multinode();
    const on = (host: string, overrides = {}) => containersFor(new Set(groupsOf(inv, host)), resolveFlags(overrides)).map((c) => c.name);
    expect(on('compute01')).toEqual(names(['compute']));
    expect(on('compute01')).toContain('nova_compute');
    expect(on('control02')).toEqual(expect.arrayContaining(['mariadb', 'rabbitmq', 'keystone', 'nova_api', 'neutron_server']));
    expect(on('network01')).toEqual(expect.arrayContaining(['haproxy', 'keepalived', 'neutron_l3_agent']));
    expect(on('monitoring01', { enable_prometheus: true })).toContain('prometheus_server');
    expect(on('storage01', { enable_cinder: true, enable_cinder_backend_lvm: true })).toEqual([...COMMON, 'iscsid', 'tgtd']);
    expect(on('localhost')).toEqual([]);
  });
});
