/**
 * Every Jinja statement (`{%`) in reference/kayobe-configs either resolves or is reported as
 * unresolvable with its file, line and variable. The list of files is pinned: a new occurrence in the
 * reference makes this test fail until it is covered here.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importKayobeFiles } from '../../domain/kayobe/config';
import { renderTemplateFile, Undef, type Scope } from '../../domain/kayobe/jinja';
import type { Problem } from '../../domain/kayobe/problems';
import { parseVarFile } from '../../domain/kayobe/yaml-vars';

const REF = '/work/shared/reference/kayobe-configs';

async function filesWithStatements(): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const e of await readdir(REF, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    const lines = (await readFile(path, 'utf8')).split('\n').flatMap((l, i) => (l.includes('{%') ? [i + 1] : []));
    if (lines.length) out[path.slice(REF.length + 1)] = lines;
  }
  return out;
}

const VAR_FILES = {
  'openstack+kayobe/ansible/inventory/group_vars/all/openstack': { openstack_branch: 'master' },
  'openstack+kayobe/ansible/inventory/group_vars/all/infra-vms': {
    infra_vm_root_image: ' https://dl.rockylinux.org/pub/rocky/10/images/x86_64/Rocky-10-GenericCloud-Base.latest.x86_64.qcow2',
  },
  'openstack+kayobe/ansible/inventory/group_vars/all/seed-vm': {
    seed_vm_root_image: ' https://dl.rockylinux.org/pub/rocky/10/images/x86_64/Rocky-10-GenericCloud-Base.latest.x86_64.qcow2',
  },
  'openstack+kayobe/dev/tenks-deploy-config-compute.yml': { libvirt_vm_emulator: { unresolvable: 79, fact: 'ansible_facts' } },
  'openstack+kayobe/dev/tenks-deploy-config-compute-libvirt-on-host.yml': { libvirt_vm_emulator: { unresolvable: 82, fact: 'ansible_facts' } },
} as const;

/** Zuul's variables for the CI templates; facts only in the second scope (what the host would gather). */
const ZUUL = {
  zuul: {
    projects: {
      'opendev.org/openstack/kolla': { src_dir: 'src/opendev.org/openstack/kolla', checkout: 'master' },
      'opendev.org/openstack/kolla-ansible': { src_dir: 'src/opendev.org/openstack/kolla-ansible', checkout: 'master' },
    },
  },
  zuul_site_mirror_fqdn: 'mirror.example.org',
  container_engine: 'docker',
  tls_enabled: true,
  build_images: false,
  fail2ban_enabled: true,
  os_distribution: 'rocky',
};
const FACTS = { ansible_env: { PWD: '/home/zuul' }, ansible_facts: { os_family: 'RedHat', distribution_major_version: '10' }, ansible_os_family: 'RedHat' };

const TEMPLATES: Record<string, { withoutFacts: { line: number; variable: string } | 'ok' }> = {
  'openstack+kayobe/playbooks/kayobe-infra-vm-base/infra-vms-group-vars.j2': { withoutFacts: 'ok' },
  'openstack+kayobe/playbooks/kayobe-seed-vm-base/seed-group-vars.j2': { withoutFacts: 'ok' },
  'openstack+kayobe/playbooks/kayobe-overcloud-base/overrides.yml.j2': { withoutFacts: { line: 13, variable: 'ansible_env' } },
  'openstack+kayobe/playbooks/kayobe-seed-base/overrides.yml.j2': { withoutFacts: { line: 2, variable: 'ansible_facts' } },
  'openstack+kayobe/playbooks/kayobe-overcloud-host-configure-base/overrides.yml.j2': { withoutFacts: { line: 29, variable: 'ansible_os_family' } },
};

function scope(vars: Record<string, unknown>): Scope {
  return { variable: (n) => (n in vars ? vars[n] : new Undef(n)), inventoryHostnames: () => [], hostVariable: () => new Undef('hostvars'), hasHost: () => false };
}

describe('Jinja statements in reference/kayobe-configs', () => {
  it('occur in exactly the files covered below', async () => {
    expect(Object.keys(await filesWithStatements()).sort()).toEqual([...Object.keys(VAR_FILES), ...Object.keys(TEMPLATES)].sort());
  });

  it.each(Object.entries(VAR_FILES))('%s: every variable with a statement resolves or is reported with file, line and variable', async (path, expected) => {
    const text = await readFile(join(REF, path), 'utf8');
    const imp = importKayobeFiles(
      [
        { path: 'inventory/hosts', text: '[controllers]\nctl0\n' },
        { path: 'globals.yml', text: 'os_distribution: rocky\n' },
      ],
      { extraVars: [{ path, text }] },
    );
    const host = imp.hosts[0]!;
    const problems: Problem[] = [];
    const file = parseVarFile(path, text, problems)!;
    const withStatements = Object.keys(file.vars).filter((k) => JSON.stringify(file.vars[k]).includes('{%'));
    expect(withStatements.sort()).toEqual(Object.keys(expected).sort());
    for (const [key, want] of Object.entries(expected)) {
      if (typeof want === 'string') {
        expect(host.unresolved).not.toContain(key);
        expect(host.vars[key]).toBe(want);
      } else {
        expect(host.unresolved).toContain(key);
        const p = imp.problems.find((x) => x.code === 'UnresolvedVariable' && x.variable === key);
        expect(p).toMatchObject({ file: path, line: want.unresolvable, hosts: ['ctl0'] });
        expect(p?.message).toContain(`"${want.fact}" is a fact gathered from the host at run time`);
      }
    }
  });

  it.each(Object.entries(TEMPLATES))('%s renders with Zuul variables and facts, and names the first fact without them', async (path, { withoutFacts }) => {
    const text = await readFile(join(REF, path), 'utf8');
    const without = renderTemplateFile(path, text, scope(ZUUL));
    if (withoutFacts === 'ok') expect(without.ok).toBe(true);
    else expect(without).toMatchObject({ ok: false, file: path, ...withoutFacts });

    const rendered = renderTemplateFile(path, text, scope({ ...ZUUL, ...FACTS }));
    if (!rendered.ok) throw new Error(`${rendered.file}:${rendered.line}: ${rendered.message}`);
    const problems: Problem[] = [];
    const vars = parseVarFile(path, rendered.text, problems);
    expect(problems).toEqual([]);
    // Only the `{% raw %}` sections leave Jinja behind, as variable templates for Ansible.
    expect(rendered.text).not.toContain('{%');
    expect(Object.keys(vars!.vars).length).toBeGreaterThan(0);
  });

  it('kayobe-overcloud-host-configure-base: the branches on facts and on the network engine', async () => {
    const path = 'openstack+kayobe/playbooks/kayobe-overcloud-host-configure-base/overrides.yml.j2';
    const text = await readFile(join(REF, path), 'utf8');
    const vars = (extra: Record<string, unknown>) => {
      const r = renderTemplateFile(path, text, scope({ ...ZUUL, ...FACTS, ...extra }));
      if (!r.ok) throw new Error(r.message);
      return parseVarFile(path, r.text, [])!.vars;
    };
    const redhat = vars({});
    const debian = vars({ ansible_os_family: 'Debian', ansible_facts: { os_family: 'Debian' } });
    const nmstate = vars({ ci_network_engine: 'nmstate' });
    // Lines 29-31: an item only on Debian; 116-123: variables only on Debian.
    expect(redhat['controller_extra_network_interfaces']).not.toContain('test_net_systemd_vlan');
    expect(debian['controller_extra_network_interfaces']).toContain('test_net_systemd_vlan');
    expect(redhat['test_net_systemd_vlan_interface']).toBeUndefined();
    expect(debian['test_net_systemd_vlan_interface']).toBe('vlan{{ test_net_systemd_vlan_vlan }}');
    // Lines 54-68: if/elif/else on the fact and the engine set at line 4 from ci_network_engine.
    expect(redhat['test_net_eth_vlan_rules']).toEqual(['from 192.168.35.0/24 table 2', { to: '192.168.35.0/24', table: 'kayobe-test-route-table' }]);
    expect(nmstate['test_net_eth_vlan_rules']).toEqual([{ from: '192.168.35.0/24', table: 'kayobe-test-route-table' }, { to: '192.168.35.0/24', table: 'kayobe-test-route-table' }]);
    expect(debian['test_net_eth_vlan_rules']).toEqual(nmstate['test_net_eth_vlan_rules']);
    // Lines 16-18 and 70-81: only with nmstate.
    expect([redhat['network_engine'], nmstate['network_engine']]).toEqual([undefined, 'nmstate']);
    expect(nmstate['test_net_eth_vlan_egress_qos_map']).toEqual([{ from: 129, to: 7 }, { from: 130, to: 6 }]);
    expect(redhat['test_net_eth_vlan_egress_qos_map']).toBeUndefined();
  });
});
