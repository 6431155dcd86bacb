import { describe, expect, it } from 'vitest';
import { ValidationError } from '@stackyard/errors';
import type { Envelope } from '@stackyard/events';
import type { Nic } from '@stackyard/proto/inventory/v1/inventory';
import { LabSwitchExecutor } from '../adapters/lab/lab-switch-executor';
import type { NetworkData } from '../domain/network';
import { LIMITS_EXCLUSIVE_MESSAGE, UNKNOWN_SWITCH_TYPE_MESSAGE } from '../domain/switches';
import { PhysicalNetworkService, type ConfigurePhysicalNetworkInput } from './physical-network';
import type { HostConfigData, HostConfigRepository, NetworkRepository, SwitchExecutor, Write } from './ports';

class Networks implements NetworkRepository {
  constructor(readonly rows: NetworkData[]) {}
  async get() {
    return null;
  }
  async put() {
    return 1;
  }
  async list(siteId: string) {
    return this.rows.filter((n) => n.siteId === siteId);
  }
}

class Configs implements HostConfigRepository {
  constructor(readonly rows: HostConfigData[]) {}
  async get() {
    return null;
  }
  async listSite(siteId: string) {
    return this.rows.filter((c) => c.host.siteId === siteId);
  }
  async save(_c: HostConfigData, _v: number | undefined, _e: readonly Envelope[]): Promise<Write> {
    return { outcome: 'written', version: 1 };
  }
}

const net = (name: string, vlan: number, groups: string[], extra: Partial<NetworkData> = {}): NetworkData => ({
  siteId: 'dc1',
  name,
  cidr: `10.${vlan}.0.0/24`,
  gateway: '',
  allocationPoolStart: '',
  allocationPoolEnd: '',
  vlan,
  mtu: 0,
  groups,
  interface: '{nic0}',
  ...extra,
});

const nic = (name: string, lldpSwitch: string, lldpPort: string): Nic => ({ name, macAddress: '52:54:00:00:00:01', speedMbps: 25_000, lldpSwitch, lldpPort });

const host = (name: string, groups: string[], nics: Nic[], state: HostConfigData['state'] = 'configured'): HostConfigData => ({
  host: { hostId: `dc1-${name}`, siteId: 'dc1', name, groups },
  allocations: [],
  files: [],
  state,
  nics,
});

const NETS = [
  net('internal', 20, ['controllers']),
  net('storage', 30, ['controllers', 'storage'], { interface: '{nic1}' }),
  net('provision_oc', 0, ['controllers', 'compute']),
  net('tenant', 40, ['compute']),
  net('other-site', 50, ['controllers'], { siteId: 'dc2' }),
];

const HOSTS = [
  host('ctl0', ['controllers'], [nic('eno1', 'leaf1', 'Ethernet1'), nic('eno2', 'leaf2.example.net', 'ethernet1')]),
  host('cmp0', ['compute'], [nic('eno1', 'leaf1', 'Ethernet2')]),
  host('gone', ['compute'], [nic('eno1', 'leaf1', 'Ethernet3')], 'released'),
  host('stor0', ['storage'], [nic('eno1', 'leaf1', 'Ethernet4'), nic('eno2', 'elsewhere', 'xe-0/0/1')]),
];

const INVENTORY = `
switches:
  leaf1:
    group: ctl-switches
    switch_type: arista
    ansible_host: 192.0.2.11
    switch_interface_config:
      Ethernet1: { description: ctl0 }
      Ethernet48: { description: uplink, config: [no switchport] }
  leaf2:
    group: ctl-switches
    switch_type: junos
    switch_interface_config:
      Ethernet1: { description: ctl0-storage }
  mgmt1:
    group: mgmt-switches
    switch_type: dellos10
    switch_config: [hostname mgmt1]
`;

function service(executor: SwitchExecutor = new LabSwitchExecutor()) {
  return new PhysicalNetworkService(new Networks(NETS), new Configs(HOSTS), executor);
}

const req = (over: Partial<ConfigurePhysicalNetworkInput> = {}): ConfigurePhysicalNetworkInput => ({
  siteId: 'dc1',
  switchesYaml: INVENTORY,
  group: '',
  display: true,
  enableDiscovery: false,
  disableDiscovery: false,
  ...over,
});

async function rejected(p: Promise<unknown>): Promise<ValidationError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ValidationError);
  return e as ValidationError;
}

describe('physical network configure (application)', () => {
  it('PN-01 Given hosts whose NICs report LLDP neighbours, then each port carries the VLANs of the networks that NIC carries', async () => {
    const r = await service().configure(req());
    const leaf1 = r.switches.find((s) => s.name === 'leaf1')!;
    expect(leaf1.outcome).toBe('display');
    expect(leaf1.interfaces.map((i) => [i.name, i.host, i.nic, i.nativeVlan, i.taggedVlans.join(',')])).toEqual([
      ['Ethernet1', 'ctl0', 'eno1', 0, '20'],
      ['Ethernet2', 'cmp0', 'eno1', 0, '40'],
      ['Ethernet48', '', '', 0, ''],
    ]);
    expect(leaf1.config).toContain('interface Ethernet1\n   description ctl0\n   switchport mode trunk\n   switchport trunk allowed vlan 20\n');
    // ctl0's storage network is on {nic1} = eno2, cabled to leaf2 (LLDP gives an FQDN and another case).
    const leaf2 = r.switches.find((s) => s.name === 'leaf2')!;
    expect(leaf2.interfaces).toEqual([{ name: 'Ethernet1', description: 'ctl0-storage', host: 'ctl0', nic: 'eno2', nativeVlan: 0, taggedVlans: [30], networks: ['storage'] }]);
    expect(leaf2.config).toContain('set interfaces Ethernet1 unit 0 family ethernet-switching vlan members storage');
    expect(r.display).toContain('# leaf1 (Arista EOS, ctl-switches)');
    expect(r.notes).toEqual([
      'host cmp0: network provision_oc has no VLAN id: it is not placed on switch ports',
      'host ctl0: network provision_oc has no VLAN id: it is not placed on switch ports',
      'host stor0: NIC eno2 is cabled to elsewhere, which is not in the switch inventory',
    ]);
    expect(r.notes.some((n) => n.includes('gone'))).toBe(false);
    expect(r.executor).toBe('');
  });

  it('PN-02 Given a bond with a VLAN on a plain untagged parent, then the bond members carry the VLAN natively and the VLAN on top tagged', async () => {
    const nets = [
      net('bonded', 10, ['controllers'], { interface: 'bond0', kayobe: { bond_slaves: ['{nic0}', '{nic1}'], bond_mode: '802.3ad' } }),
      net('api', 70, ['controllers'], { interface: 'bond0.70' }),
    ];
    const hosts = [host('ctl0', ['controllers'], [nic('eno1', 'leaf1', 'Ethernet1'), nic('eno2', 'leaf1', 'Ethernet2')])];
    const svc = new PhysicalNetworkService(new Networks(nets), new Configs(hosts), new LabSwitchExecutor());
    const r = await svc.configure(req({ switchesYaml: 'switches: {leaf1: {switch_type: nvue}}' }));
    expect(r.switches[0]!.interfaces.map((i) => [i.name, i.nic, i.nativeVlan, i.taggedVlans])).toEqual([
      ['Ethernet1', 'eno1', 10, [70]],
      ['Ethernet2', 'eno2', 10, [70]],
    ]);
    expect(r.switches[0]!.config).toContain('nv set interface Ethernet1 bridge domain br_default untagged 10');
  });

  it('PN-03 Given two host NICs reporting the same switch port, then the port is left out and a note says why', async () => {
    const hosts = [host('a', ['compute'], [nic('eno1', 'leaf1', 'Ethernet9')]), host('b', ['compute'], [nic('eno1', 'leaf1', 'Ethernet9')])];
    const svc = new PhysicalNetworkService(new Networks(NETS), new Configs(hosts), new LabSwitchExecutor());
    const r = await svc.configure(req({ switchesYaml: 'switches: {leaf1: {switch_type: arista}}' }));
    expect(r.switches[0]!.interfaces).toEqual([]);
    expect(r.notes).toContain('switch leaf1 port Ethernet9 is reported by a/eno1, b/eno1: left out (fix the cabling or the LLDP facts)');
  });

  it('PN-04 Given --group and --interface-limit, then only those switches and interfaces are rendered', async () => {
    const r = await service().configure(req({ group: 'ctl-switches', interfaceLimit: 'Ethernet1' }));
    expect(r.switches.map((s) => [s.name, s.interfaces.map((i) => i.name)])).toEqual([
      ['leaf1', ['Ethernet1']],
      ['leaf2', ['Ethernet1']],
    ]);
    const d = await service().configure(req({ interfaceDescriptionLimit: 'uplink' }));
    expect(d.switches.find((s) => s.name === 'leaf1')!.interfaces.map((i) => i.name)).toEqual(['Ethernet48']);
  });

  it('PN-05 Given an apply with the lab executor twice, then the first changes each switch and the second changes nothing', async () => {
    const lab = new LabSwitchExecutor();
    const first = await service(lab).configure(req({ display: false }));
    expect(first.executor).toBe('lab');
    expect(first.switches.map((s) => [s.name, s.outcome])).toEqual([
      ['leaf1', 'changed'],
      ['leaf2', 'changed'],
      ['mgmt1', 'changed'],
    ]);
    const second = await service(lab).configure(req({ display: false }));
    expect(second.switches.map((s) => s.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(lab.switches.get('dc1/mgmt1')).toBe('hostname mgmt1\n');
  });

  it('PN-06 Given an executor failing on one switch, then that switch is failed and the others are applied', async () => {
    const r = await service(new LabSwitchExecutor(['leaf2'])).configure(req({ display: false }));
    expect(r.switches.map((s) => s.outcome)).toEqual(['changed', 'failed', 'changed']);
    expect(r.switches[1]!.message).toMatch(/^HostUnreachable: lab: switch leaf2/);
  });

  it('PN-07 Given bad inputs, then a ValidationError names the field and nothing is applied', async () => {
    const lab = new LabSwitchExecutor();
    const svc = service(lab);
    const cases: [Partial<ConfigurePhysicalNetworkInput>, string, string | RegExp][] = [
      [{ siteId: '' }, 'site_id', /required/],
      [{ switchesYaml: '  ' }, 'switches_yaml', /required/],
      [{ switchesYaml: 'switches: {leaf1: [' }, 'switches_yaml', /not valid YAML/],
      [{ switchesYaml: 'switches: {leaf1: {switch_type: cisco}}' }, 'switches.leaf1.switch_type', UNKNOWN_SWITCH_TYPE_MESSAGE],
      [{ switchesYaml: 'switches: {leaf1: {switch_type: arista, ansible_host: "-oProxyCommand=x"}}' }, 'switches.leaf1.ansible_host', /host name or an IP/],
      [{ interfaceLimit: 'Ethernet1', interfaceDescriptionLimit: 'ctl0' }, 'interface_description_limit', LIMITS_EXCLUSIVE_MESSAGE],
      [{ interfaceLimit: 'Ethernet1,,x' }, 'interface_limit', /item 2 is empty/],
      [{ enableDiscovery: true, disableDiscovery: true }, 'disable_discovery', /not allowed with/],
      [{ group: 'tor-switches' }, 'group', /must be one of/],
      [
        { switchesYaml: 'switches: {leaf1: {switch_type: arista, switch_interface_config: {Ethernet1: {config: [switchport access vlan 5]}}}}' },
        'switches.leaf1.switch_interface_config.Ethernet1.config[0]',
        /derived from the cabled host "ctl0\/eno1"/,
      ],
    ];
    for (const [over, field, message] of cases) {
      const e = await rejected(svc.configure(req({ display: false, ...over })));
      expect(e.field, JSON.stringify(over)).toBe(field);
      expect(e.message).toMatch(message);
    }
    expect(lab.switches.size).toBe(0);
  });
});
