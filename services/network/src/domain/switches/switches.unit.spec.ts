import { describe, expect, it } from 'vitest';
import { ValidationError } from '@stackyard/errors';
import {
  LIMITS_EXCLUSIVE_MESSAGE,
  UNKNOWN_SWITCH_TYPE_MESSAGE,
  derivePortVlans,
  naturalCompare,
  planPhysicalNetwork,
  renderDisplay,
  renderSwitchConfig,
  validateOptions,
  validateSwitchInventory,
  type HostNetworkAttachment,
} from './index';

function fieldOf(fn: () => unknown): { field: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    const v = e as ValidationError;
    return { field: v.field, message: v.message };
  }
  throw new Error('expected a ValidationError');
}

const HOSTS: Record<string, HostNetworkAttachment[]> = {
  ctl0: [
    { network: 'provision_oc', vlan: 10, mode: 'native' },
    { network: 'internal', vlan: 20, mode: 'tagged' },
    { network: 'storage', vlan: 30, mode: 'tagged' },
  ],
  cmp0: [{ network: 'provision_oc', vlan: 10, mode: 'native' }],
  stor0: [{ network: 'storage', vlan: 30, mode: 'tagged' }],
};

const sw = (type: string, ifaces: Record<string, { description?: string; config?: string[] }>, config: string[] = []) => ({
  switches: { leaf1: { group: 'ctl-switches', switch_type: type, switch_config: config, switch_interface_config: ifaces } },
});

const opts = validateOptions({});

function render(type: string, ifaces: Record<string, { description?: string; config?: string[] }>, config: string[], ports: Record<string, string>): string {
  const inv = validateSwitchInventory(sw(type, ifaces, config));
  const plans = planPhysicalNetwork(inv, opts, { leaf1: derivePortVlans(ports, HOSTS) });
  return renderSwitchConfig(plans[0]!);
}

describe('renderers', () => {
  it('Arista EOS', () => {
    const out = render(
      'arista',
      { Ethernet10: { description: 'ctl0', config: ['mtu 9214'] }, Ethernet2: { description: 'cmp0', config: [] }, Ethernet48: { description: 'uplink', config: ['no switchport'] } },
      ['spanning-tree mode mstp'],
      { Ethernet10: 'ctl0', Ethernet2: 'cmp0', Ethernet3: 'stor0' },
    );
    expect(out).toBe(
      [
        'spanning-tree mode mstp',
        'vlan 10',
        '   name provision_oc',
        'vlan 20',
        '   name internal',
        'vlan 30',
        '   name storage',
        'interface Ethernet2',
        '   description cmp0',
        '   switchport mode access',
        '   switchport access vlan 10',
        'interface Ethernet3',
        '   switchport mode trunk',
        '   switchport trunk allowed vlan 30',
        'interface Ethernet10',
        '   description ctl0',
        '   switchport mode trunk',
        '   switchport trunk native vlan 10',
        '   switchport trunk allowed vlan 10,20,30',
        '   mtu 9214',
        'interface Ethernet48',
        '   description uplink',
        '   no switchport',
        '',
      ].join('\n'),
    );
  });

  it('Dell OS10', () => {
    const out = render('dellos10', { 'ethernet1/1/10': { description: 'ctl0', config: ['mtu 9216'] }, 'ethernet1/1/2': { description: 'cmp0' } }, ['hostname leaf1'], {
      'ethernet1/1/10': 'ctl0',
      'ethernet1/1/2': 'cmp0',
    });
    expect(out).toBe(
      [
        'hostname leaf1',
        'interface vlan10',
        ' description provision_oc',
        'interface vlan20',
        ' description internal',
        'interface vlan30',
        ' description storage',
        'interface ethernet1/1/2',
        ' description cmp0',
        ' switchport mode access',
        ' switchport access vlan 10',
        'interface ethernet1/1/10',
        ' description ctl0',
        ' switchport mode trunk',
        ' switchport access vlan 10',
        ' switchport trunk allowed vlan 20,30',
        ' mtu 9216',
        '',
      ].join('\n'),
    );
  });

  it('Junos (set format)', () => {
    const out = render('junos', { 'xe-0/0/1': { description: 'ctl0', config: ['mtu 9216'] }, 'xe-0/0/2': { description: 'cmp0' } }, ['set system host-name leaf1'], {
      'xe-0/0/1': 'ctl0',
      'xe-0/0/2': 'cmp0',
    });
    expect(out).toBe(
      [
        'set system host-name leaf1',
        'set vlans provision_oc vlan-id 10',
        'set vlans internal vlan-id 20',
        'set vlans storage vlan-id 30',
        'set interfaces xe-0/0/1 description "ctl0"',
        'set interfaces xe-0/0/1 unit 0 family ethernet-switching interface-mode trunk',
        'set interfaces xe-0/0/1 native-vlan-id 10',
        'set interfaces xe-0/0/1 unit 0 family ethernet-switching vlan members [ provision_oc internal storage ]',
        'set interfaces xe-0/0/1 mtu 9216',
        'set interfaces xe-0/0/2 description "cmp0"',
        'set interfaces xe-0/0/2 unit 0 family ethernet-switching interface-mode access',
        'set interfaces xe-0/0/2 unit 0 family ethernet-switching vlan members provision_oc',
        '',
      ].join('\n'),
    );
  });

  it('Cumulus NVUE', () => {
    const out = render('nvue', { swp1: { description: 'ctl0', config: ['link mtu 9216'] }, swp2: { description: 'cmp0' } }, ['set system hostname leaf1'], {
      swp1: 'ctl0',
      swp2: 'cmp0',
      swp3: 'stor0',
    });
    expect(out).toBe(
      [
        'nv set system hostname leaf1',
        'nv set bridge domain br_default vlan 10,20,30',
        'nv set interface swp1 description "ctl0"',
        'nv set interface swp1 bridge domain br_default vlan 10,20,30',
        'nv set interface swp1 bridge domain br_default untagged 10',
        'nv set interface swp1 link mtu 9216',
        'nv set interface swp2 description "cmp0"',
        'nv set interface swp2 bridge domain br_default access 10',
        'nv set interface swp3 bridge domain br_default vlan 30',
        'nv set interface swp3 bridge domain br_default untagged none',
        'nv config apply --assume-yes',
        '',
      ].join('\n'),
    );
  });

  it('is byte-stable regardless of input key order', () => {
    const a = render('arista', { Ethernet1: { description: 'a' }, Ethernet2: { description: 'b' } }, [], { Ethernet2: 'cmp0', Ethernet1: 'ctl0' });
    const b = render('arista', { Ethernet2: { description: 'b' }, Ethernet1: { description: 'a' } }, [], { Ethernet1: 'ctl0', Ethernet2: 'cmp0' });
    expect(a).toBe(b);
  });

  it('display lists per switch what would be applied, filtered by group', () => {
    const inv = validateSwitchInventory({
      switches: {
        mgmt1: { group: 'mgmt-switches', switch_type: 'dellos10', switch_config: ['hostname mgmt1'] },
        leaf1: { group: 'ctl-switches', switch_type: 'arista', switch_interface_config: { Ethernet1: { description: 'ctl0', config: ['mtu 9214'] } } },
      },
    });
    expect(renderDisplay(planPhysicalNetwork(inv, validateOptions({ display: true })))).toBe(
      [
        '# leaf1 (Arista EOS, ctl-switches): 1 interface(s), 0 global line(s) would be applied',
        'interface Ethernet1',
        '   description ctl0',
        '   mtu 9214',
        '',
        '# mgmt1 (Dell OS10, mgmt-switches): 0 interface(s), 1 global line(s) would be applied',
        'hostname mgmt1',
        '',
      ].join('\n'),
    );
    expect(renderDisplay(planPhysicalNetwork(inv, validateOptions({ group: 'mgmt-switches' })))).toBe(
      '# mgmt1 (Dell OS10, mgmt-switches): 0 interface(s), 1 global line(s) would be applied\nhostname mgmt1\n',
    );
    expect(renderDisplay(planPhysicalNetwork(inv, validateOptions({ group: 'hs-switches' })))).toBe('# No switches selected; nothing would be applied.\n');
  });
});

describe('limits and discovery', () => {
  const inv = validateSwitchInventory(
    sw('arista', { Ethernet1: { description: 'ctl0' }, Ethernet2: { description: 'cmp0' }, Ethernet3: { description: 'cmp1' } }),
  );
  const names = (o: Parameters<typeof validateOptions>[0]) => planPhysicalNetwork(inv, validateOptions(o))[0]!.interfaces.map((i) => i.name);

  it('--interface-limit keeps interfaces by name', () => {
    expect(names({ interfaceLimit: 'Ethernet3, Ethernet1' })).toEqual(['Ethernet1', 'Ethernet3']);
  });
  it('--interface-description-limit keeps interfaces by description', () => {
    expect(names({ interfaceDescriptionLimit: 'cmp0,cmp1' })).toEqual(['Ethernet2', 'Ethernet3']);
  });
  it('no limit keeps all', () => {
    expect(names({})).toEqual(['Ethernet1', 'Ethernet2', 'Ethernet3']);
  });
  it('both limits: Kayobe error', () => {
    expect(fieldOf(() => validateOptions({ interfaceLimit: 'Ethernet1', interfaceDescriptionLimit: 'ctl0' }))).toEqual({
      field: 'interfaceDescriptionLimit',
      message: `interfaceDescriptionLimit: ${LIMITS_EXCLUSIVE_MESSAGE}`,
    });
  });
  it('empty limit items are refused', () => {
    expect(fieldOf(() => validateOptions({ interfaceLimit: 'Ethernet1,,Ethernet2' })).field).toBe('interfaceLimit');
    expect(fieldOf(() => validateOptions({ interfaceDescriptionLimit: '' })).field).toBe('interfaceDescriptionLimit');
  });
  it('bad group and both discovery flags are refused', () => {
    expect(fieldOf(() => validateOptions({ group: 'leaf-switches' })).field).toBe('group');
    expect(fieldOf(() => validateOptions({ enableDiscovery: true, disableDiscovery: true })).field).toBe('disableDiscovery');
  });
  it('--enable-discovery overlays switch_interface_config_enable_discovery', () => {
    const d = validateSwitchInventory({
      switches: {
        leaf1: {
          switch_type: 'arista',
          switch_interface_config: { Ethernet1: { description: 'ctl0', config: ['shutdown'] } },
          switch_interface_config_enable_discovery: { Ethernet1: { config: ['switchport access vlan 99'] } },
          switch_interface_config_disable_discovery: { Ethernet1: { config: ['switchport access vlan 10'] } },
        },
      },
    });
    expect(renderSwitchConfig(planPhysicalNetwork(d, validateOptions({ enableDiscovery: true }))[0]!)).toBe(
      'interface Ethernet1\n   description ctl0\n   switchport access vlan 99\n',
    );
    expect(renderSwitchConfig(planPhysicalNetwork(d, validateOptions({ disableDiscovery: true }))[0]!)).toBe(
      'interface Ethernet1\n   description ctl0\n   switchport access vlan 10\n',
    );
    expect(renderSwitchConfig(planPhysicalNetwork(d, validateOptions({}))[0]!)).toBe('interface Ethernet1\n   description ctl0\n   shutdown\n');
  });
});

describe('derivePortVlans', () => {
  it('derives native and tagged VLANs from the cabled host', () => {
    expect(derivePortVlans({ swp2: 'cmp0', swp1: 'ctl0' }, HOSTS)).toEqual({
      swp1: {
        host: 'ctl0',
        native: { network: 'provision_oc', vlan: 10 },
        tagged: [
          { network: 'internal', vlan: 20 },
          { network: 'storage', vlan: 30 },
        ],
      },
      swp2: { host: 'cmp0', native: { network: 'provision_oc', vlan: 10 }, tagged: [] },
    });
  });
  it.each([
    ['unknown host', { swp1: 'nohost' }, HOSTS, 'ports.swp1'],
    ['empty host', { swp1: '' }, HOSTS, 'ports.swp1'],
    ['port names differing in case', { swp1: 'ctl0', SWP1: 'cmp0' }, HOSTS, 'ports.swp1'],
    ['vlan 0', {}, { h: [{ network: 'a', vlan: 0, mode: 'native' }] }, 'hosts.h[0].vlan'],
    ['vlan 4095', {}, { h: [{ network: 'a', vlan: 4095, mode: 'native' }] }, 'hosts.h[0].vlan'],
    ['bad mode', {}, { h: [{ network: 'a', vlan: 5, mode: 'trunk' }] }, 'hosts.h[0].mode'],
    ['bad network', {}, { h: [{ network: '', vlan: 5, mode: 'native' }] }, 'hosts.h[0].network'],
    ['not a list', {}, { h: 'x' }, 'hosts.h'],
    ['not an object', {}, { h: [7] }, 'hosts.h[0]'],
    ['two native VLANs', {}, { h: [{ network: 'a', vlan: 5, mode: 'native' }, { network: 'b', vlan: 6, mode: 'native' }] }, 'hosts.h[1].mode'],
    ['native and tagged', {}, { h: [{ network: 'a', vlan: 5, mode: 'native' }, { network: 'a', vlan: 5, mode: 'tagged' }] }, 'hosts.h[1].mode'],
    ['VLAN id on two networks', {}, { g: [{ network: 'a', vlan: 5, mode: 'native' }], h: [{ network: 'b', vlan: 5, mode: 'native' }] }, 'hosts.h[0].vlan'],
    ['network on two VLAN ids', {}, { g: [{ network: 'a', vlan: 5, mode: 'native' }], h: [{ network: 'a', vlan: 6, mode: 'native' }] }, 'hosts.h[0].vlan'],
  ])('%s', (_label, ports, hosts, field) => {
    expect(fieldOf(() => derivePortVlans(ports as Record<string, string>, hosts as unknown as Record<string, HostNetworkAttachment[]>)).field).toBe(field);
  });
});

describe('validateSwitchInventory', () => {
  it('unknown and missing switch types carry Kayobe\'s message', () => {
    expect(fieldOf(() => validateSwitchInventory(sw('cisco', {})))).toEqual({ field: 'switches.leaf1.switch_type', message: `switches.leaf1.switch_type: ${UNKNOWN_SWITCH_TYPE_MESSAGE}` });
    expect(fieldOf(() => validateSwitchInventory({ switches: { leaf1: {} } })).field).toBe('switches.leaf1.switch_type');
  });
  it('Kayobe-only types are refused with a clearer message', () => {
    expect(fieldOf(() => validateSwitchInventory(sw('mellanox', {}))).message).toContain('supported by Kayobe but not by Stackyard');
  });
  it('accepts all four supported types', () => {
    for (const t of ['arista', 'dellos10']) expect(validateSwitchInventory(sw(t, {})).switches[0]!.switch_type).toBe(t);
    expect(validateSwitchInventory(sw('junos', {}, ['set system host-name x'])).switches[0]!.switch_type).toBe('junos');
    expect(validateSwitchInventory(sw('nvue', {}, ['set system hostname x'])).switches[0]!.switch_type).toBe('nvue');
  });
  it.each([
    ['root not an object', null, 'switches'],
    ['switches not a map', { switches: [] }, 'switches'],
    ['bad switch name', { switches: { 'bad name': { switch_type: 'arista' } } }, 'switches.bad name'],
    ['switch not an object', { switches: { leaf1: 'x' } }, 'switches.leaf1'],
    ['unknown key', { switches: { leaf1: { switch_type: 'arista', switch_cfg: [] } } }, 'switches.leaf1.switch_cfg'],
    ['bad group', { switches: { leaf1: { switch_type: 'arista', group: 'leaves' } } }, 'switches.leaf1.group'],
    ['switch_config not a list', { switches: { leaf1: { switch_type: 'arista', switch_config: 'x' } } }, 'switches.leaf1.switch_config'],
    ['switch_config non-string', { switches: { leaf1: { switch_type: 'arista', switch_config: [1] } } }, 'switches.leaf1.switch_config[0]'],
    ['switch_config newline', { switches: { leaf1: { switch_type: 'arista', switch_config: ['a', 'b\nc'] } } }, 'switches.leaf1.switch_config[1]'],
    ['switch_config blank', { switches: { leaf1: { switch_type: 'arista', switch_config: ['  '] } } }, 'switches.leaf1.switch_config[0]'],
    ['junos not set format', { switches: { leaf1: { switch_type: 'junos', switch_config: ['system { host-name x; }'] } } }, 'switches.leaf1.switch_config[0]'],
    ['nvue with nv prefix', { switches: { leaf1: { switch_type: 'nvue', switch_config: ['nv set system hostname x'] } } }, 'switches.leaf1.switch_config[0]'],
    ['interface config not a map', { switches: { leaf1: { switch_type: 'arista', switch_interface_config: [] } } }, 'switches.leaf1.switch_interface_config'],
    ['bad interface name', { switches: { leaf1: { switch_type: 'arista', switch_interface_config: { 'Eth 1': {} } } } }, 'switches.leaf1.switch_interface_config.Eth 1'],
    ['interface not an object', { switches: { leaf1: { switch_type: 'arista', switch_interface_config: { Ethernet1: 'x' } } } }, 'switches.leaf1.switch_interface_config.Ethernet1'],
    ['interface unknown key', { switches: { leaf1: { switch_type: 'arista', switch_interface_config: { Ethernet1: { vlan: 5 } } } } }, 'switches.leaf1.switch_interface_config.Ethernet1.vlan'],
    ['description not a string', { switches: { leaf1: { switch_type: 'arista', switch_interface_config: { Ethernet1: { description: 5 } } } } }, 'switches.leaf1.switch_interface_config.Ethernet1.description'],
    ['description with quote', { switches: { leaf1: { switch_type: 'arista', switch_interface_config: { Ethernet1: { description: 'a"b' } } } } }, 'switches.leaf1.switch_interface_config.Ethernet1.description'],
    ['interface config line bad', { switches: { leaf1: { switch_type: 'arista', switch_interface_config: { Ethernet1: { config: ['ok', 3] } } } } }, 'switches.leaf1.switch_interface_config.Ethernet1.config[1]'],
    ['conflicting interface names', { switches: { leaf1: { switch_type: 'arista', switch_interface_config: { Ethernet1: {}, ethernet1: {} } } } }, 'switches.leaf1.switch_interface_config.ethernet1'],
    ['discovery overlay conflicts', { switches: { leaf1: { switch_type: 'arista', switch_interface_config: { Ethernet1: {} }, switch_interface_config_enable_discovery: { ETHERNET1: {} } } } }, 'switches.leaf1.switch_interface_config_enable_discovery.ETHERNET1'],
    ['disable overlay bad line', { switches: { leaf1: { switch_type: 'arista', switch_interface_config_disable_discovery: { Ethernet1: { config: [''] } } } } }, 'switches.leaf1.switch_interface_config_disable_discovery.Ethernet1.config[0]'],
  ])('%s', (_label, input, field) => {
    expect(fieldOf(() => validateSwitchInventory(input)).field).toBe(field);
  });
});

describe('planPhysicalNetwork conflicts', () => {
  it('interface config that sets VLAN membership conflicts with derived membership', () => {
    const inv = validateSwitchInventory(sw('arista', { Ethernet1: { description: 'ctl0', config: ['mtu 9214', 'switchport mode trunk'] } }));
    expect(fieldOf(() => planPhysicalNetwork(inv, opts, { leaf1: derivePortVlans({ Ethernet1: 'ctl0' }, HOSTS) })).field).toBe('switches.leaf1.switch_interface_config.Ethernet1.config[1]');
  });
  it('derived port whose name differs in case from configured interface', () => {
    const inv = validateSwitchInventory(sw('arista', { Ethernet1: { description: 'ctl0' } }));
    expect(fieldOf(() => planPhysicalNetwork(inv, opts, { leaf1: derivePortVlans({ ethernet1: 'ctl0' }, HOSTS) })).field).toBe('vlans.leaf1.ethernet1');
  });
  it('VLANs for an unknown switch', () => {
    const inv = validateSwitchInventory(sw('arista', {}));
    expect(fieldOf(() => planPhysicalNetwork(inv, opts, { leaf9: {} })).field).toBe('vlans.leaf9');
  });
});

describe('naturalCompare', () => {
  it('orders digit runs numerically', () => {
    expect(['Ethernet10', 'Ethernet2', 'ethernet1/1/10', 'ethernet1/1/2', 'Ethernet1'].sort(naturalCompare)).toEqual(['Ethernet1', 'Ethernet2', 'Ethernet10', 'ethernet1/1/2', 'ethernet1/1/10']);
  });
});
