import { describe, expect, it } from 'vitest';
import { importKayobeFiles, type ConfigFile } from './config';
import { dumpConfiguration, renderAnsibleInventory } from './export';
import { KayobeConfigError } from './problems';

const GROUPS = `[seed]
[controllers]
[network:children]
controllers
[monitoring]
[storage]
[compute]
[overcloud:children]
controllers
network
monitoring
storage
compute
`;

function files(extra: Record<string, string>): ConfigFile[] {
  return Object.entries({ 'inventory/groups': GROUPS, ...extra }).map(([path, text]) => ({ path, text }));
}

function rejection(fn: () => unknown): KayobeConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KayobeConfigError);
    return e as KayobeConfigError;
  }
  throw new Error('expected a KayobeConfigError');
}

const NETWORKS = `
admin_oc_net_name: admin
internal_net_name: internal
external_net_names: [ext]
storage_net_name: "{{ internal_net_name }}"
storage_mgmt_net_name: "{{ internal_net_name }}"
admin_cidr: 10.0.0.0/24
internal_vlan: 101
internal_cidr: 10.1.0.0/24
`;

describe('importKayobeFiles: variable precedence (§2.1)', () => {
  const base = files({
    'inventory/hosts': 'localhost ansible_connection=local\n[controllers]\nctl1\nctl2 level=inline-host\n[compute]\ncmp1\n[all:vars]\nlevel=all-inline\n[compute:vars]\nlevel=compute-inline\n',
    'inventory/group_vars/all': 'level: group_vars-all\nonly_all: yes\n',
    'inventory/group_vars/overcloud.yml': 'level: overcloud\n',
    'inventory/group_vars/controllers/a-first': 'level: controllers-a\n',
    'inventory/group_vars/controllers/b-second.yml': 'level: controllers-b\nadmin_interface: eth0\ninternal_interface: "eth0.{{ internal_vlan }}"\n',
    'inventory/host_vars/ctl1': 'level: host_vars\n',
    'networks.yml': NETWORKS,
    'network-allocation.yml': 'admin_ips:\n  ctl1: 10.0.0.3\n  ctl2: 10.0.0.4\n  cmp1: 10.0.0.5\n',
  });

  it('Given all layers, then host_vars > inline host > deeper group_vars (dir files sorted) > group > all', () => {
    const imp = importKayobeFiles(base);
    const byName = Object.fromEntries(imp.hosts.map((h) => [h.name, h]));

    expect(imp.hosts.map((h) => h.name)).toEqual(['ctl1', 'ctl2', 'cmp1']);
    expect(imp.controlHosts).toEqual(['localhost']);
    expect(byName['ctl1']?.vars['level']).toBe('host_vars');
    expect(byName['ctl1']?.origins['level']).toEqual({ file: 'inventory/host_vars/ctl1', line: 1 });
    expect(byName['ctl2']?.vars['level']).toBe('inline-host');
    // group_vars files beat [compute:vars] even though compute's inline vars are deeper than all.
    expect(byName['cmp1']?.vars['level']).toBe('overcloud');
    expect(byName['cmp1']?.vars['only_all']).toBe(true); // YAML 1.1: yes is a boolean
  });

  it('Given global files, then they override every inventory variable (extra vars), sorted by name', () => {
    const imp = importKayobeFiles([...base, { path: 'zz-overrides.yml', text: 'level: global\n' }, { path: 'aa.yml', text: 'level: earlier\n' }]);
    expect(imp.hosts.every((h) => h.vars['level'] === 'global')).toBe(true);
    expect(imp.hosts[0]?.origins['level']).toEqual({ file: 'zz-overrides.yml', line: 1 });
  });

  it('computes network lists per group (§2.6), interfaces with templates, and allocations', () => {
    const imp = importKayobeFiles(base);
    const byName = Object.fromEntries(imp.hosts.map((h) => [h.name, h]));

    // controllers are in network (network:children controllers): the network-host list is added.
    expect(byName['ctl1']?.networkInterfaces).toEqual(['admin', 'internal', 'ext']);
    expect(byName['ctl1']?.networks).toEqual([
      { name: 'admin', interface: 'eth0', ip: '10.0.0.3' },
      { name: 'internal', interface: 'eth0.101' },
      { name: 'ext' },
    ]);
    // compute: external networks only with kolla_enable_neutron_provider_networks.
    expect(byName['cmp1']?.networkInterfaces).toEqual(['admin', 'internal']);
    expect(byName['cmp1']?.vars['ansible_host']).toBe('10.0.0.5');
    expect(imp.roles['public_net_name']).toBe('ext');
    expect(imp.roles['oob_wl_net_name']).toBeNull();
    expect(imp.networks.map((n) => [n.name, n.roles, n.attributes])).toEqual([
      ['admin', ['admin_oc'], { cidr: '10.0.0.0/24' }],
      ['ext', ['external', 'public'], {}],
      ['internal', ['internal', 'tunnel', 'storage', 'storage_mgmt', 'swift_storage', 'swift_storage_replication'], { cidr: '10.1.0.0/24', vlan: 101 }],
      ['oob_oc_net', ['oob_oc'], {}],
      ['provision_oc_net', ['provision_oc'], {}],
    ]);
    expect(imp.allocations.map((a) => [a.network, a.host, a.ip])).toEqual([
      ['admin', 'cmp1', '10.0.0.5'],
      ['admin', 'ctl1', '10.0.0.3'],
      ['admin', 'ctl2', '10.0.0.4'],
    ]);

    const withProvider = importKayobeFiles([...base, { path: 'kolla.yml', text: 'kolla_enable_neutron_provider_networks: true\nkolla_enable_ironic: yes\n' }]);
    expect(withProvider.hosts.find((h) => h.name === 'cmp1')?.networkInterfaces).toEqual(['admin', 'internal', 'ext']);
    expect(withProvider.kollaFlags).toMatchObject({ kolla_enable_neutron_provider_networks: true, kolla_enable_ironic: true, kolla_enable_swift: false });
    expect(withProvider.hosts.find((h) => h.name === 'ctl1')?.networkInterfaces).toEqual([
      'admin', 'oob_wl_net', 'provision_wl_net', 'inspection_net', 'internal', 'ext',
    ]);
  });

  it('gives a monitoring host that is not a controller admin, internal and public', () => {
    const imp = importKayobeFiles(files({ 'inventory/hosts': '[monitoring]\nmon1\n', 'networks.yml': NETWORKS }));
    expect(imp.hosts[0]?.networkInterfaces).toEqual(['admin', 'internal', 'ext']);
  });

  it('Given an environment, then its inventory and files override the base, and Kayobe variables name it', () => {
    const imp = importKayobeFiles(
      [
        ...base,
        { path: 'environments/prod/inventory/hosts', text: '[compute]\ncmp2\n' },
        { path: 'environments/prod/inventory/group_vars/compute', text: 'level: env-compute\n' },
        { path: 'environments/prod/networks.yml', text: 'admin_cidr: 10.9.0.0/24\n' },
        { path: 'environments/other/networks.yml', text: 'admin_cidr: 10.8.0.0/24\n' },
      ],
      { environment: 'prod' },
    );
    expect(imp.environment).toBe('prod');
    expect(imp.hosts.map((h) => h.name)).toEqual(['ctl1', 'ctl2', 'cmp1', 'cmp2']);
    expect(imp.hosts.find((h) => h.name === 'cmp2')?.vars['level']).toBe('env-compute');
    expect(imp.networks.find((n) => n.name === 'admin')?.attributes['cidr']).toBe('10.9.0.0/24');
    expect(imp.hosts[0]?.vars['kayobe_env_config_path']).toBe('/etc/kayobe/environments/prod');

    const e = rejection(() => importKayobeFiles(base, { environment: 'staging' }));
    expect(e.problems[0]).toMatchObject({ code: 'UnknownEnvironment', file: 'environments/staging' });
  });

  it('places the hosts of overcloud_group_hosts_map when there is no generated inventory, ignoring "ignore"', () => {
    const imp = importKayobeFiles(files({ 'overcloud.yml': 'overcloud_group_hosts_map:\n  controllers: [c0]\n  compute: [cp0]\n  ignore: [spare]\n', 'networks.yml': NETWORKS }));
    expect(imp.hosts.map((h) => [h.name, h.directGroups, h.source])).toEqual([
      ['c0', ['controllers'], { file: 'overcloud.yml', line: 1 }],
      ['cp0', ['compute'], { file: 'overcloud.yml', line: 1 }],
    ]);
    const bad = rejection(() => importKayobeFiles(files({ 'overcloud.yml': 'overcloud_group_hosts_map:\n  controler: [c0]\n' })));
    expect(bad.problems[0]).toMatchObject({ code: 'UnknownGroup', file: 'overcloud.yml', variable: 'overcloud_group_hosts_map' });
  });
});

describe('importKayobeFiles: what cannot be resolved is reported', () => {
  it('names the file and variable of the cause and of each dependent variable, with the hosts', () => {
    const imp = importKayobeFiles(
      files({
        'inventory/hosts': '[controllers]\nctl1\n',
        'globals.yml': "# comment\nos_distribution: \"{{ lookup('pipe', '. /etc/os-release && echo $ID') | trim }}\"\n",
        'inventory/group_vars/controllers/network-interfaces': "admin_interface: \"{{ 'ens2' if os_distribution == 'ubuntu' else 'eth0' }}\"\n",
        'networks.yml': NETWORKS,
      }),
    );
    const ctl1 = imp.hosts[0]!;
    expect(ctl1.unresolved).toEqual(expect.arrayContaining(['os_distribution', 'admin_interface']));
    expect(ctl1.networks[0]).toEqual({ name: 'admin' });
    expect(imp.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ severity: 'warning', code: 'UnresolvedVariable', file: 'globals.yml', line: 2, variable: 'os_distribution', hosts: ['ctl1'] }),
        expect.objectContaining({
          code: 'UnresolvedVariable',
          file: 'inventory/group_vars/controllers/network-interfaces',
          line: 1,
          variable: 'admin_interface',
          message: 'cannot be resolved at import: depends on os_distribution (globals.yml:2), which cannot be resolved',
        }),
      ]),
    );
    expect(dumpConfiguration(imp)['ctl1']?.['admin_interface']).toBe("{{ 'ens2' if os_distribution == 'ubuntu' else 'eth0' }}");
  });

  it('reports a recursive loop', () => {
    const imp = importKayobeFiles(files({ 'inventory/hosts': '[compute]\nc1\n', 'x.yml': 'a: "{{ b }}"\nb: "{{ a }}"\n' }));
    expect(imp.problems).toEqual(expect.arrayContaining([expect.objectContaining({ variable: 'a', message: 'cannot be resolved at import: recursive loop: a → b → a' })]));
  });
});

describe('importKayobeFiles: bad input is rejected as a whole, naming file, line and variable', () => {
  it.each<[string, Record<string, string>, object]>([
    ['malformed YAML', { 'networks.yml': 'admin_cidr: 10.0.0.0/24\n\tbad: 2\n' }, { code: 'MalformedYaml', file: 'networks.yml', line: 2 }],
    ['a YAML file that is not a mapping', { 'inventory/group_vars/compute': '- a\n- b\n' }, { code: 'MalformedYaml', file: 'inventory/group_vars/compute', line: 1 }],
    ['an unknown child group', { 'inventory/hosts': '[compute:children]\ncontrolers\n' }, { code: 'UnknownGroup', file: 'inventory/hosts', line: 2 }],
    ['circular children', { 'inventory/hosts': '[controllers:children]\novercloud\n' }, { code: 'CircularGroups', file: 'inventory/hosts', line: 2 }],
    ['a host in no group', { 'inventory/hosts': 'localhost ansible_connection=local\nstray\n[compute]\nc1\n' }, { code: 'HostInNoGroup', file: 'inventory/hosts', line: 2 }],
    ['a duplicate host', { 'inventory/hosts': '[compute]\nc1\nc1\n' }, { code: 'DuplicateHost', file: 'inventory/hosts', line: 3 }],
  ])('%s', (_what, extra, expected) => {
    const e = rejection(() => importKayobeFiles(files(extra)));
    expect(e.problems.filter((p) => p.severity === 'error')).toEqual([expect.objectContaining({ severity: 'error', ...expected })]);
    expect(e.reason).toBe('InvalidArgument');
    expect(e.message).toContain((expected as { file: string }).file);
  });

  it('collects every error, not only the first', () => {
    const e = rejection(() => importKayobeFiles(files({ 'inventory/hosts': '[compute]\nc1\nc1\n', 'a.yml': 'x: [\n' })));
    expect(e.problems.map((p) => p.code).sort()).toEqual(['DuplicateHost', 'MalformedYaml']);
  });
});

describe('importKayobeFiles: secrets', () => {
  it('flags clear-text secret-looking values as warnings without echoing them; templates and vault values pass', () => {
    const imp = importKayobeFiles(
      files({
        'inventory/hosts': '[compute]\nc1 ipmi_password=hunter2\n',
        'bmc.yml': 'ipmi_username: admin\nipmi_password: hunter3\nother_password: "{{ vault_other }}"\nvaulted_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n',
        'inventory/group_vars/compute': 'creds:\n  db_secret: hunter4\n',
      }),
    );
    const secrets = imp.problems.filter((p) => p.code === 'SecretInClearText');
    expect(secrets.map((p) => [p.file, p.line, p.variable, p.severity])).toEqual([
      ['inventory/group_vars/compute', 1, 'db_secret', 'warning'],
      ['bmc.yml', 2, 'ipmi_password', 'warning'],
      ['inventory/hosts', 2, 'ipmi_password', 'warning'],
    ]);
    expect(JSON.stringify(imp.problems)).not.toMatch(/hunter/);
    expect(JSON.stringify(imp.hosts[0]?.vars['vaulted_password'])).toBe('"<vault-encrypted>"');
  });
});

describe('export', () => {
  it('renders an Ansible inventory with groups, children and ansible_host', () => {
    const imp = importKayobeFiles(
      files({ 'inventory/hosts': 'localhost ansible_connection=local\n[controllers]\nctl1\n', 'networks.yml': NETWORKS, 'network-allocation.yml': 'admin_ips:\n  ctl1: 10.0.0.3\n' }),
    );
    const ini = renderAnsibleInventory(imp);
    expect(ini).toContain('localhost ansible_connection=local\n');
    expect(ini).toContain('[controllers]\nctl1 ansible_host=10.0.0.3\n');
    expect(ini).toContain('[overcloud:children]\ncontrollers\nnetwork\nmonitoring\nstorage\ncompute\n');
    expect(Object.keys(dumpConfiguration(imp, 'ctl1'))).toEqual(['ctl1']);
  });
});

describe('Jinja statements in variable values', () => {
  it('resolves for/set/if over the inventory and reports what needs facts with file, line and variable', () => {
    const imp = importKayobeFiles(
      files({
        'inventory/hosts': '[controllers]\nctl0 ansible_host=10.0.0.10\nctl1 ansible_host=10.0.0.11\n[compute]\ncmp0\n',
        'globals.yml': [
          'controller_addresses: "[{% for h in groups[\'controllers\'] %}\'{{ hostvars[h].ansible_host }}\'{% if not loop.last %}, {% endif %}{% endfor %}]"',
          'peers: >-',
          "  {%- set ns = namespace(out=[]) -%}",
          "  {%- for h in groups['overcloud'] if h != inventory_hostname -%}",
          '  {%- set ns.out = ns.out + [h] -%}',
          '  {%- endfor -%}',
          '  {{ ns.out | join(",") }}',
          "emulator: \"{% if ansible_facts.os_family == 'RedHat' %}/usr/libexec/qemu-kvm{% else %}/usr/bin/qemu{% endif %}\"",
          "broken: \"{% for x in [1] %}{{ x }}\"",
          '',
        ].join('\n'),
      }),
    );
    const ctl0 = imp.hosts.find((h) => h.name === 'ctl0')!;
    expect(ctl0.vars['controller_addresses']).toEqual(['10.0.0.10', '10.0.0.11']);
    expect(ctl0.vars['peers']).toBe('ctl1,cmp0');
    expect(ctl0.unresolved).toEqual(expect.arrayContaining(['emulator', 'broken']));
    const problem = (v: string) => imp.problems.find((p) => p.code === 'UnresolvedVariable' && p.variable === v);
    expect(problem('emulator')).toMatchObject({ file: 'globals.yml', line: 8, hosts: ['cmp0', 'ctl0', 'ctl1'] });
    expect(problem('emulator')?.message).toContain('"ansible_facts" is a fact gathered from the host at run time');
    expect(problem('broken')).toMatchObject({ file: 'globals.yml', line: 9 });
    expect(problem('broken')?.message).toContain('"{% for %}" without "{% endfor %}"');
  });
});
