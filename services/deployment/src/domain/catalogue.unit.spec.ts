import { describe, expect, it } from 'vitest';
import { CATALOGUE, COMMON, placement } from './catalogue';

const names = (groups: string[]) => placement(groups).map((c) => c.name);
const COMMON_CONTAINERS = [
  { service: 'common', name: 'fluentd' },
  { service: 'common', name: 'kolla_toolbox' },
  { service: 'common', name: 'cron' },
];

describe('placement', () => {
  it('Given no groups, then a host runs only the common containers', () => {
    expect(placement([])).toEqual(COMMON_CONTAINERS);
  });

  it('Given an unknown group, then it adds nothing beyond the common containers', () => {
    expect(placement(['my-custom-group'])).toEqual(COMMON_CONTAINERS);
  });

  it('Given compute, then it runs common first, then openvswitch, nova and neutron in deploy order', () => {
    expect(placement(['compute'])).toEqual([
      ...COMMON_CONTAINERS,
      { service: 'openvswitch', name: 'openvswitch_db' },
      { service: 'openvswitch', name: 'openvswitch_vswitchd' },
      { service: 'nova', name: 'nova_libvirt' },
      { service: 'nova', name: 'nova_compute' },
      { service: 'neutron', name: 'neutron_openvswitch_agent' },
    ]);
  });

  it('Given controllers, then infrastructure comes before the APIs that need it', () => {
    const n = names(['controllers']);
    const before = (a: string, b: string) => expect(n.indexOf(a), `${a} before ${b}`).toBeLessThan(n.indexOf(b));
    before('haproxy', 'mariadb');
    before('mariadb', 'keystone');
    before('rabbitmq', 'nova_api');
    before('keystone', 'glance_api');
    before('keystone', 'nova_api');
    before('nova_conductor', 'neutron_server');
    before('heat_engine', 'horizon');
    expect(n.slice(0, 3)).toEqual(['fluentd', 'kolla_toolbox', 'cron']);
  });

  it('Given network and compute, then containers both groups share are placed once, where first needed', () => {
    const p = placement(['network', 'compute']);
    expect(p.map((c) => c.name)).toEqual([
      'fluentd',
      'kolla_toolbox',
      'cron',
      'openvswitch_db',
      'openvswitch_vswitchd',
      'neutron_openvswitch_agent',
      'neutron_l3_agent',
      'neutron_dhcp_agent',
      'neutron_metadata_agent',
      'nova_libvirt',
      'nova_compute',
    ]);
  });

  it('follows the order of the host groups', () => {
    expect(names(['storage', 'monitoring']).slice(3)).toEqual(['cinder_volume', 'cinder_backup', 'iscsid', 'tgtd', 'prometheus_server', 'prometheus_alertmanager', 'grafana']);
    expect(names(['monitoring', 'storage']).slice(3)).toEqual(['prometheus_server', 'prometheus_alertmanager', 'grafana', 'cinder_volume', 'cinder_backup', 'iscsid', 'tgtd']);
  });

  it('Given a repeated group, then nothing is placed twice', () => {
    expect(placement(['compute', 'compute'])).toEqual(placement(['compute']));
  });

  it('Given every group, then each container appears exactly once and all of them are placed', () => {
    const all = placement(Object.keys(CATALOGUE));
    const n = all.map((c) => c.name);
    expect(new Set(n).size).toBe(n.length);
    const every = new Set([...COMMON, ...Object.values(CATALOGUE).flat()].flatMap((s) => s.containers));
    expect(new Set(n)).toEqual(every);
  });

  it('a controller of the sample site (controllers, network, monitoring) runs 30 distinct containers (3 common + 18 + 6 + 3)', () => {
    const n = names(['controllers', 'network', 'monitoring']);
    expect(n).toHaveLength(30);
    expect(new Set(n).size).toBe(30);
    expect(n.at(-1)).toBe('grafana');
  });
});
