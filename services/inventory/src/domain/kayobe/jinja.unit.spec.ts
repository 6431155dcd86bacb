import { describe, expect, it } from 'vitest';
import { renderString, Undef, Unresolvable, type Scope } from './jinja';

function scope(vars: Record<string, unknown>, extra: Partial<Scope> = {}): Scope {
  const s: Scope = {
    variable: (n) => (n in vars ? (typeof vars[n] === 'string' ? renderString(vars[n] as string, s) : vars[n]) : new Undef(n)),
    inventoryHostnames: (p) => (p === 'storage' ? ['st1'] : []),
    hostVariable: (_h, n) => s.variable(n),
    hasHost: (h) => h === 'ctl1',
    ...extra,
  };
  return s;
}

const VARS = {
  inventory_hostname: 'ctl1',
  groups: { network: ['ctl1'], controllers: ['ctl1'] },
  provision_oc_net_name: 'provision_oc_net',
  admin_oc_net_name: '{{ provision_oc_net_name }}',
  internal_vlan: 101,
  external_net_names: ['ext1', 'ext2'],
  kolla_enable_ironic: 'no',
  os_distribution: 'ubuntu',
  aio_bridge_ports: ['eth0'],
  nets: ['a', null, 'b', 'a', ''],
};

describe('renderString', () => {
  it.each<[string, unknown]>([
    ['{{ provision_oc_net_name }}', 'provision_oc_net'],
    ['{{ admin_oc_net_name }}', 'provision_oc_net'],
    ['eth2.{{ internal_vlan }}', 'eth2.101'],
    ['{{ internal_vlan }}', 101],
    ['{{ 2 * 1024 }}', 2048],
    ['br{{ aio_bridge_ports[0] }}', 'breth0'],
    ["{{ 'ens2' if os_distribution == 'ubuntu' else 'eth0' }}", 'ens2'],
    ["{{ 'oob_wl_net' if kolla_enable_ironic | bool else None }}", null],
    ['{{ external_net_names[0] if external_net_names | length > 0 else None }}', 'ext1'],
    ['{{ nets | select | unique | list }}', ['a', 'b']],
    ["{{ (['x'] + external_net_names) | reject('equalto', 'ext2') | list }}", ['x', 'ext1']],
    ['{{ undefined_thing | default("fallback") }}', 'fallback'],
    ["{{ '' | default('x', true) }}", 'x'],
    ['{{ undefined_thing | default(omit) }}', '__omit_place_holder__'],
    ['{{ undefined_thing is defined }}', false],
    ['{{ inventory_hostname in groups["network"] }}', true],
    ["{{ inventory_hostname in query('inventory_hostnames', 'storage') }}", false],
    ['{{ kolla_enable_ironic | bool and undefined_thing }}', false],
    ["{{ {'a': 1} | combine({'b': 2}) }}", { a: 1, b: 2 }],
    ['{{ "  x  " | trim }}-{{ "A" | lower }}', 'x-a'],
    ['{{ [3, 1, 2] | sort | first }}', 1],
    ['{{ internal_vlan ~ "" }}', '101'],
    ['{% if internal_vlan > 100 %}high{% else %}low{% endif %}', 'high'],
    ['{{ true }} and {{ None }}.', 'True and .'],
    ['{{ [1, 2] }}!', '[1, 2]!'],
    ['{{ "vlan" ~ internal_vlan | string }}', 'vlan101'],
    ["\n  {{ ['a'] + ['b'] }}\n", ['a', 'b']],
    ['no template', 'no template'],
  ])('%s → %j', (template, expected) => {
    expect(renderString(template, scope(VARS))).toEqual(expected);
  });

  it.each<[string, RegExp]>([
    ["{{ lookup('env', 'USER') }}", /lookup\('env', …\) runs on the Ansible control host/],
    ["{{ lookup('pipe', '. /etc/os-release && echo $ID') | trim }}", /lookup\('pipe'/],
    ["{{ ['dummy1'] if 'ansible_dummy1' in hostvars[inventory_hostname] else [] }}", /"ansible_dummy1" is a fact/],
    ['{{ ansible_facts.os_family }}', /"ansible_facts" is a fact/],
    ['{{ not_defined }}', /"not_defined" is undefined/],
    ['eth2.{{ not_defined }}', /"not_defined" is undefined/],
    ['{{ internal_vlan | ipaddr }}', /filter "ipaddr" is not supported/],
    ['{% macro m() %}x{% endmacro %}', /statement .*macro.* is not supported/],
    ['{{ (1 + }}', /unexpected/],
  ])('%s is unresolvable (%s)', (template, message) => {
    expect(() => renderString(template, scope(VARS))).toThrow(Unresolvable);
    expect(() => renderString(template, scope(VARS))).toThrow(message);
  });

  it("supports Kayobe's net_* attribute filters and net_ip", () => {
    const s = scope({ inventory_hostname: 'ctl1', aio_cidr: '10.0.0.0/24', aio_ips: { ctl1: '10.0.0.3' }, net: 'aio' });
    expect(renderString('{{ net | net_cidr }}', s)).toBe('10.0.0.0/24');
    expect(renderString('{{ net | net_ip }}', s)).toBe('10.0.0.3');
    expect(renderString('{{ net | net_vlan }}', s)).toBeNull();
  });
});
