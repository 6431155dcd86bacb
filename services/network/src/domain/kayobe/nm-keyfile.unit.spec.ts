/**
 * NetworkManager keyfiles (Stackyard's renderer over Kayobe's nmstate semantics): one golden profile
 * per interface type, written out in full.
 */
import { describe, expect, it } from 'vitest';
import { kayobeHost, type KayobeNetworkAttrs, type KayobeNetworkVars } from './attributes';
import { KayobeConfigError } from './errors';
import { nmConnectionUuid, nmConnections, nmKeyfiles, uuidV5 } from './nm-keyfile';

const host = (networks: Record<string, KayobeNetworkAttrs>, vars: Partial<KayobeNetworkVars> = {}) =>
  kayobeHost('ctl-01', networks, { osFamily: 'RedHat', vars: { external_net_names: [], ...vars } });

/** The keyfile of one device. */
function keyfile(h: ReturnType<typeof host>, names: string[], device: string, opts = {}): string {
  const f = nmKeyfiles(h, names, opts).find((x) => x.path === `/etc/NetworkManager/system-connections/${device}.nmconnection`);
  if (!f) throw new Error(`no keyfile for ${device}`);
  return f.content;
}
const lines = (...xs: string[]) => `${xs.join('\n')}\n`;
const uuid = (device: string) => nmConnectionUuid('ctl-01', device);

describe('connection UUIDs', () => {
  it('are RFC 4122 version 5 UUIDs (the Python uuid5 vector for python.org in the DNS namespace)', () => {
    expect(uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
  });

  it('are stable per host and device, and differ between hosts', () => {
    expect(nmConnectionUuid('ctl-01', 'eth0')).toBe('548b98e5-6478-57d5-ac2f-ce1847433d3d');
    expect(nmConnectionUuid('ctl-01', 'eth0')).toBe(nmConnectionUuid('ctl-01', 'eth0'));
    expect(nmConnectionUuid('ctl-02', 'eth0')).not.toBe(nmConnectionUuid('ctl-01', 'eth0'));
  });
});

describe('nmKeyfiles', () => {
  it('ethernet, static: address, gateway, MTU, MAC binding, zone, ethtool, a route with options and a rule', () => {
    const h = host(
      {
        prov: {
          interface: 'eth0',
          cidr: '10.0.0.0/24',
          ips: { 'ctl-01': '10.0.0.10' },
          gateway: '10.0.0.1',
          mtu: 1500,
          macaddress: 'aa:bb:cc:dd:ee:ff',
          zone: 'trusted',
          ethtool_config: { ring: { rx: 2048, 'rx-max': 4096 }, feature: { gro: false } },
          routes: [{ cidr: '10.9.0.0/16', gateway: '10.0.0.254', table: 'mgmt', metric: 400, onlink: true }],
          rules: [{ from: '10.0.0.0/24', table: 'mgmt' }, { to: '10.8.0.0/16', priority: 100 }],
        },
      },
      { network_route_tables: [{ id: 10, name: 'mgmt' }] },
    );
    expect(keyfile(h, ['prov'], 'eth0')).toBe(
      lines(
        '[connection]',
        'id=eth0',
        'uuid=548b98e5-6478-57d5-ac2f-ce1847433d3d',
        'type=ethernet',
        'interface-name=eth0',
        'autoconnect=true',
        'zone=trusted',
        '',
        '[ethernet]',
        'mtu=1500',
        'mac-address=AA:BB:CC:DD:EE:FF',
        '',
        '[ethtool]',
        'feature-gro=false',
        'ring-rx=2048',
        '',
        '[ipv4]',
        'method=manual',
        'address1=10.0.0.10/24',
        'gateway=10.0.0.1',
        'route1=10.9.0.0/16,10.0.0.254,400',
        'route1_options=table=10,onlink=true',
        'routing-rule1=priority 32765 from 10.0.0.0/24 table 10',
        'routing-rule2=priority 100 to 10.8.0.0/16 table 254',
        '',
        '[ipv6]',
        'method=disabled',
      ),
    );
  });

  it('ethernet, DHCP with defroute false: method auto, ignore-auto-routes, never-default', () => {
    const h = host({ dhcp: { interface: 'eth0', bootproto: 'dhcp', gateway: '10.0.0.1', defroute: 'no' } });
    expect(keyfile(h, ['dhcp'], 'eth0')).toBe(
      lines('[connection]', 'id=eth0', `uuid=${uuid('eth0')}`, 'type=ethernet', 'interface-name=eth0', 'autoconnect=true', '', '[ipv4]', 'method=auto', 'ignore-auto-routes=true', 'never-default=true', '', '[ipv6]', 'method=disabled'),
    );
  });

  it('ethernet, DHCP with a gateway: the default route is a route entry (no static address to hang gateway= on)', () => {
    const h = host({ dhcp: { interface: 'eth0', bootproto: 'dhcp', gateway: '10.0.0.1' } });
    expect(keyfile(h, ['dhcp'], 'eth0')).toContain('[ipv4]\nmethod=auto\nroute1=0.0.0.0/0,10.0.0.1\n');
  });

  it('two networks on one device: one profile with address1 and address2', () => {
    const h = host({ a: { interface: 'eth4', cidr: '10.0.0.0/24', ips: { 'ctl-01': '10.0.0.1' } }, b: { interface: 'eth4', cidr: '10.0.1.0/24', ips: { 'ctl-01': '10.0.1.1' } } });
    expect(keyfile(h, ['a', 'b'], 'eth4')).toContain('[ipv4]\nmethod=manual\naddress1=10.0.0.1/24\naddress2=10.0.1.1/24\n');
  });

  it('dummy: type dummy (name dummy*), IP disabled without an address', () => {
    const h = host({ test: { interface: 'dummy2' } });
    expect(keyfile(h, ['test'], 'dummy2')).toBe(
      lines('[connection]', 'id=dummy2', `uuid=${uuid('dummy2')}`, 'type=dummy', 'interface-name=dummy2', 'autoconnect=true', '', '[ipv4]', 'method=disabled', '', '[ipv6]', 'method=disabled'),
    );
  });

  it('VLAN: parent and id, sorted QoS maps as from:to lists; its parent gets a profile with IP disabled', () => {
    const h = host({
      int: {
        interface: 'eth0.101',
        cidr: '10.1.0.0/24',
        ips: { 'ctl-01': '10.1.0.10' },
        ingress_qos_map: [
          { from: 7, to: 254 },
          { from: 3, to: 12 },
        ],
        egress_qos_map: [{ from: 2, to: 5 }],
      },
    });
    expect(keyfile(h, ['int'], 'eth0.101')).toBe(
      lines(
        '[connection]',
        'id=eth0.101',
        `uuid=${uuid('eth0.101')}`,
        'type=vlan',
        'interface-name=eth0.101',
        'autoconnect=true',
        '',
        '[vlan]',
        'parent=eth0',
        'id=101',
        'ingress-priority-map=3:12;7:254;',
        'egress-priority-map=2:5;',
        '',
        '[ipv4]',
        'method=manual',
        'address1=10.1.0.10/24',
        '',
        '[ipv6]',
        'method=disabled',
      ),
    );
    expect(keyfile(h, ['int'], 'eth0')).toBe(
      lines('[connection]', 'id=eth0', `uuid=${uuid('eth0')}`, 'type=ethernet', 'interface-name=eth0', 'autoconnect=true', '', '[ipv4]', 'method=disabled', '', '[ipv6]', 'method=disabled'),
    );
  });

  it('bridge: [bridge] stp, ports are profiles with master/slave-type=bridge, the bridge MTU and no IP settings', () => {
    const h = host({ br: { interface: 'br0', bridge_ports: ['eth1', 'dummy3'], mtu: 9000, cidr: '10.2.0.0/24', ips: { 'ctl-01': '10.2.0.5' } } });
    expect(keyfile(h, ['br'], 'br0')).toBe(
      lines(
        '[connection]',
        'id=br0',
        `uuid=${uuid('br0')}`,
        'type=bridge',
        'interface-name=br0',
        'autoconnect=true',
        '',
        '[ethernet]',
        'mtu=9000',
        '',
        '[bridge]',
        'stp=false',
        '',
        '[ipv4]',
        'method=manual',
        'address1=10.2.0.5/24',
        '',
        '[ipv6]',
        'method=disabled',
      ),
    );
    expect(keyfile(h, ['br'], 'eth1')).toBe(
      lines('[connection]', 'id=eth1', `uuid=${uuid('eth1')}`, 'type=ethernet', 'interface-name=eth1', 'autoconnect=true', 'master=br0', 'slave-type=bridge', '', '[ethernet]', 'mtu=9000'),
    );
    expect(keyfile(h, ['br'], 'dummy3')).toContain('type=dummy\n');
  });

  it('bond: [bond] mode and options; slaves are profiles with master/slave-type=bond', () => {
    const h = host({ bond: { interface: 'bond0', bond_slaves: ['eth2', 'eth3'], bond_mode: '802.3ad', bond_miimon: 100, bond_lacp_rate: 'fast', bond_xmit_hash_policy: 'layer3+4' } });
    expect(keyfile(h, ['bond'], 'bond0')).toBe(
      lines(
        '[connection]',
        'id=bond0',
        `uuid=${uuid('bond0')}`,
        'type=bond',
        'interface-name=bond0',
        'autoconnect=true',
        '',
        '[bond]',
        'mode=802.3ad',
        'lacp_rate=fast',
        'miimon=100',
        'xmit_hash_policy=layer3+4',
        '',
        '[ipv4]',
        'method=disabled',
        '',
        '[ipv6]',
        'method=disabled',
      ),
    );
    expect(keyfile(h, ['bond'], 'eth3')).toBe(lines('[connection]', 'id=eth3', `uuid=${uuid('eth3')}`, 'type=ethernet', 'interface-name=eth3', 'autoconnect=true', 'master=bond0', 'slave-type=bond'));
  });

  it('a bond without a mode gets balance-rr, as in the nmstate engine', () => {
    expect(keyfile(host({ bond: { interface: 'bond0', bond_slaves: ['eth2'] } }), ['bond'], 'bond0')).toContain('[bond]\nmode=balance-rr\n');
  });

  it('controllerKeys writes controller/port-type (NetworkManager 1.46+)', () => {
    const h = host({ bond: { interface: 'bond0', bond_slaves: ['eth2'] } });
    expect(keyfile(h, ['bond'], 'eth2', { controllerKeys: true })).toContain('controller=bond0\nport-type=bond\n');
  });

  it('OVS veth pair: both ends type veth with reciprocal peers and the MTU; -phy is a bridge port, -ovs has IP disabled', () => {
    const h = host({ ext: { interface: 'brext', bridge_ports: ['eth1'], mtu: 1500 } }, { external_net_names: ['ext'] });
    expect(keyfile(h, ['ext'], 'p-brext-phy')).toBe(
      lines('[connection]', 'id=p-brext-phy', `uuid=${uuid('p-brext-phy')}`, 'type=veth', 'interface-name=p-brext-phy', 'autoconnect=true', 'master=brext', 'slave-type=bridge', '', '[ethernet]', 'mtu=1500', '', '[veth]', 'peer=p-brext-ovs'),
    );
    expect(keyfile(h, ['ext'], 'p-brext-ovs')).toBe(
      lines(
        '[connection]',
        'id=p-brext-ovs',
        `uuid=${uuid('p-brext-ovs')}`,
        'type=veth',
        'interface-name=p-brext-ovs',
        'autoconnect=true',
        '',
        '[ethernet]',
        'mtu=1500',
        '',
        '[veth]',
        'peer=p-brext-phy',
        '',
        '[ipv4]',
        'method=disabled',
        '',
        '[ipv6]',
        'method=disabled',
      ),
    );
  });

  it('files are <device>.nmconnection in nmstate order (members before what uses them)', () => {
    const h = host({ bond: { interface: 'bond0', bond_slaves: ['eth2', 'eth3'] }, int: { interface: 'bond0.101', vlan: 101 }, br: { interface: 'br0', bridge_ports: ['eth1'] } });
    expect(nmKeyfiles(h, ['br', 'int', 'bond'], { dir: '/tmp/nm' }).map((f) => f.path)).toEqual([
      '/tmp/nm/eth1.nmconnection',
      '/tmp/nm/eth2.nmconnection',
      '/tmp/nm/eth3.nmconnection',
      '/tmp/nm/bond0.nmconnection',
      '/tmp/nm/bond0.101.nmconnection',
      '/tmp/nm/br0.nmconnection',
    ]);
    expect(nmConnections(h, ['br', 'int', 'bond']).map((c) => c.device)).toEqual(['eth1', 'eth2', 'eth3', 'bond0', 'bond0.101', 'br0']);
  });

  it('rejects what the nmstate engine rejects, with its messages (string rules here)', () => {
    const h = host({ test: { interface: 'eth0', rules: ['from 10.0.0.0/24 table 2'] } });
    expect(() => nmKeyfiles(h, ['test'])).toThrow(KayobeConfigError);
  });
});
