import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { groupsOf, hostsOf, parseInventory } from '../../domain/kolla/ini';
import { renderOvercloudInventory, type OvercloudHost } from '../../domain/kolla/inventory';
import { mappedKayobeGroups, placement } from '../../domain/kolla/placement';
import { HAVE_REFERENCE, NO_REFERENCE, readReference } from '../../test-support/reference';

/** `ansible-inventory` from Debian's ansible-core (`apt-get install -y ansible-core`). */
const ANSIBLE = spawnSync('ansible-inventory', ['--version'], { encoding: 'utf8' });
const HAVE_ANSIBLE = ANSIBLE.status === 0;
const NO_ANSIBLE = 'ansible-inventory not found (install Debian ansible-core: apt-get install -y ansible-core)';

type AnsibleList = Record<string, { hosts?: string[]; children?: string[] }>;

const dir = mkdtempSync(join(tmpdir(), 'stackyard-kolla-inventory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ansibleList(text: string, name: string): AnsibleList {
  const file = join(dir, name);
  writeFileSync(file, text);
  const out = execFileSync('ansible-inventory', ['-i', file, '--list'], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_HOME: join(dir, '.ansible'), ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'), ANSIBLE_INVENTORY_UNPARSED_FAILED: 'True', ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS: 'never' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out) as AnsibleList;
}

/** Hosts of a group in ansible's JSON, through children. */
function ansibleHosts(list: AnsibleList, group: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(group)) return out;
  seen.add(group);
  const g = list[group];
  for (const h of g?.hosts ?? []) out.add(h);
  for (const c of g?.children ?? []) for (const h of ansibleHosts(list, c, seen)) out.add(h);
  return out;
}

/** Every group ansible sees has the hosts our parser resolves for it, and the reverse. */
function expectSameGroups(text: string, list: AnsibleList) {
  const ours = parseInventory(text);
  const groups = new Set([...ours.groups.keys(), ...Object.keys(list).filter((g) => g !== '_meta' && g !== 'all' && g !== 'ungrouped')]);
  for (const g of groups) expect(ansibleHosts(list, g), g).toEqual(new Set(hostsOf(ours, g)));
}

const SITE: OvercloudHost[] = [
  { name: 'ctl-01', groups: ['controllers', 'network', 'monitoring'] },
  { name: 'ctl-02', groups: ['controllers', 'network'] },
  { name: 'ctl-03', groups: ['controllers', 'network'] },
  { name: 'cmp-01', groups: ['compute'] },
  { name: 'cmp-02', groups: ['compute'] },
  { name: 'stor-01', groups: ['storage'] },
];

describe(`ansible-inventory parses the generated overcloud inventory (${HAVE_ANSIBLE ? ANSIBLE.stdout.split('\n')[0] : NO_ANSIBLE})`, () => {
  it('Given the sample site, then ansible sees the top level, component and service groups with the expected hosts', () => {
    const text = renderOvercloudInventory(SITE);
    const list = ansibleList(text, 'sample-site');
    expectSameGroups(text, list);
    const hosts = (g: string) => [...ansibleHosts(list, g)].sort();
    expect(list.control?.children).toEqual(['controllers']);
    expect(hosts('control')).toEqual(['ctl-01', 'ctl-02', 'ctl-03']);
    expect(hosts('overcloud')).toEqual(['cmp-01', 'cmp-02', 'ctl-01', 'ctl-02', 'ctl-03', 'stor-01']);
    expect(hosts('compute')).toEqual(['cmp-01', 'cmp-02']);
    expect(hosts('nova-api')).toEqual(['ctl-01', 'ctl-02', 'ctl-03']);
    expect(hosts('neutron-l3-agent')).toEqual(['ctl-01', 'ctl-02', 'ctl-03']);
    expect(hosts('openvswitch')).toEqual(['cmp-01', 'cmp-02', 'ctl-01', 'ctl-02', 'ctl-03']);
    expect(hosts('prometheus')).toEqual(['ctl-01']);
    expect(hosts('tgtd')).toEqual(['stor-01']);
    expect(hosts('common')).toEqual(hosts('overcloud'));
    expect(hosts('deployment')).toEqual([]);
    expect(hosts('bifrost')).toEqual([]);
  });

  it.skipIf(!HAVE_REFERENCE)(`Kolla-Ansible's own multinode file: ansible and our INI parser agree on every group (${HAVE_REFERENCE ? 'reference found' : NO_REFERENCE})`, () => {
    const text = readReference('openstack+kolla-ansible/ansible/inventory/multinode');
    expectSameGroups(text, ansibleList(text, 'multinode'));
  });

  it.skipIf(!HAVE_REFERENCE)('kayobe-config-dev: its Kayobe inventory becomes a Kolla inventory where controller0 runs the control, network, compute and monitoring roles', () => {
    const root = 'openstack+kayobe-config-dev/etc/kayobe/inventory';
    const kayobe = parseInventory(`${readReference(`${root}/groups`)}\n${readReference(`${root}/hosts`)}`);
    const mapped = new Set(mappedKayobeGroups());
    const hosts = [...new Set([...kayobe.groups.values()].flatMap((g) => g.hosts))]
      .map((name) => ({ name, groups: groupsOf(kayobe, name) }))
      .filter((h) => h.groups.some((g) => mapped.has(g)));
    expect(hosts).toEqual([{ name: 'controller0', groups: expect.arrayContaining(['controllers', 'network', 'compute', 'monitoring']) as unknown as string[] }]);

    const text = renderOvercloudInventory(hosts);
    const list = ansibleList(text, 'kayobe-config-dev');
    expectSameGroups(text, list);
    for (const g of ['control', 'network', 'compute', 'monitoring', 'nova-api', 'neutron-server', 'neutron-l3-agent', 'openvswitch', 'loadbalancer', 'mariadb']) {
      expect([...ansibleHosts(list, g)], g).toEqual(['controller0']);
    }
    expect([...ansibleHosts(list, 'storage')]).toEqual([]);
    // An all-in-one controller runs both the control plane and nova-compute.
    const ctrs = placement(hosts[0]?.groups ?? []).map((c) => c.name);
    expect(ctrs).toEqual(expect.arrayContaining(['mariadb', 'haproxy', 'keystone', 'nova_api', 'nova_compute', 'neutron_l3_agent']));
  });
});
