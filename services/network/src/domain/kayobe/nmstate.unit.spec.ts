/**
 * Golden tests from reference/kayobe.md §4.4 (Kayobe's test_nmstate.py, os_family RedHat unless noted)
 * and §3.4-3.7: one test per fact, expected values and Kayobe's error texts written out.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kayobeHost, type KayobeNetworkAttrs, type KayobeNetworkVars } from './attributes';
import { KayobeConfigError } from './errors';
import { nmstateConfig, nmstateFiles, renderNmstateYaml, type NmstateInterface, type NmstateState } from './nmstate';

/** The §4.4 fixture. */
const FIXTURE: Record<string, KayobeNetworkAttrs> = {
  net1: {
    interface: 'eth0',
    ips: { 'test-host': '1.2.3.4' },
    cidr: '1.2.3.4/24',
    gateway: '1.2.3.1',
    mtu: 1500,
    ethtool_config: { ring: { rx: 2048, tx: 2048 }, feature: { rx: true, gso: false } },
  },
  net2: { interface: 'eth0.2', vlan: 2, ips: { 'test-host': '1.2.4.4' }, cidr: '1.2.4.4/24' },
  net3: { interface: 'br0', bridge_ports: ['eth1'], bridge_stp: true, mtu: 9000 },
  net4: {
    interface: 'bond0',
    bond_slaves: ['eth2', 'eth3'],
    bond_mode: 'layer3+4',
    bond_miimon: 100,
    bond_updelay: 200,
    bond_downdelay: 300,
    bond_xmit_hash_policy: 'layer3+4',
    bond_lacp_rate: 1,
    bond_ad_select: 'bandwidth',
  },
  net5: { interface: 'eth4', ips: { 'test-host': '10.0.0.1' }, cidr: '10.0.0.1/24' },
  net6: { interface: 'eth4', ips: { 'test-host': '10.0.0.2' }, cidr: '10.0.0.2/24' },
};

const fixtureHost = (vars: Partial<KayobeNetworkVars> = {}) => kayobeHost('test-host', FIXTURE, { osFamily: 'RedHat', vars: { external_net_names: [], ...vars } });

/** A host with only the networks given (Kayobe's per-test `variables`). */
function only(networks: Record<string, KayobeNetworkAttrs>, opts: { osFamily?: 'Debian' | 'RedHat'; vars?: Partial<KayobeNetworkVars> } = {}) {
  return kayobeHost('test-host', networks, { osFamily: opts.osFamily ?? 'RedHat', vars: { external_net_names: [], ...opts.vars } });
}

const iface = (s: NmstateState, name: string): NmstateInterface => {
  const i = s.interfaces.find((x) => x.name === name);
  if (!i) throw new Error(`no interface ${name} in ${s.interfaces.map((x) => x.name).join(', ')}`);
  return i;
};
const defaultRoutes = (s: NmstateState) => s.routes.config.filter((r) => r.destination === '0.0.0.0/0');

function kayobeError(fn: () => unknown): KayobeConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KayobeConfigError);
    return e as KayobeConfigError;
  }
  throw new Error('expected a KayobeConfigError');
}

describe('nmstate_config: interface types (§4.4)', () => {
  it('ethernet: eth0 up, mtu 1500, static 1.2.3.4/24, ethtool with aliases resolved; the first route goes via 1.2.3.1', () => {
    const s = nmstateConfig(fixtureHost(), ['net1']);
    expect(s.interfaces).toContainEqual({
      name: 'eth0',
      state: 'up',
      type: 'ethernet',
      mtu: 1500,
      ipv4: { enabled: true, dhcp: false, address: [{ ip: '1.2.3.4', 'prefix-length': 24 }] },
      ethtool: { ring: { rx: 2048, tx: 2048 }, feature: { 'rx-checksum': true, 'tx-generic-segmentation': false } },
    });
    expect(s.routes.config[0]).toEqual({ destination: '0.0.0.0/0', 'next-hop-address': '1.2.3.1', 'next-hop-interface': 'eth0' });
  });

  it('VLAN: the interfaces are eth0 and eth0.2; eth0.2 is type vlan on base-iface eth0 with id 2', () => {
    const s = nmstateConfig(fixtureHost(), ['net2']);
    expect(s.interfaces.map((i) => i.name)).toEqual(['eth0', 'eth0.2']);
    expect(iface(s, 'eth0.2')).toEqual({
      name: 'eth0.2',
      state: 'up',
      type: 'vlan',
      ipv4: { enabled: true, dhcp: false, address: [{ ip: '1.2.4.4', 'prefix-length': 24 }] },
      vlan: { 'base-iface': 'eth0', id: 2 },
    });
    // The parent is only brought up: no network configures it.
    expect(iface(s, 'eth0')).toEqual({ name: 'eth0', state: 'up' });
  });

  it('bridge: br0 linux-bridge, mtu 9000, port eth1, STP enabled; eth1 is ethernet with the bridge MTU 9000', () => {
    const s = nmstateConfig(fixtureHost(), ['net3']);
    expect(iface(s, 'br0')).toEqual({ name: 'br0', state: 'up', mtu: 9000, type: 'linux-bridge', bridge: { port: [{ name: 'eth1' }], options: { stp: { enabled: true } } } });
    expect(iface(s, 'eth1')).toEqual({ name: 'eth1', state: 'up', type: 'ethernet', mtu: 9000 });
    expect(s.interfaces.map((i) => i.name)).toEqual(['eth1', 'br0']);
  });

  it('bond: link-aggregation mode "layer3+4" with every option and ports eth2, eth3', () => {
    const s = nmstateConfig(fixtureHost(), ['net4']);
    expect(iface(s, 'bond0')).toEqual({
      name: 'bond0',
      state: 'up',
      type: 'bond',
      'link-aggregation': {
        port: ['eth2', 'eth3'],
        mode: 'layer3+4',
        options: { ad_select: 'bandwidth', downdelay: 300, lacp_rate: 1, miimon: 100, updelay: 200, xmit_hash_policy: 'layer3+4' },
      },
    });
    expect(iface(s, 'eth2').type).toBe('ethernet');
    expect(iface(s, 'eth3').type).toBe('ethernet');
  });

  it('two networks on eth4: one ethernet interface with both addresses', () => {
    const s = nmstateConfig(fixtureHost(), ['net5', 'net6']);
    expect(s.interfaces).toEqual([
      {
        name: 'eth4',
        state: 'up',
        type: 'ethernet',
        ipv4: {
          enabled: true,
          dhcp: false,
          address: [
            { ip: '10.0.0.1', 'prefix-length': 24 },
            { ip: '10.0.0.2', 'prefix-length': 24 },
          ],
        },
      },
    ]);
  });

  it('dummy2 is inferred as type dummy', () => {
    expect(iface(nmstateConfig(only({ test: { interface: 'dummy2' } }), ['test']), 'dummy2').type).toBe('dummy');
  });

  it('<net>_type: ethernet overrides the dummy inference', () => {
    expect(iface(nmstateConfig(only({ test: { interface: 'dummy2', type: 'ethernet' } }), ['test']), 'dummy2').type).toBe('ethernet');
  });

  it('bridge ports dummy3 and dummy4 are inferred as dummy', () => {
    const s = nmstateConfig(only({ test: { interface: 'br0', bridge_ports: ['dummy3', 'dummy4'] } }), ['test']);
    expect([iface(s, 'dummy3').type, iface(s, 'dummy4').type]).toEqual(['dummy', 'dummy']);
  });

  it('port_type_dummy3: ethernet overrides dummy3 only', () => {
    const s = nmstateConfig(only({ test: { interface: 'br0', bridge_ports: ['dummy3', 'dummy4'], port_type_dummy3: 'ethernet' } }), ['test']);
    expect([iface(s, 'dummy3').type, iface(s, 'dummy4').type]).toEqual(['ethernet', 'dummy']);
  });

  it('bond slaves dummy5 and dummy6 are inferred as dummy', () => {
    const s = nmstateConfig(only({ test: { interface: 'bond0', bond_slaves: ['dummy5', 'dummy6'] } }), ['test']);
    expect([iface(s, 'dummy5').type, iface(s, 'dummy6').type]).toEqual(['dummy', 'dummy']);
  });

  it('slave_type_dummy5: ethernet overrides dummy5 only', () => {
    const s = nmstateConfig(only({ test: { interface: 'bond0', bond_slaves: ['dummy5', 'dummy6'], slave_type_dummy5: 'ethernet' } }), ['test']);
    expect([iface(s, 'dummy5').type, iface(s, 'dummy6').type]).toEqual(['ethernet', 'dummy']);
  });

  it('a bond without a mode gets balance-rr', () => {
    const s = nmstateConfig(only({ test: { interface: 'bond0', bond_slaves: ['eth0', 'eth1'] } }), ['test']);
    expect(iface(s, 'bond0')['link-aggregation']).toEqual({ port: ['eth0', 'eth1'], mode: 'balance-rr' });
  });

  it('an explicit bond mode 802.3ad is kept', () => {
    const s = nmstateConfig(only({ test: { interface: 'bond0', bond_slaves: ['eth0', 'eth1'], bond_mode: '802.3ad' } }), ['test']);
    expect(iface(s, 'bond0')['link-aggregation']).toEqual({ port: ['eth0', 'eth1'], mode: '802.3ad' });
  });

  it('a network without an interface is skipped silently', () => {
    expect(nmstateConfig(only({ test: { cidr: '10.0.0.0/24', ips: { 'test-host': '10.0.0.5' } } }), ['test'])).toEqual({ interfaces: [], routes: { config: [] }, 'route-rules': { config: [] } });
  });

  it('interfaces are ordered ethernet/dummy, bond, veth, vlan, linux-bridge', () => {
    const s = nmstateConfig(fixtureHost({ external_net_names: ['net3'] }), ['net3', 'net2', 'net4', 'net1']);
    expect(s.interfaces.map((i) => [i.name, i.type])).toEqual([
      ['eth1', 'ethernet'],
      ['eth0', 'ethernet'],
      ['eth2', 'ethernet'],
      ['eth3', 'ethernet'],
      ['bond0', 'bond'],
      ['p-br0-phy', 'veth'],
      ['p-br0-ovs', 'veth'],
      ['eth0.2', 'vlan'],
      ['br0', 'linux-bridge'],
    ]);
  });
});

describe('nmstate_config: ethtool (§4.4)', () => {
  const eth = (ethtool_config: Record<string, unknown>) => only({ test: { interface: 'eth0', ethtool_config } });

  it('ring rx 4096, tx 2048, rx-max 8192 passes through', () => {
    expect(iface(nmstateConfig(eth({ ring: { rx: 4096, tx: 2048, 'rx-max': 8192 } }), ['test']), 'eth0').ethtool).toEqual({ ring: { rx: 4096, tx: 2048, 'rx-max': 8192 } });
  });

  it('the canonical (Tier 1) features pass through', () => {
    const feature = { 'rx-checksum': true, 'tx-checksum-ip-generic': false, 'rx-gro': true, 'tx-generic-segmentation': false, 'rx-lro': true, 'hw-tc-offload': true };
    expect(iface(nmstateConfig(eth({ feature }), ['test']), 'eth0').ethtool).toEqual({ feature });
  });

  it('aliases rx, gro, gso, lro become rx-checksum, rx-gro, tx-generic-segmentation, rx-lro', () => {
    const s = nmstateConfig(eth({ feature: { rx: true, gro: false, gso: true, lro: false } }), ['test']);
    expect(iface(s, 'eth0').ethtool).toEqual({ feature: { 'rx-checksum': true, 'rx-gro': false, 'tx-generic-segmentation': true, 'rx-lro': false } });
  });

  it('an unsupported feature is "Unsupported ethtool features: unsupported-feature" with the supported lists', () => {
    const e = kayobeError(() => nmstateConfig(eth({ feature: { 'unsupported-feature': true } }), ['test']));
    expect(e.field).toBe('test_ethtool_config');
    expect(e.kayobeMessage).toBe(
      "Invalid ethtool configuration for network 'test': Unsupported ethtool features: unsupported-feature. " +
        'Tier 1 supported features: hw-tc-offload, rx-checksum, rx-gro, rx-lro, tx-checksum-ip-generic, tx-generic-segmentation. ' +
        'Supported aliases: rx -> rx-checksum, gro -> rx-gro, gso -> tx-generic-segmentation, lro -> rx-lro',
    );
  });

  it('an unknown ring key is "Unsupported ring parameters: invalid-param"', () => {
    expect(kayobeError(() => nmstateConfig(eth({ ring: { 'invalid-param': 1024 } }), ['test'])).kayobeMessage).toBe(
      "Invalid ethtool configuration for network 'test': Unsupported ring parameters: invalid-param. Supported parameters: rx, rx-jumbo, rx-max, rx-mini, tx, tx-max",
    );
  });

  it('a non-boolean feature is "Ethtool feature \'rx-checksum\' must be boolean"', () => {
    expect(kayobeError(() => nmstateConfig(eth({ feature: { 'rx-checksum': 'invalid' } }), ['test'])).kayobeMessage).toBe(
      "Invalid ethtool configuration for network 'test': Ethtool feature 'rx-checksum' must be boolean, got str",
    );
  });

  it('ring rx -1 is "Ring parameter \'rx\' must be a non-negative integer"', () => {
    expect(kayobeError(() => nmstateConfig(eth({ ring: { rx: -1 } }), ['test'])).kayobeMessage).toBe(
      "Invalid ethtool configuration for network 'test': Ring parameter 'rx' must be a non-negative integer, got -1",
    );
  });
});

describe('nmstate_config: VLANs (§4.4, §3.3-3.4)', () => {
  it('the id comes from the name eth0.123 when vlan is unset: base eth0, id 123', () => {
    const s = nmstateConfig(only({ vlan: { interface: 'eth0.123' } }), ['vlan']);
    expect(iface(s, 'eth0.123').vlan).toEqual({ 'base-iface': 'eth0', id: 123 });
  });

  it('custom1 with vlan 100 and parent eth0: base eth0, id 100', () => {
    const s = nmstateConfig(only({ vlan: { interface: 'custom1', vlan: 100, parent: 'eth0' } }), ['vlan']);
    expect(iface(s, 'custom1')).toMatchObject({ type: 'vlan', vlan: { 'base-iface': 'eth0', id: 100 } });
  });

  it('vlan_interface: eth0 without a vlan stays ethernet', () => {
    expect(iface(nmstateConfig(only({ vlan: { interface: 'eth0' } }), ['vlan']), 'eth0').type).toBe('ethernet');
  });

  it('bond0.42 with vlan 42: base bond0, and bond0 is brought up', () => {
    const s = nmstateConfig(only({ vlan: { interface: 'bond0.42', vlan: 42 } }), ['vlan']);
    expect(iface(s, 'bond0.42').vlan).toEqual({ 'base-iface': 'bond0', id: 42 });
    expect(iface(s, 'bond0').state).toBe('up');
  });

  it('br0.6 on bridge br0 with the same MTU (9150/9150) carries no MTU', () => {
    const h = only({ br: { interface: 'br0', bridge_ports: ['eth1'], mtu: 9150 }, v: { interface: 'br0.6', vlan: 6, mtu: 9150 } });
    expect(iface(nmstateConfig(h, ['br', 'v']), 'br0.6')).toEqual({ name: 'br0.6', state: 'up', type: 'vlan', vlan: { 'base-iface': 'br0', id: 6 } });
  });

  it('br0.6 with MTU 9000 on bridge br0 with MTU 9150 keeps 9000', () => {
    const h = only({ br: { interface: 'br0', bridge_ports: ['eth1'], mtu: 9150 }, v: { interface: 'br0.6', vlan: 6, mtu: 9000 } });
    expect(iface(nmstateConfig(h, ['br', 'v']), 'br0.6').mtu).toBe(9000);
  });

  it('QoS maps are sorted by (from, to): ingress [{7,254},{3,12}] and egress [{130,6},{129,7}]', () => {
    const h = only({
      vlan: {
        interface: 'eth0.123',
        ingress_qos_map: [
          { from: 7, to: 254 },
          { from: 3, to: 12 },
        ],
        egress_qos_map: [
          { from: 130, to: 6 },
          { from: 129, to: 7 },
        ],
      },
    });
    expect(iface(nmstateConfig(h, ['vlan']), 'eth0.123').vlan).toEqual({
      'base-iface': 'eth0',
      id: 123,
      'ingress-qos-map': [
        { from: 3, to: 12 },
        { from: 7, to: 254 },
      ],
      'egress-qos-map': [
        { from: 129, to: 7 },
        { from: 130, to: 6 },
      ],
    });
  });

  it.each([
    ['non-list input', { ingress_qos_map: '' }, "Network 'vlan' has invalid ingress QoS map format 'str'. Expected a list of dicts with keys 'from' and 'to'."],
    ['missing required key', { ingress_qos_map: [{ from: 1 }] }, "Network 'vlan' has invalid ingress QoS map entry. Required keys are 'from' and 'to'."],
    ['wrong entry type', { ingress_qos_map: ['1:2'] }, "Network 'vlan' has invalid ingress QoS map entry format. Expected a dict with keys 'from' and 'to'."],
    ['egress to 8', { egress_qos_map: [{ from: 129, to: 8 }] }, "Network 'vlan' has invalid egress QoS map 'to' value '8'. Maximum VLAN priority is 7."],
    ['ingress from 8', { ingress_qos_map: [{ from: 8, to: 1 }] }, "Network 'vlan' has invalid ingress QoS map 'from' value '8'. Maximum VLAN priority is 7."],
    ['a boolean', { egress_qos_map: [{ from: true, to: 1 }] }, "Network 'vlan' has invalid egress QoS map 'from' value 'True'. Expected an integer."],
    ['a string', { egress_qos_map: [{ from: '3', to: 1 }] }, "Network 'vlan' has invalid egress QoS map 'from' value '3'. Expected an integer."],
    ['above 2^32-1', { egress_qos_map: [{ from: 2 ** 32, to: 1 }] }, "Network 'vlan' has invalid egress QoS map 'from' value '4294967296'. Expected a value in range 0..4294967295."],
    ['negative', { ingress_qos_map: [{ from: 1, to: -1 }] }, "Network 'vlan' has invalid ingress QoS map 'to' value '-1'. Expected a value in range 0..4294967295."],
  ])('QoS map %s is a ValueError', (_case, attrs, message) => {
    const e = kayobeError(() => nmstateConfig(only({ vlan: { interface: 'eth0.123', ...(attrs as KayobeNetworkAttrs) } }), ['vlan']));
    expect(e.kayobeMessage).toBe(message);
    expect(e.field).toBe(`vlan_${Object.keys(attrs)[0]}`);
  });
});

describe('nmstate_config: bridge STP (§4.4)', () => {
  const bridge = (bridge_stp: string | undefined, osFamily: 'Debian' | 'RedHat') => iface(nmstateConfig(only({ test: { interface: 'br0', bridge_ports: ['eth1'], bridge_stp } }, { osFamily }), ['test']), 'br0');

  it('unset on Debian: no options', () => {
    expect(bridge(undefined, 'Debian').bridge).toEqual({ port: [{ name: 'eth1' }] });
  });

  it('unset on RedHat: Kayobe forces "false", so STP is disabled', () => {
    expect(bridge(undefined, 'RedHat').bridge).toEqual({ port: [{ name: 'eth1' }], options: { stp: { enabled: false } } });
  });

  it('"true": enabled', () => {
    expect(bridge('true', 'RedHat').bridge?.options).toEqual({ stp: { enabled: true } });
  });

  it('"false": disabled', () => {
    expect(bridge('false', 'RedHat').bridge?.options).toEqual({ stp: { enabled: false } });
  });
});

describe('nmstate_config: defroute (§4.4)', () => {
  const staticNet = (defroute?: string) => only({ test: { interface: 'eth0', ips: { 'test-host': '10.0.0.1' }, cidr: '10.0.0.1/24', gateway: '10.0.0.254', defroute } });
  const dhcpNet = (defroute: string) => only({ test: { interface: 'eth0', bootproto: 'dhcp', gateway: '10.0.0.1', defroute } });

  it('static, gateway, defroute false: the address but no 0.0.0.0/0 route', () => {
    const s = nmstateConfig(staticNet('false'), ['test']);
    expect(iface(s, 'eth0').ipv4?.address).toEqual([{ ip: '10.0.0.1', 'prefix-length': 24 }]);
    expect(defaultRoutes(s)).toEqual([]);
  });

  it('static, defroute true: one default route via the gateway', () => {
    expect(defaultRoutes(nmstateConfig(staticNet('true'), ['test']))).toEqual([{ destination: '0.0.0.0/0', 'next-hop-address': '10.0.0.254', 'next-hop-interface': 'eth0' }]);
  });

  it('static, defroute unset: one default route via the gateway', () => {
    expect(defaultRoutes(nmstateConfig(staticNet(), ['test']))).toEqual([{ destination: '0.0.0.0/0', 'next-hop-address': '10.0.0.254', 'next-hop-interface': 'eth0' }]);
  });

  it('DHCP, defroute false: dhcp true, auto-routes false, no default route', () => {
    const s = nmstateConfig(dhcpNet('false'), ['test']);
    expect(iface(s, 'eth0').ipv4).toEqual({ enabled: true, dhcp: true, 'auto-routes': false });
    expect(defaultRoutes(s)).toEqual([]);
  });

  it('DHCP, defroute true: no auto-routes key, a default route via the gateway', () => {
    const s = nmstateConfig(dhcpNet('true'), ['test']);
    expect(iface(s, 'eth0').ipv4).toEqual({ enabled: true, dhcp: true });
    expect(defaultRoutes(s)).toEqual([{ destination: '0.0.0.0/0', 'next-hop-address': '10.0.0.1', 'next-hop-interface': 'eth0' }]);
  });
});

describe('nmstate_config: OVS patch links (§4.4, §3.5)', () => {
  it('provision_wl = net3 (br0 ports [eth1]): veths p-br0-phy and p-br0-ovs, peers reciprocal, IP disabled; br0 ports eth1 and p-br0-phy', () => {
    const h = only({ net3: { interface: 'br0', bridge_ports: ['eth1'] } }, { vars: { provision_wl_net_name: 'net3' } });
    const s = nmstateConfig(h, ['net3']);
    expect(iface(s, 'p-br0-phy')).toEqual({ name: 'p-br0-phy', state: 'up', type: 'veth', veth: { peer: 'p-br0-ovs' }, ipv4: { enabled: false }, ipv6: { enabled: false } });
    expect(iface(s, 'p-br0-ovs')).toEqual({ name: 'p-br0-ovs', state: 'up', type: 'veth', veth: { peer: 'p-br0-phy' }, ipv4: { enabled: false }, ipv6: { enabled: false } });
    expect(iface(s, 'br0').bridge?.port).toEqual([{ name: 'eth1' }, { name: 'p-br0-phy' }]);
  });

  it('both veth ends take the maximum MTU of the bridge networks that need them', () => {
    const h = only({ net3: { interface: 'br0', bridge_ports: ['eth1'], mtu: 1500 }, net7: { interface: 'br0.42', vlan: 42, mtu: 1400 } }, { vars: { external_net_names: ['net3', 'net7'] } });
    const s = nmstateConfig(h, ['net3', 'net7']);
    expect([iface(s, 'p-br0-phy').mtu, iface(s, 'p-br0-ovs').mtu]).toEqual([1500, 1500]);
  });
});

describe('nmstate_config: routes (§4.4, §3.6)', () => {
  const routed = (routes: unknown[], tables: KayobeNetworkVars['network_route_tables'] = []) =>
    only({ test: { interface: 'eth0', routes: routes as KayobeNetworkAttrs['routes'] } }, { vars: { network_route_tables: tables } });
  const base = { cidr: '10.0.0.0/24', gateway: '192.168.1.1' };

  it('a route without a table has no table-id', () => {
    expect(nmstateConfig(routed([base]), ['test']).routes.config).toEqual([{ destination: '10.0.0.0/24', 'next-hop-address': '192.168.1.1', 'next-hop-interface': 'eth0' }]);
  });

  it('keys: metric "400" -> 400, onlink "true" -> on-link true, src -> source', () => {
    expect(nmstateConfig(routed([{ ...base, metric: '400', onlink: 'true', src: '192.168.1.2' }]), ['test']).routes.config).toEqual([
      { destination: '10.0.0.0/24', 'next-hop-address': '192.168.1.1', 'next-hop-interface': 'eth0', metric: 400, source: '192.168.1.2', 'on-link': true },
    ]);
  });

  it('options ["onlink", "metric 400", "src 192.168.1.2"] are equivalent', () => {
    expect(nmstateConfig(routed([{ ...base, options: ['onlink', 'metric 400', 'src 192.168.1.2'] }]), ['test']).routes.config).toEqual([
      { destination: '10.0.0.0/24', 'next-hop-address': '192.168.1.1', 'next-hop-interface': 'eth0', 'on-link': true, metric: 400, source: '192.168.1.2' },
    ]);
  });

  it('a table name is looked up in network_route_tables: custom-table -> table-id 100', () => {
    expect(nmstateConfig(routed([{ ...base, table: 'custom-table' }], [{ name: 'custom-table', id: 100 }]), ['test']).routes.config[0]?.['table-id']).toBe(100);
  });

  it('an undefined table name is a ValueError naming it and network_route_tables', () => {
    const e = kayobeError(() => nmstateConfig(routed([{ ...base, table: 'undefined-table' }]), ['test']));
    expect(e.kayobeMessage).toBe("Routing table 'undefined-table' is not defined in network_route_tables and is not a valid numeric table ID");
    expect(e.field).toBe('test_routes');
  });

  it('numeric tables 100 and "100" are table-id 100', () => {
    expect(nmstateConfig(routed([{ ...base, table: 100 }]), ['test']).routes.config[0]?.['table-id']).toBe(100);
    expect(nmstateConfig(routed([{ ...base, table: '100' }]), ['test']).routes.config[0]?.['table-id']).toBe(100);
  });

  it('a string route is a ValueError: string routes are for the default engine only', () => {
    expect(kayobeError(() => nmstateConfig(routed(['10.0.0.0/24 via 192.168.1.1']), ['test'])).kayobeMessage).toBe(
      "Network 'test' has invalid routing route format at index 0 for the nmstate engine. Routes must use dict format. String format routes are only supported by the default network engine.",
    );
  });

  it('option "mtu 1400" is an unsupported routing route option', () => {
    expect(kayobeError(() => nmstateConfig(routed([{ ...base, options: ['mtu 1400'] }]), ['test'])).kayobeMessage).toBe(
      "Network 'test' has unsupported routing route option at index 0 for the nmstate engine: 'mtu 1400'",
    );
  });

  it('key metric 100 with option "metric 400" is a conflicting routing route option', () => {
    expect(kayobeError(() => nmstateConfig(routed([{ ...base, metric: 100, options: ['metric 400'] }]), ['test'])).kayobeMessage).toBe(
      "Network 'test' has conflicting routing route option at index 0 for the nmstate engine: 'metric 400'",
    );
  });

  it('unknown keys, non-list options and non-string options are ValueErrors', () => {
    expect(kayobeError(() => nmstateConfig(routed([{ ...base, via: 'x', dev: 'y' }]), ['test'])).kayobeMessage).toBe(
      "Network 'test' has unsupported routing route keys at index 0 for the nmstate engine: dev, via",
    );
    expect(kayobeError(() => nmstateConfig(routed([{ ...base, options: 'onlink' }]), ['test'])).kayobeMessage).toBe(
      "Network 'test' has invalid routing route options format at index 0 for the nmstate engine. Route options must be a list.",
    );
    expect(kayobeError(() => nmstateConfig(routed([base, { ...base, options: [1] }]), ['test'])).kayobeMessage).toBe(
      "Network 'test' has invalid routing route option at index 1 for the nmstate engine. Route options must be strings.",
    );
  });
});

describe('nmstate_config: rules (§4.4, §3.6)', () => {
  const ruled = (rules: unknown[]) => only({ test: { interface: 'eth0', rules: rules as KayobeNetworkAttrs['rules'] } }, { vars: { network_route_tables: [{ name: 'custom-table', id: 200 }] } });

  it('a string rule is a ValueError: string rules are for the default engine only', () => {
    expect(kayobeError(() => nmstateConfig(ruled(['from 192.168.1.0/24 table 200']), ['test'])).kayobeMessage).toBe(
      "Network 'test' has invalid routing rule format for the nmstate engine. Rules must use dict format (keys: from, to, priority, table). String format rules are only supported by the default network engine.",
    );
  });

  it('{to, table} -> ip-to and route-table 200, without ip-from or priority', () => {
    expect(nmstateConfig(ruled([{ to: '10.0.0.0/24', table: 'custom-table' }]), ['test'])['route-rules'].config).toEqual([{ 'ip-to': '10.0.0.0/24', 'route-table': 200 }]);
  });

  it('{from, to, priority, table} -> ip-from, ip-to, priority 100, route-table 200', () => {
    expect(nmstateConfig(ruled([{ from: '192.168.1.0/24', to: '10.0.0.0/24', priority: 100, table: 'custom-table' }]), ['test'])['route-rules'].config).toEqual([
      { 'ip-from': '192.168.1.0/24', 'ip-to': '10.0.0.0/24', priority: 100, 'route-table': 200 },
    ]);
  });

  it('an undefined table name is a ValueError', () => {
    expect(kayobeError(() => nmstateConfig(ruled([{ to: '10.0.0.0/24', table: 'undefined-table' }]), ['test'])).kayobeMessage).toBe(
      "Routing table 'undefined-table' is not defined in network_route_tables and is not a valid numeric table ID",
    );
  });
});

describe('renderNmstateYaml / nmstateFiles', () => {
  it('writes the document as YAML in Kayobe key order, for nmstatectl apply', () => {
    expect(renderNmstateYaml(nmstateConfig(fixtureHost(), ['net2']))).toBe(
      [
        'interfaces:',
        '  - name: eth0',
        '    state: up',
        '  - name: eth0.2',
        '    state: up',
        '    ipv4:',
        '      enabled: true',
        '      dhcp: false',
        '      address:',
        '        - ip: 1.2.4.4',
        '          prefix-length: 24',
        '    type: vlan',
        '    vlan:',
        '      base-iface: eth0',
        '      id: 2',
        'routes:',
        '  config: []',
        'route-rules:',
        '  config: []',
        '',
      ].join('\n'),
    );
  });

  it('reads back as the same document, strings YAML would take for numbers, booleans or null quoted', () => {
    const states = [
      nmstateConfig(fixtureHost({ external_net_names: ['net3'], network_route_tables: [{ id: 7, name: 't7' }] }), ['net1', 'net2', 'net3', 'net4', 'net5', 'net6']),
      nmstateConfig(only({ test: { interface: 'eth0', routes: [{ cidr: '10.0.0.0/24', src: '10.0.0.1', metric: 5 }], rules: [{ from: '10.0.0.0/24', table: 't7' }] } }, { vars: { network_route_tables: [{ id: 7, name: 't7' }] } }), ['test']),
    ];
    const odd: NmstateState = {
      interfaces: [{ name: '1234', state: 'up', type: 'true', 'link-aggregation': { port: ['on', 'null', '1e3', '0x1f', '00:11', '-x', 'a b'], mode: 'yes', options: { lacp_rate: 'fast', miimon: 100 } } }],
      routes: { config: [] },
      'route-rules': { config: [] },
    };
    for (const s of [...states, odd]) expect(parse(renderNmstateYaml(s))).toEqual(JSON.parse(JSON.stringify(s)));
    expect(renderNmstateYaml(odd)).toContain('      port:\n        - "on"\n        - "null"\n        - "1e3"\n        - "0x1f"\n        - "00:11"\n        - "-x"\n        - "a b"\n      mode: "yes"\n');
  });

  it('puts the state in /etc/nmstate/<networkd_prefix>network.yml, which nmstate.service applies', () => {
    expect(nmstateFiles(fixtureHost(), ['net1']).map((f) => f.path)).toEqual(['/etc/nmstate/50-kayobe-network.yml']);
  });
});
