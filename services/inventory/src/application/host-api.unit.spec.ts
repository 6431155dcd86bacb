import { beforeEach, describe, expect, it } from 'vitest';
import { ConcurrencyError, InvalidTransitionError, NotFoundError, ValidationError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import { HostState } from '@stackyard/proto/inventory/v1/inventory';
import type { HostDeleted, HostUpdated } from '@stackyard/proto/inventory/v1/events';
import type { RegisterHostInput, UpdateHostInput } from '../domain/host';
import type { ConfigFile } from '../domain/kayobe/config';
import { InMemoryFeed, InMemoryHosts, InMemoryImports, InMemorySites } from './in-memory.test-support';
import type { StoredHost } from './ports';
import { InventoryService, type WatchItem } from './inventory';
import { KayobeImportService, type ImportRequest } from './kayobe-import';

const REG: RegisterHostInput = {
  siteId: 'dc1',
  name: 'ctl-01',
  groups: ['controllers'],
  bmc: { address: '10.9.0.11', driver: 'lab', credentialRef: 'vault:bmc/ctl-01' },
  labels: { rack: 'r12' },
  hardwareProfile: 'controller-std',
};
const ref = { hostId: 'dc1-ctl-01', siteId: 'dc1', name: 'ctl-01', groups: ['controllers'] };
const ready = () => newEvent({ type: Events.NodeReady, site: 'dc1', entityId: 'dc1-ctl-01', service: 'monitoring', data: { host: ref, durationMs: 5 } });
const deprovisioned = () => newEvent({ type: Events.NodeDeprovisioned, site: 'dc1', entityId: 'dc1-ctl-01', service: 'provisioning', data: { host: ref, state: 'available' } });

let hosts: InMemoryHosts;
let feed: InMemoryFeed;
let svc: InventoryService;

beforeEach(async () => {
  hosts = new InMemoryHosts();
  feed = new InMemoryFeed();
  svc = new InventoryService(new InMemorySites(), hosts, feed);
  await svc.createSite('dc1', '');
  await svc.createSite('dc2', '');
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error,
  );
}

const update = (patch: Partial<UpdateHostInput>): UpdateHostInput => ({
  id: 'dc1-ctl-01',
  version: 1,
  updateMask: ['labels'],
  groups: [],
  bmc: undefined,
  labels: {},
  hardwareProfile: '',
  ...patch,
});

describe('UpdateHost', () => {
  it('Given version 1, when labels and groups change, then version 2 is stored with HostUpdated naming the changed fields', async () => {
    await svc.registerHost(REG);
    const h = await svc.updateHost(update({ updateMask: ['labels', 'groups', 'hardware_profile'], labels: { rack: 'r13' }, groups: ['controllers', 'monitoring'], hardwareProfile: 'controller-std' }));
    expect(h).toMatchObject({ version: 2, labels: { rack: 'r13' }, groups: ['controllers', 'monitoring'], state: HostState.HOST_STATE_REGISTERED });
    const [e] = hosts.eventsOfType(Events.HostUpdated.type) as Envelope<HostUpdated>[];
    expect(e?.subject).toBe('stackyard.dc1.inventory.host.dc1-ctl-01.updated');
    expect(e?.data.changedFields).toEqual(['labels', 'groups']);
    expect(e?.data.host).toMatchObject({ version: 2, labels: { rack: 'r13' } });
    expect(await svc.getHost('dc1-ctl-01')).toEqual(h);
  });

  it('Given a stale version, then it is a ConcurrencyError (ABORTED) and nothing is written', async () => {
    await svc.registerHost(REG);
    await svc.updateHost(update({ labels: { rack: 'r13' } }));
    const writes = hosts.store.writes;
    const e = await rejection(svc.updateHost(update({ labels: { rack: 'r14' } })));
    expect(e).toBeInstanceOf(ConcurrencyError);
    expect(hosts.store.writes).toBe(writes);
  });

  it('an update that changes nothing writes nothing and returns the host', async () => {
    await svc.registerHost(REG);
    const h = await svc.updateHost(update({ labels: { rack: 'r12' } }));
    expect(h.version).toBe(1);
    expect(hosts.store.writes).toBe(1);
  });

  it('bad input names its field and persists nothing; an unknown host is NotFound', async () => {
    await svc.registerHost(REG);
    expect(((await rejection(svc.updateHost(update({ version: 0 })))) as ValidationError).field).toBe('version');
    expect(((await rejection(svc.updateHost(update({ updateMask: ['groups'], groups: ['Bad'] })))) as ValidationError).field).toBe('groups[0]');
    expect(await rejection(svc.updateHost(update({ id: 'dc1-nope' })))).toBeInstanceOf(NotFoundError);
    expect(hosts.store.writes).toBe(1);
  });
});

describe('DeleteHost and the saga end', () => {
  it('Given a running saga, then DeleteHost is FAILED_PRECONDITION; once NodeReady arrived it deletes with HostDeleted', async () => {
    await svc.registerHost(REG);
    expect(await rejection(svc.deleteHost('dc1-ctl-01', 0))).toBeInstanceOf(InvalidTransitionError);

    const r = ready();
    expect(await svc.recordSagaEnd(r, 'ready', `inventory-on-node-ready~${r.id}`)).toEqual({ outcome: 'written', version: 2 });
    expect(await svc.recordSagaEnd(r, 'ready', `inventory-on-node-ready~${r.id}`)).toBe('ignored');
    expect((await svc.getHost('dc1-ctl-01')).state).toBe(HostState.HOST_STATE_READY);
    const [u] = hosts.eventsOfType(Events.HostUpdated.type) as Envelope<HostUpdated>[];
    expect(u?.data.changedFields).toEqual(['state']);
    expect(u?.causationId).toBe(r.id);

    expect(await rejection(svc.deleteHost('dc1-ctl-01', 1))).toBeInstanceOf(ConcurrencyError);
    const gone = await svc.deleteHost('dc1-ctl-01', 2);
    expect(gone).toMatchObject({ id: 'dc1-ctl-01', version: 2, state: HostState.HOST_STATE_READY });
    const [d] = hosts.eventsOfType(Events.HostDeleted.type) as Envelope<HostDeleted>[];
    expect(d?.subject).toBe('stackyard.dc1.inventory.host.dc1-ctl-01.deleted');
    expect(d?.data).toMatchObject({ hostId: 'dc1-ctl-01', siteId: 'dc1' });
    expect(await rejection(svc.getHost('dc1-ctl-01'))).toBeInstanceOf(NotFoundError);
    expect((await svc.listHosts({ siteId: 'dc1' }, 0, '')).hosts).toEqual([]);
    expect(await rejection(svc.deleteHost('dc1-ctl-01', 0))).toBeInstanceOf(NotFoundError);
  });

  it('an aborted host can be deleted; a late NodeReady changes nothing', async () => {
    await svc.registerHost(REG);
    const d = deprovisioned();
    await svc.recordSagaEnd(d, 'aborted', `k~${d.id}`);
    expect(await svc.recordSagaEnd(ready(), 'ready', 'k~late')).toBe('ignored');
    expect((await svc.getHost('dc1-ctl-01')).state).toBe(HostState.HOST_STATE_ABORTED);
    await svc.deleteHost('dc1-ctl-01', 0);
  });

  it('a deleted host can be registered again: its versions continue and HostRegistered is emitted', async () => {
    await svc.recordHost({ ...REG, bmc: undefined });
    await svc.deleteHost('dc1-ctl-01', 1);
    const again = await svc.registerHost(REG);
    expect(again).toMatchObject({ version: 3, state: HostState.HOST_STATE_REGISTERED });
    expect(hosts.eventsOfType(Events.HostRegistered.type)).toHaveLength(1);
  });

  it('a fact is ignored only on a fresh read: a stale cached tombstone (another replica revived the host) is read again', async () => {
    class StaleCache extends InMemoryHosts {
      stale = new Map<string, StoredHost>();
      override async get(id: string, opts: { cached?: boolean } = {}) {
        return (opts.cached ? this.stale.get(id) : undefined) ?? super.get(id);
      }
    }
    const stale = new StaleCache();
    const s2 = new InventoryService(new InMemorySites(), stale, feed);
    await s2.createSite('dc1', '');
    await s2.recordHost({ ...REG, bmc: undefined });
    await s2.deleteHost('dc1-ctl-01', 1);
    stale.stale.set('dc1-ctl-01', (await stale.get('dc1-ctl-01'))!); // what this replica last saw: deleted
    await s2.registerHost(REG); // on another replica, as far as the cache knows
    const r = ready();
    expect(await s2.recordSagaEnd(r, 'ready', `inventory-on-node-ready~${r.id}`)).toEqual({ outcome: 'written', version: 4 });
    expect((await s2.getHost('dc1-ctl-01')).state).toBe(HostState.HOST_STATE_READY);
  });

  it('names id and version; the saga end of an unknown host is ignored', async () => {
    expect(((await rejection(svc.deleteHost('', 0))) as ValidationError).field).toBe('id');
    expect(((await rejection(svc.deleteHost('dc1-ctl-01', -1))) as ValidationError).field).toBe('version');
    expect(await svc.recordSagaEnd(ready(), 'ready', 'k')).toBe('ignored');
  });
});

describe('ListHosts filters', () => {
  beforeEach(async () => {
    await svc.registerHost({ ...REG, name: 'ctl-01', labels: { rack: 'r1', row: 'a' } });
    await svc.registerHost({ ...REG, name: 'cmp-01', groups: ['compute'], labels: { rack: 'r1' } });
    await svc.recordHost({ ...REG, name: 'cmp-02', groups: ['compute'], labels: { rack: 'r2' }, bmc: undefined });
    await svc.registerHost({ ...REG, siteId: 'dc2', name: 'cmp-01', groups: ['compute'], labels: { rack: 'r1' } });
  });
  const ids = async (q: Parameters<InventoryService['listHosts']>[0]) => (await svc.listHosts(q, 0, '')).hosts.map((h) => h.id);

  it('by label selector, state and group, combined with the site', async () => {
    expect(await ids({ siteId: 'dc1', labelSelector: 'rack=r1' })).toEqual(['dc1-cmp-01', 'dc1-ctl-01']);
    expect(await ids({ labelSelector: 'rack=r1,row=a' })).toEqual(['dc1-ctl-01']);
    expect(await ids({ state: 'recorded' })).toEqual(['dc1-cmp-02']);
    expect(await ids({ siteId: 'dc1', group: 'compute', state: 'registered' })).toEqual(['dc1-cmp-01']);
  });

  it('pages with opaque tokens bound to the filters', async () => {
    const p1 = await svc.listHosts({ labelSelector: 'rack=r1' }, 2, '');
    expect(p1.hosts.map((h) => h.id)).toEqual(['dc1-cmp-01', 'dc1-ctl-01']);
    const p2 = await svc.listHosts({ labelSelector: 'rack=r1' }, 2, p1.nextPageToken);
    expect(p2).toMatchObject({ hosts: [{ id: 'dc2-cmp-01' }], nextPageToken: '' });
    expect(((await rejection(svc.listHosts({ labelSelector: 'rack=r2' }, 2, p1.nextPageToken))) as ValidationError).field).toBe('page_token');
    expect(((await rejection(svc.listHosts({}, 2, 'garbage'))) as ValidationError).field).toBe('page_token');
    expect(((await rejection(svc.listHosts({ group: 'Bad Group' }, 2, ''))) as ValidationError).field).toBe('group');
    expect(((await rejection(svc.listHosts({ labelSelector: 'nope' }, 2, ''))) as ValidationError).field).toBe('label_selector');
  });
});

describe('WatchHosts', () => {
  const collect = () => {
    const items: WatchItem[] = [];
    const ac = new AbortController();
    return { items, ac };
  };

  it('from 0: the snapshot at the last revision, SYNCED, then the site`s changes as they come; ends on abort', async () => {
    await svc.registerHost(REG);
    feed.push(hosts.events[0]!); // revision 1
    const { items, ac } = collect();
    const done = svc.watchHosts('dc1', 0, ac.signal, (i) => {
      items.push(i);
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(items.map((i) => i.kind)).toEqual(['snapshot', 'synced']);
    expect(items[0]).toMatchObject({ revision: 1, host: { id: 'dc1-ctl-01', version: 1 } });
    const h = await svc.registerHost({ ...REG, siteId: 'dc2' });
    feed.push(hosts.events.at(-1)!); // another site: not sent
    await svc.updateHost(update({ labels: { rack: 'r2' } }));
    feed.push(hosts.events.at(-1)!);
    await new Promise((r) => setTimeout(r, 10));
    expect(h.siteId).toBe('dc2');
    expect(items.slice(2)).toMatchObject([{ kind: 'change', change: { revision: 3, event: { type: Events.HostUpdated.type } } }]);
    ac.abort();
    await done;
  });

  it('from a revision: replays what came after it', async () => {
    await svc.registerHost(REG);
    feed.push(hosts.events[0]!);
    await svc.updateHost(update({ labels: { rack: 'r2' } }));
    feed.push(hosts.events[1]!);
    const { items, ac } = collect();
    const done = svc.watchHosts('dc1', 1, ac.signal, (i) => {
      items.push(i);
    });
    await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await done;
    expect(items).toMatchObject([{ kind: 'change', change: { revision: 2 } }]);
  });

  it('names site_id and from_revision; an unknown site is NotFound', async () => {
    const ac = new AbortController();
    expect(((await rejection(svc.watchHosts('', 0, ac.signal, () => undefined))) as ValidationError).field).toBe('site_id');
    expect(((await rejection(svc.watchHosts('dc1', -1, ac.signal, () => undefined))) as ValidationError).field).toBe('from_revision');
    expect(((await rejection(svc.watchHosts('dc1', 99, ac.signal, () => undefined))) as ValidationError).field).toBe('from_revision');
    expect(await rejection(svc.watchHosts('dc9', 0, ac.signal, () => undefined))).toBeInstanceOf(NotFoundError);
  });
});

describe('Kayobe re-import and import records', () => {
  const files = (hostsText: string): ConfigFile[] => [
    { path: 'inventory/groups', text: '[controllers]\n[compute]\n[overcloud:children]\ncontrollers\ncompute\n' },
    { path: 'inventory/hosts', text: hostsText },
  ];
  let current: ConfigFile[] = [];
  const req: ImportRequest = { configPath: '/etc/kayobe', environment: '', siteId: 'dc1', dryRun: false, requestId: '', registerHosts: false, registerGroups: [], bmcDriver: 'ironic' };
  let imports: InMemoryImports;
  let importer: KayobeImportService;
  let clock = 0;

  beforeEach(() => {
    imports = new InMemoryImports();
    importer = new KayobeImportService(svc, imports, { read: async () => current }, { now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)) });
  });

  it('a changed configuration updates changed hosts (HostUpdated), keeps unchanged ones and warns about hosts it no longer has', async () => {
    current = files('[controllers]\nctl1 ipmi_address=10.9.0.1\n[compute]\ncmp1 ipmi_address=10.9.0.2\ncmp2 ipmi_address=10.9.0.3\n');
    const first = await importer.importConfig(req);
    expect(first.hosts.map((h) => h.change)).toEqual(['added', 'added', 'added']);
    expect(hosts.eventsOfType(Events.HostRecorded.type)).toHaveLength(3);
    await svc.updateHost({ id: 'dc1-cmp1', version: 1, updateMask: ['labels'], labels: { rack: 'r9' }, groups: [], bmc: undefined, hardwareProfile: '' });

    current = files('[controllers]\nctl1 ipmi_address=10.9.0.1\n[compute]\ncmp1 ipmi_address=10.9.0.20\n');
    const dry = await importer.importConfig({ ...req, dryRun: true });
    expect(dry.hosts.map((h) => [h.host?.name, h.change])).toEqual([['ctl1', 'unchanged'], ['cmp1', 'changed']]);
    expect(hosts.eventsOfType(Events.HostUpdated.type)).toHaveLength(1);

    const second = await importer.importConfig(req);
    expect(second.hosts.map((h) => h.change)).toEqual(['unchanged', 'changed']);
    const cmp1 = await svc.getHost('dc1-cmp1');
    expect(cmp1.bmc?.address).toBe('10.9.0.20');
    expect(cmp1.labels).toEqual({ rack: 'r9', 'stackyard.io/imported-from': first.record.id });
    const updated = hosts.eventsOfType(Events.HostUpdated.type) as Envelope<HostUpdated>[];
    expect(updated.at(-1)?.data.changedFields).toEqual(['bmc']);
    expect(second.record.warnings.filter((w) => w.code === 'HostNoLongerConfigured').map((w) => w.message)).toEqual([
      `host cmp2 is no longer in the configuration (imported by ${first.record.id}); it is kept: delete it with DeleteHost if it is gone`,
    ]);
    expect(second.record.hostsMissing).toEqual(['dc1-cmp2']);
    expect((await svc.getHost('dc1-cmp2')).name).toBe('cmp2');

    const completed = imports.events.filter((e) => e.type === Events.ImportCompleted.type);
    expect(completed.map((e) => e.data)).toMatchObject([
      { importId: first.record.id, hostsAdded: 3, hostsChanged: 0, hostsUnchanged: 0 },
      { importId: second.record.id, hostsAdded: 0, hostsChanged: 1, hostsUnchanged: 1, hostsMissing: ['dc1-cmp2'], warningsCount: second.record.warnings.length },
    ]);
    expect(completed[1]?.subject).toBe(`stackyard.dc1.inventory.import.${second.record.id}.completed`);

    const got = await importer.getImport(second.record.id);
    expect(got.outcome).toEqual({ added: 0, changed: 1, unchanged: 1 });
    const list = await importer.listImports('dc1', 1, '');
    expect(list.imports.map((i) => i.id)).toEqual([second.record.id]);
    const next = await importer.listImports('dc1', 1, list.nextPageToken);
    expect(next).toMatchObject({ imports: [{ id: first.record.id }], nextPageToken: '' });
  });

  it('GetImport and ListImports name their fields', async () => {
    expect(((await rejection(importer.getImport(''))) as ValidationError).field).toBe('import_id');
    expect(await rejection(importer.getImport('dc1-nope'))).toBeInstanceOf(NotFoundError);
    expect(((await rejection(importer.listImports('', 0, ''))) as ValidationError).field).toBe('site_id');
    expect(((await rejection(importer.listImports('dc1', 0, 'zzz'))) as ValidationError).field).toBe('page_token');
  });
});
