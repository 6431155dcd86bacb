import { beforeEach, describe, expect, it } from 'vitest';
import { AlreadyExistsError, ConcurrencyError, InvalidTransitionError, NotFoundError, ValidationError } from '@stackyard/errors';
import { Events, type Envelope } from '@stackyard/events';
import type { GroupDeleted, GroupUpdated } from '@stackyard/proto/inventory/v1/events';
import type { GroupInput } from '../domain/group';
import type { ConfigFile } from '../domain/kayobe/config';
import { GroupService, type UpdateGroupInput } from './groups';
import { InMemoryGroups, InMemoryHosts, InMemoryImports, InMemorySites } from './in-memory.test-support';
import { InventoryService } from './inventory';
import { KayobeImportService } from './kayobe-import';

let sites: InMemorySites;
let hosts: InMemoryHosts;
let repo: InMemoryGroups;
let groups: GroupService;
let inventory: InventoryService;

const grp = (patch: Partial<GroupInput> = {}): GroupInput => ({ siteId: 'dc1', name: 'storage', description: '', children: [], vars: {}, ...patch });
const upd = (patch: Partial<UpdateGroupInput>): UpdateGroupInput => ({ id: 'dc1-storage', version: 1, updateMask: ['vars'], description: '', children: [], vars: {}, ...patch });
const host = (name: string, g: string[]) => ({ siteId: 'dc1', name, groups: g, bmc: { address: `bmc-${name}`, driver: 'lab', credentialRef: '' }, labels: {}, hardwareProfile: '' });

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error,
  );
}
const field = async (p: Promise<unknown>) => ((await rejection(p)) as ValidationError).field;

beforeEach(async () => {
  sites = new InMemorySites();
  hosts = new InMemoryHosts();
  repo = new InMemoryGroups();
  inventory = new InventoryService(sites, hosts, undefined, repo);
  groups = new GroupService(sites, repo, hosts);
  await inventory.createSite('dc1', '');
});

describe('CreateGroup / GetGroup / ListGroups', () => {
  it('Given a standard and a custom group, when created, then each is version 1 with GroupCreated and GetGroup lists its member hosts', async () => {
    await groups.createGroup(grp({ name: 'storage-ssd' }));
    const g = await groups.createGroup(grp({ description: 'Ceph', children: ['storage-ssd'], vars: { ceph_osd_count: '4', ceph_key: '{{ vault_ceph_key }}' } }));
    expect(g).toMatchObject({ id: 'dc1-storage', siteId: 'dc1', name: 'storage', version: 1, children: ['storage-ssd'], vars: { ceph_osd_count: '4' } });
    const created = repo.eventsOfType(Events.GroupCreated.type);
    expect(created.map((e) => e.subject)).toEqual(['stackyard.dc1.inventory.group.dc1-storage-ssd.created', 'stackyard.dc1.inventory.group.dc1-storage.created']);
    await inventory.registerHost(host('st-01', ['storage']));
    await inventory.registerHost(host('cmp-01', ['compute']));
    expect((await groups.getGroup('dc1-storage')).hosts).toEqual(['dc1-st-01']);
    expect(await rejection(groups.createGroup(grp()))).toBeInstanceOf(AlreadyExistsError);
    const page = await groups.listGroups('dc1', 1, '');
    expect(page.groups.map((x) => x.name)).toEqual(['storage']);
    const next = await groups.listGroups('dc1', 1, page.nextPageToken);
    expect(next).toMatchObject({ groups: [{ name: 'storage-ssd' }], nextPageToken: '' });
  });

  it('Given bad input, then each error names its field and nothing is written', async () => {
    expect(await field(groups.createGroup(grp({ siteId: 'dc9' })))).toBe('site_id');
    expect(await field(groups.createGroup(grp({ siteId: 'a.b' })))).toBe('site_id');
    expect(await field(groups.createGroup(grp({ name: 'Storage' })))).toBe('name');
    expect(await field(groups.createGroup(grp({ name: 'all' })))).toBe('name');
    expect(await field(groups.createGroup(grp({ description: 'x'.repeat(1001) })))).toBe('description');
    expect(await field(groups.createGroup(grp({ children: ['storage'] })))).toBe('children[0]');
    expect(await field(groups.createGroup(grp({ children: ['nope'] })))).toBe('children[0]');
    expect(await field(groups.createGroup(grp({ vars: { 'a.b': '1' } })))).toBe('vars');
    expect(await field(groups.createGroup(grp({ vars: { database_password: 'hunter22' } })))).toBe('vars.database_password');
    expect(await field(groups.getGroup(''))).toBe('id');
    expect(await rejection(groups.getGroup('dc1-nope'))).toBeInstanceOf(NotFoundError);
    expect(await field(groups.listGroups('', 0, ''))).toBe('site_id');
    expect(await field(groups.listGroups('dc1', -1, ''))).toBe('page_size');
    expect(await field(groups.listGroups('dc1', 0, 'zzz'))).toBe('page_token');
    expect(repo.store.writes).toBe(0);
  });

  it('a secret in clear text is refused naming the variable, and the value is not echoed', async () => {
    const e = (await rejection(groups.createGroup(grp({ vars: { kolla_admin_token: 's3cr3t-value' } })))) as ValidationError;
    expect(e.field).toBe('vars.kolla_admin_token');
    expect(e.message).not.toContain('s3cr3t-value');
    // Something that merely contains a colon is not a reference.
    expect(await field(groups.createGroup(grp({ vars: { db_password: 'pass:word' } })))).toBe('vars.db_password');
    // References are fine.
    await groups.createGroup(grp({ vars: { kolla_admin_token: 'vault:kolla/admin', ipmi_password: '{{ secrets.ipmi }}' } }));
  });
});

describe('children: cycles rejected naming the path', () => {
  it('Given a -> b -> c, when c gets child a, then children[0] names the path a cycle would make', async () => {
    await groups.createGroup(grp({ name: 'c' }));
    await groups.createGroup(grp({ name: 'b', children: ['c'] }));
    await groups.createGroup(grp({ name: 'a', children: ['b'] }));
    const e = (await rejection(groups.updateGroup(upd({ id: 'dc1-c', updateMask: ['children'], children: ['a'] })))) as ValidationError;
    expect(e.field).toBe('children[0]');
    expect(e.message).toBe('children[0]: would make a cycle: c -> a -> b -> c');
    expect((await groups.getGroup('dc1-c')).version).toBe(1);
  });
});

describe('UpdateGroup', () => {
  beforeEach(async () => {
    await groups.createGroup(grp({ vars: { ceph_osd_count: '4' } }));
    await groups.createGroup(grp({ name: 'storage-ssd' }));
  });

  it('Given version 1, when vars and children change, then version 2 with GroupUpdated naming what changed; the same again writes nothing', async () => {
    const g = await groups.updateGroup(upd({ updateMask: ['vars', 'children', 'description'], vars: { ceph_osd_count: '6' }, children: ['storage-ssd'] }));
    expect(g).toMatchObject({ version: 2, vars: { ceph_osd_count: '6' }, children: ['storage-ssd'], description: '' });
    const updated = repo.eventsOfType(Events.GroupUpdated.type) as Envelope<GroupUpdated>[];
    expect(updated.map((e) => e.data.changedFields)).toEqual([['children', 'vars']]);
    await groups.updateGroup(upd({ version: 2, updateMask: ['vars'], vars: { ceph_osd_count: '6' } }));
    expect(repo.eventsOfType(Events.GroupUpdated.type)).toHaveLength(1);
  });

  it('names id, version, update_mask, children and vars; a stale version is a ConcurrencyError', async () => {
    expect(await field(groups.updateGroup(upd({ id: '' })))).toBe('id');
    expect(await field(groups.updateGroup(upd({ version: 0 })))).toBe('version');
    expect(await field(groups.updateGroup(upd({ updateMask: [] })))).toBe('update_mask');
    expect(await field(groups.updateGroup(upd({ updateMask: ['name'] })))).toBe('update_mask[0]');
    expect(await field(groups.updateGroup(upd({ updateMask: ['children'], children: ['storage-ssd', 'storage-ssd'] })))).toBe('children[1]');
    expect(await field(groups.updateGroup(upd({ vars: { my_secret: 'plain' } })))).toBe('vars.my_secret');
    expect(await rejection(groups.updateGroup(upd({ id: 'dc1-nope' })))).toBeInstanceOf(NotFoundError);
    expect(await rejection(groups.updateGroup(upd({ version: 7, vars: { x: '1' } })))).toBeInstanceOf(ConcurrencyError);
    expect(repo.eventsOfType(Events.GroupUpdated.type)).toHaveLength(0);
  });
});

describe('DeleteGroup', () => {
  beforeEach(async () => {
    await groups.createGroup(grp({ name: 'storage-ssd' }));
    await groups.createGroup(grp({ children: ['storage-ssd'] }));
  });

  it('a group with children or member hosts needs force; a child of another group is refused even with force', async () => {
    expect(await rejection(groups.deleteGroup('dc1-storage', 0, false))).toBeInstanceOf(InvalidTransitionError);
    expect(await rejection(groups.deleteGroup('dc1-storage-ssd', 0, true))).toBeInstanceOf(InvalidTransitionError);
    await inventory.registerHost(host('st-01', ['storage']));
    expect((await rejection(groups.deleteGroup('dc1-storage', 0, false))).message).toMatch(/still has 1 member host/);
    const before = await groups.deleteGroup('dc1-storage', 1, true);
    expect(before).toMatchObject({ id: 'dc1-storage', version: 1 });
    const deleted = repo.eventsOfType(Events.GroupDeleted.type) as Envelope<GroupDeleted>[];
    expect(deleted.map((e) => [e.subject, e.data.groupId])).toEqual([['stackyard.dc1.inventory.group.dc1-storage.deleted', 'dc1-storage']]);
    expect(await rejection(groups.getGroup('dc1-storage'))).toBeInstanceOf(NotFoundError);
    // The members keep the name; the child is now a top-level group and can go without force.
    expect((await inventory.getHost('dc1-st-01')).groups).toEqual(['storage']);
    await groups.deleteGroup('dc1-storage-ssd', 0, false);
    // Re-created, it continues its versions.
    expect((await groups.createGroup(grp())).version).toBe(3);
  });

  it('names version; a stale version is a ConcurrencyError', async () => {
    expect(await field(groups.deleteGroup('dc1-storage', -1, true))).toBe('version');
    expect(await rejection(groups.deleteGroup('dc1-storage', 5, true))).toBeInstanceOf(ConcurrencyError);
  });
});

describe('ListHosts by group uses the group records', () => {
  it('a parent group finds the hosts of its descendant groups (with a site)', async () => {
    await groups.createGroup(grp({ name: 'controllers' }));
    await groups.createGroup(grp({ name: 'compute' }));
    await groups.createGroup(grp({ name: 'overcloud', children: ['controllers', 'compute'] }));
    await inventory.registerHost(host('ctl-01', ['controllers']));
    await inventory.registerHost(host('cmp-01', ['compute']));
    await inventory.registerHost(host('seed', ['seed']));
    const r = await inventory.listHosts({ siteId: 'dc1', group: 'overcloud' }, 0, '');
    expect(r.hosts.map((h) => h.name)).toEqual(['cmp-01', 'ctl-01']);
    expect((await inventory.listHosts({ siteId: 'dc1', group: 'seed' }, 0, '')).hosts.map((h) => h.name)).toEqual(['seed']);
  });
});

describe('Kayobe import creates and updates the group records', () => {
  const files = (groupsText: string): ConfigFile[] => [
    { path: 'inventory/groups', text: groupsText },
    { path: 'inventory/hosts', text: '[controllers]\nctl1 ipmi_address=10.9.0.1\n[compute]\ncmp1 ipmi_address=10.9.0.2\n' },
  ];
  const req = { configPath: '/etc/kayobe', environment: '', siteId: 'dc1', dryRun: false, requestId: '', registerHosts: false, registerGroups: [], bmcDriver: 'ironic' };

  it('Given groups with children, then each becomes a record (children first); a re-import updates children and keeps operator vars; a crash re-run does not duplicate', async () => {
    let current = files('[controllers]\n[compute]\n[storage]\n[overcloud:children]\ncontrollers\ncompute\n');
    const importer = new KayobeImportService(inventory, new InMemoryImports(), { read: async () => current }, { groups });
    await importer.importConfig(req);
    const created = repo.eventsOfType(Events.GroupCreated.type).map((e) => e.entityId);
    expect(created.indexOf('dc1-overcloud')).toBeGreaterThan(created.indexOf('dc1-compute'));
    expect(new Set(created)).toEqual(new Set(['dc1-controllers', 'dc1-compute', 'dc1-storage', 'dc1-overcloud']));
    expect((await groups.getGroup('dc1-overcloud')).children).toEqual(['controllers', 'compute']);
    expect((await groups.getGroup('dc1-controllers')).hosts).toEqual(['dc1-ctl1']);

    await groups.updateGroup(upd({ id: 'dc1-overcloud', updateMask: ['vars'], vars: { kolla_enable_ceilometer: 'true' } }));
    // The same import again (a re-run after a crash): nothing new.
    await importer.importConfig(req);
    expect(repo.eventsOfType(Events.GroupCreated.type)).toHaveLength(4);

    current = files('[controllers]\n[compute]\n[storage]\n[overcloud:children]\ncontrollers\ncompute\nstorage\n');
    await importer.importConfig(req);
    const g = await groups.getGroup('dc1-overcloud');
    expect(g).toMatchObject({ children: ['controllers', 'compute', 'storage'], vars: { kolla_enable_ceilometer: 'true' }, version: 3 });
    expect((repo.eventsOfType(Events.GroupUpdated.type) as Envelope<GroupUpdated>[]).map((e) => e.data.changedFields)).toEqual([['vars'], ['children']]);
    // ListHosts by the parent finds the children's hosts.
    expect((await inventory.listHosts({ siteId: 'dc1', group: 'overcloud' }, 0, '')).hosts.map((h) => h.name)).toEqual(['cmp1', 'ctl1']);
  });

  it('a configuration with an error writes no group', async () => {
    const current = files('[controllers]\n[compute]\n[a:children]\nb\n[b:children]\na\n');
    const importer = new KayobeImportService(inventory, new InMemoryImports(), { read: async () => current }, { groups });
    await expect(importer.importConfig(req)).rejects.toBeInstanceOf(ValidationError);
    expect(repo.store.writes).toBe(0);
  });
});
