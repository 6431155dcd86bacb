/**
 * Jinja statements: `{% set %}`, `{% for %}`, `{% if %}`, `{% raw %}`, comments and whitespace control,
 * then every form of statement the reference configurations contain (reference/kayobe-configs,
 * `grep -rn '{%'`), each with its source quoted as a literal.
 */
import { describe, expect, it } from 'vitest';
import type { Problem } from './problems';
import { renderString, renderTemplateFile, Undef, Unresolvable, type Scope } from './jinja';
import { parseVarFile } from './yaml-vars';

function scope(vars: Record<string, unknown>): Scope {
  const s: Scope = {
    variable: (n) => (n in vars ? (typeof vars[n] === 'string' ? renderString(vars[n] as string, s) : vars[n]) : new Undef(n)),
    inventoryHostnames: () => [],
    hostVariable: (_h, n) => s.variable(n),
    hasHost: () => false,
  };
  return s;
}

const VARS = {
  nets: ['admin', 'internal', 'external'],
  ifaces: { admin: 'eth0', internal: 'eth1' },
  empty: [],
  matrix: [
    [1, 2],
    [3, 4],
  ],
  vlan: 101,
};
const render = (t: string, vars: Record<string, unknown> = VARS) => renderString(t, scope(vars));
const fails = (t: string, vars: Record<string, unknown> = VARS): Unresolvable => {
  try {
    render(t, vars);
  } catch (e) {
    if (e instanceof Unresolvable) return e;
    throw e;
  }
  throw new Error(`expected ${t} to be unresolvable`);
};

describe('{% set %}', () => {
  // With a statement the result is rendered text: numbers stay strings (only "[…]", "{…}", True and False convert).
  it.each<[string, unknown]>([
    ['{% set x = vlan + 1 %}{{ x }}', '102'],
    ['{% set a, b = 1, "two" %}{{ a }}-{{ b }}', '1-two'],
    ['{% set a, b = nets if false else ["p", "q"] %}{{ b }}', 'q'],
    ['{% set l = [vlan, vlan + 1] %}{{ l }}', [101, 102]],
    ['{% set x %}vlan{{ vlan }}{% endset %}{{ x | upper }}', 'VLAN101'],
    ['{% set x = 1 %}{% set x = x + 1 %}{{ x }}', '2'],
    ['{% set x = 1 %}{% if true %}{% set x = 5 %}{% endif %}{{ x }}', '5'], // if does not open a scope
  ])('%s → %j', (t, expected) => {
    expect(render(t)).toEqual(expected);
  });

  it('does not leak out of a for body (Jinja scoping); a namespace carries values out', () => {
    expect(render('{% set x = "outer" %}{% for n in nets %}{% set x = n %}{% endfor %}{{ x }}')).toBe('outer');
    expect(render('{% set ns = namespace(found=none) %}{% for n in nets if n in ifaces %}{% set ns.found = n %}{% endfor %}{{ ns.found }}')).toBe('internal');
    expect(fails('{% set x = {} %}{% set x.y = 1 %}').message).toMatch(/"x" is not a namespace\(\)/);
  });

  it('reports an undefined value with the template line and variable', () => {
    const e = fails('line one\n{% set x = nope %}');
    expect([e.line, e.variable]).toEqual([2, 'nope']);
  });
});

describe('{% for %}', () => {
  it.each<[string, unknown]>([
    ['{% for n in nets %}{{ n }},{% endfor %}', 'admin,internal,external,'],
    ['{% for k in ifaces %}{{ k }} {% endfor %}', 'admin internal '], // a dict iterates over its keys
    ['{% for k, v in ifaces.items() %}{{ k }}={{ v }};{% endfor %}', 'admin=eth0;internal=eth1;'],
    ['{% for (k, v) in ifaces | dictsort %}{{ k }}{% endfor %}', 'admininternal'],
    ['{% for i in range(3) %}{{ i }}{% endfor %}', '012'],
    ['{% for i in range(1, 10, 4) %}{{ i }}{% endfor %}', '159'],
    ['{% for n in nets %}{{ loop.index }}/{{ loop.length }}{% if not loop.last %} {% endif %}{% endfor %}', '1/3 2/3 3/3'],
    ['{% for n in nets %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{% endfor %}', '03True12False21False'],
    ['{% for n in nets %}{{ loop.cycle("a", "b") }}{% endfor %}', 'aba'],
    ['{% for n in nets if n != "internal" %}{{ loop.index }}:{{ n }} {% endfor %}', '1:admin 2:external '],
    ['{% for n in empty %}x{% else %}none{% endfor %}', 'none'],
    ['{% for row in matrix %}{% set outer = loop %}{% for c in row %}{{ outer.index }}.{{ loop.index }}={{ c }} {% endfor %}{% endfor %}', '1.1=1 1.2=2 2.1=3 2.2=4 '],
    ['{% for n in nets %}{% if n == "admin" %}A{% elif n == "internal" %}I{% else %}E{% endif %}{% endfor %}', 'AIE'],
    ['{% for c in "ab" %}[{{ c }}]{% endfor %}', '[a][b]'],
  ])('%s → %j', (t, expected) => {
    expect(render(t)).toEqual(expected);
  });

  it('builds a list, as Ansible converts a rendered "[…]" to the list it spells', () => {
    expect(render("[{% for n in nets %}'{{ n }}_net'{% if not loop.last %}, {% endif %}{% endfor %}]")).toEqual(['admin_net', 'internal_net', 'external_net']);
    expect(render('{% for n in nets %}{{ n }}{% endfor %}')).toBe('admininternalexternal');
    expect(render('[{{ vlan }}] is a vlan')).toBe('[101] is a vlan'); // not a literal: stays a string
  });

  it('reports an undefined sequence or a bad unpacking with the loop line', () => {
    const e = fails('a\nb\n{% for x in missing %}{{ x }}{% endfor %}');
    expect([e.line, e.variable, e.message]).toEqual([3, 'missing', '"missing" is undefined (for loop)']);
    expect(fails('{% for a, b in nets %}{% endfor %}').message).toMatch(/cannot unpack 'admin' into a, b/);
    expect(fails('{% for x in 3 %}{% endfor %}').message).toMatch(/cannot loop over 3/);
  });
});

describe('whitespace control and trim_blocks (as Ansible configures Jinja)', () => {
  it.each<[string, unknown]>([
    ['{% for n in nets %}\n{{ n }}\n{% endfor %}\n', 'admin\ninternal\nexternal\n'], // the newline after a block tag goes
    ['a  {%- if true %}b{% endif %}', 'ab'],
    ['{% if true -%}   \n\n  b{% endif %}', 'b'],
    ['x\n  {%- for n in nets -%}\n  {{ n }}\n  {%- endfor %}', 'xadmininternalexternal'],
    ['a {{- " b " -}} c', 'a b c'],
    ['a {#- a comment -#} b', 'ab'],
    ['{# note #}\nline', 'line'],
    ['{% if true +%}\nkeep{% endif %}', '\nkeep'],
    ['{{ vlan }}\n{% if true %}\n{% endif %}', '101\n'],
  ])('%j → %j', (t, expected) => {
    expect(render(t)).toEqual(expected);
  });
});

describe('{% raw %}', () => {
  it('keeps its content literally, and it is not templated again', () => {
    expect(render('{% raw %}{{ not_rendered }}{% endraw %}')).toBe('{{ not_rendered }}');
    expect(render('vlan{% raw %}{{ x }}{% endraw %}.{{ vlan }}')).toBe('vlan{{ x }}.101');
    expect(render('{%- raw -%}  {% if %}  {%- endraw %}')).toBe('{% if %}');
  });
});

describe('malformed statements', () => {
  it.each<[string, RegExp, number]>([
    ['{% if true %}x', /"\{% if %\}" without "\{% endif %\}"/, 1],
    ['x\n{% endfor %}', /"\{% endfor %\}" without "\{% for %\}"/, 2],
    ['{% for x in nets %}\n{% endif %}{% endfor %}', /"\{% endif %\}" without "\{% if %\}" \(the open block is "\{% for %\}" at line 1\)/, 2],
    ['{% if true %}{% else %}{% elif false %}{% endif %}', /after "\{% else %\}"/, 1],
    ['{% for %}{% endfor %}', /cannot parse/, 1],
    ['{% while true %}', /statement "\{% while true %\}" is not supported/, 1],
    ['{% for x in nets recursive %}{% endfor %}', /recursive loops/, 1],
    ['{{ unclosed', /"\{\{" without "\}\}"/, 1],
    ['{% raw %}x', /without "\{% endraw %\}"/, 1],
  ])('%j is rejected (%s)', (t, message, line) => {
    const e = fails(t);
    expect(e.message).toMatch(message);
    expect(e.line).toBe(line);
  });
});

// -------------------------------------------------------------------------------------------------
// The occurrences in reference/kayobe-configs, quoted. Variable files go through the YAML reader
// first (folded scalars), as the importer reads them.

function yamlValue(text: string, key: string): unknown {
  const problems: Problem[] = [];
  const f = parseVarFile('test.yml', text, problems);
  expect(problems).toEqual([]);
  return f!.vars[key];
}

describe('occurrences in Kayobe (openstack+kayobe/ansible/inventory/group_vars/all)', () => {
  it('openstack:10 openstack_branch: an if around a prefix', () => {
    const v = yamlValue(`openstack_branch: >-\n  {% if openstack_release != 'master' %}stable/{% endif %}{{ openstack_release | lower }}\n`, 'openstack_branch') as string;
    expect(render(v, { openstack_release: 'master' })).toBe('master');
    expect(render(v, { openstack_release: 'Epoxy' })).toBe('stable/epoxy');
  });

  // infra-vms:51-57 (infra_vm_root_image) and seed-vm:51-57 (seed_vm_root_image) are the same form.
  it.each(['infra_vm_root_image', 'seed_vm_root_image'])('%s: if/elif/else with whitespace control in a folded scalar', (key) => {
    const v = yamlValue(
      `${key}: >-
  {%- if os_distribution == 'ubuntu' %}
  https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img
  {%- elif os_distribution == 'rocky' %}
  https://dl.rockylinux.org/pub/rocky/10/images/x86_64/Rocky-10-GenericCloud-Base.latest.x86_64.qcow2
  {%- else -%}
  https://cloud.centos.org/centos/10-stream/x86_64/images/CentOS-Stream-GenericCloud-x86_64-10-latest.x86_64.qcow2
  {%- endif %}
`,
      key,
    ) as string;
    // Folding joins the lines with spaces; `{%- … %}` strips only before the tag, so the ubuntu and
    // rocky branches keep the space after `%}` (as Jinja renders them); `-%}` strips it for the else.
    expect(render(v, { os_distribution: 'ubuntu' })).toBe(' https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img');
    expect(render(v, { os_distribution: 'rocky' })).toBe(' https://dl.rockylinux.org/pub/rocky/10/images/x86_64/Rocky-10-GenericCloud-Base.latest.x86_64.qcow2');
    expect(render(v, { os_distribution: 'centos' })).toBe('https://cloud.centos.org/centos/10-stream/x86_64/images/CentOS-Stream-GenericCloud-x86_64-10-latest.x86_64.qcow2');
    expect(fails(v, {}).variable).toBe('os_distribution');
  });
});

describe('occurrences in Kayobe dev (openstack+kayobe/dev/tenks-deploy-config-compute*.yml)', () => {
  it('libvirt_vm_emulator depends on a gathered fact: unresolvable, naming ansible_facts', () => {
    const v = yamlValue(
      `libvirt_vm_emulator: "{% if ansible_facts.os_family == 'RedHat' %}/usr/libexec/qemu-kvm{% else %}/usr/bin/qemu-system-x86_64{% endif %}"\n`,
      'libvirt_vm_emulator',
    ) as string;
    const e = fails(v, {});
    expect([e.variable, e.line, e.message]).toEqual(['ansible_facts', 1, '"ansible_facts" is a fact gathered from the host at run time']);
  });
});

describe("occurrences in Kayobe's CI templates (openstack+kayobe/playbooks/*/…j2, rendered whole by the template module)", () => {
  it('kayobe-overcloud-base/overrides.yml.j2: set with default, if on it, raw sections', () => {
    const t = `---
{% set overcloud_network_engine = ci_network_engine | default('default') %}

{% if overcloud_network_engine != 'default' %}
network_engine: {{ overcloud_network_engine }}
{% endif %}
compute_libvirt_sasl_password: "{% raw %}{{ lookup('password', '/tmp/libvirt-sasl-password') }}{% endraw %}"
{% if tls_enabled %}
kolla_enable_tls_external: "yes"
{% endif %}
kolla_base_distro: "{% raw %}{{ 'rocky' if os_distribution == 'centos' else os_distribution }}{% endraw %}"
`;
    expect(renderTemplateFile('overrides.yml.j2', t, scope({ tls_enabled: false }))).toEqual({
      ok: true,
      text: `---

compute_libvirt_sasl_password: "{{ lookup('password', '/tmp/libvirt-sasl-password') }}"
kolla_base_distro: "{{ 'rocky' if os_distribution == 'centos' else os_distribution }}"
`,
    });
    const r = renderTemplateFile('overrides.yml.j2', t, scope({ tls_enabled: true, ci_network_engine: 'nmstate' }));
    expect(r.ok && r.text).toContain('network_engine: nmstate\ncompute_libvirt_sasl_password');
    expect(r.ok && r.text).toContain('kolla_enable_tls_external: "yes"\nkolla_base_distro');
  });

  it('kayobe-infra-vm-base/infra-vms-group-vars.j2 and kayobe-seed-vm-base/seed-group-vars.j2: if on a defaulted flag', () => {
    const t = `---
{% if infra_vm_use_cirros | default(true) %}
aio_interface: eth0
{% else %}
# Required for official cloud images (CentOS Stream 10, Rocky Linux 10, Ubuntu)
aio_interface: ens2
{% endif %}

# Route via the seed-hypervisor to the outside world.
aio_gateway: 192.168.33.4
`;
    const text = (vars: Record<string, unknown>) => {
      const r = renderTemplateFile('infra-vms-group-vars.j2', t, scope(vars));
      return r.ok ? r.text : r.message;
    };
    expect(text({})).toBe('---\naio_interface: eth0\n\n# Route via the seed-hypervisor to the outside world.\naio_gateway: 192.168.33.4\n');
    expect(text({ infra_vm_use_cirros: false })).toContain('aio_interface: ens2\n\n');
  });

  it('kayobe-seed-base/overrides.yml.j2:2 and kayobe-overcloud-host-configure-base: facts make the file unresolvable, with its line', () => {
    const seed = `---
{% if ansible_facts.os_family == 'RedHat' and ansible_facts.distribution_major_version == '10' %}
x: 1
{% endif %}
`;
    expect(renderTemplateFile('kayobe-seed-base/overrides.yml.j2', seed, scope({}))).toEqual({
      ok: false,
      file: 'kayobe-seed-base/overrides.yml.j2',
      line: 2,
      variable: 'ansible_facts',
      message: '"ansible_facts" is a fact gathered from the host at run time',
    });
    const hostConfigure = `---
{% set host_configure_network_engine = ci_network_engine | default('default') %}
{% if host_configure_network_engine == "nmstate" %}
network_engine: nmstate
{% endif %}
{% if ansible_os_family == "Debian" %}
x: 1
{% endif %}
`;
    const r = renderTemplateFile('overrides.yml.j2', hostConfigure, scope({}));
    expect(r.ok ? r : [r.line, r.variable]).toEqual([6, 'ansible_os_family']);
  });
});
