import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type ClientReadableStream } from '@grpc/grpc-js';
import { call, FIELD_KEY, REASON_KEY } from '@stackyard/grpc';
import { connectBus, type Bus } from '@stackyard/nats';
import type { LocalServer } from '@stackyard/devinfra';
import { HostState } from '@stackyard/proto/inventory/v1/inventory';
import { HostChangeType, type ImportKayobeConfigRequest, type UpdateHostRequest, type WatchHostsResponse } from '@stackyard/proto/inventory/v1/inventory_service';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';
import { countBySubject } from './streams';

const WITH_ENV = join(__dirname, '../../services/inventory/test/fixtures/with-env');
const DEV = '/work/shared/reference/kayobe-configs/openstack+kayobe-config-dev/etc/kayobe';

type GrpcError = { code: number; details: string; metadata: { get(k: string): unknown[] } };
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a gRPC error'); }, (e: unknown) => e as GrpcError);
const fieldOf = (e: GrpcError) => e.metadata.get(FIELD_KEY)[0];

/** A WatchHosts stream's messages as they arrive. */
function watcher(stream: ClientReadableStream<WatchHostsResponse>) {
  const got: WatchHostsResponse[] = [];
  let ended: 'end' | Error | undefined;
  stream.on('data', (m: WatchHostsResponse) => got.push(m));
  stream.on('end', () => (ended ??= 'end'));
  stream.on('error', (e: Error) => (ended ??= e));
  return {
    got,
    ended: () => ended,
    until: (n: number, what: string) => eventually(async () => (got.length >= n ? got.slice() : undefined), 15_000, what),
  };
}

// UpdateHost, DeleteHost, ListHosts filters and pages, WatchHosts, GetImport/ListImports and the
// import root, over gRPC on the five services (private NATS, the run's FerretDB, lab drivers).
describe('inventory host API end to end', () => {
  let nats: LocalServer;
  let p: Platform;
  let bus: Bus;
  let root: string;

  const inv = () => p.clients.inventory;
  const getHost = (id: string) => call(inv(), inv().getHost, { id }).then((r) => r.host!);
  const update = (r: Partial<UpdateHostRequest>) =>
    call(inv(), inv().updateHost, { id: '', version: 0, updateMask: [], groups: [], bmc: undefined, labels: {}, hardwareProfile: '', ...r }, { attempts: 1 });
  const list = (r: { siteId?: string; group?: string; labelSelector?: string; state?: HostState; pageSize?: number; pageToken?: string }) =>
    call(inv(), inv().listHosts, { siteId: '', group: '', pageSize: 0, pageToken: '', ...r }, { attempts: 1 });
  const importConfig = (r: Partial<ImportKayobeConfigRequest>) =>
    call(inv(), inv().importKayobeConfig, { configPath: '', environment: '', siteId: '', dryRun: false, requestId: '', registerHosts: false, registerGroups: [], bmcDriver: 'lab', ...r }, { attempts: 1, deadlineMs: 60_000 });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'stackyard-import-root-'));
    await cp(WITH_ENV, join(root, 'with-env'), { recursive: true });
    await symlink(DEV, join(root, 'escape'));
    nats = await privateNats();
    // Lab steps take 300 ms so that an update right after a registration does not race the saga's own writes.
    p = new Platform(nats.url, uniquePrefix('invapi'), { provisioning: { LAB_LATENCY_MS: '300' }, inventory: { INVENTORY_IMPORT_ROOT: root } });
    await p.startAll();
    bus = await connectBus(nats.url, 'invapi-observer');
  });
  afterAll(async () => {
    await bus?.close();
    await p?.stopAll();
    await nats?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('UpdateHost: the masked fields at the given version (HostUpdated); a stale version is ABORTED; bad input names its field', async () => {
    await p.defineSite('up');
    const h = (await p.registerHost('up', 'cmp-01')).host!;
    const u = await update({ id: h.id, version: h.version, updateMask: ['labels'], labels: { rack: 'r7' } });
    expect(u.host).toMatchObject({ version: h.version + 1, labels: { rack: 'r7' } });
    const stale = await failure(update({ id: h.id, version: h.version, updateMask: ['labels'], labels: { rack: 'r8' } }));
    expect(stale.code).toBe(status.ABORTED);
    expect(stale.metadata.get(REASON_KEY)[0]).toBe('ConcurrentModification');
    for (const [req, field] of [
      [{ id: h.id, version: 0, updateMask: ['labels'] }, 'version'],
      [{ id: h.id, version: 9, updateMask: [] }, 'update_mask'],
      [{ id: h.id, version: 9, updateMask: ['name'] }, 'update_mask[0]'],
      [{ id: h.id, version: 9, updateMask: ['labels'], labels: { 'stackyard.io/x': '1' } }, 'labels.stackyard.io/x'],
    ] as const) {
      const e = await failure(update(req as unknown as Partial<UpdateHostRequest>));
      expect([e.code, fieldOf(e)]).toEqual([status.INVALID_ARGUMENT, field]);
    }
    expect((await getHost(h.id)).labels).toEqual({ rack: 'r7' });
    await eventually(async () => ((await countBySubject(bus.jsm, `stackyard.up.inventory.host.${h.id}.updated`))[`stackyard.up.inventory.host.${h.id}.updated`] ? true : undefined), 10_000, 'HostUpdated published');
  });

  it('DeleteHost: FAILED_PRECONDITION while the saga runs; allowed once the host is ready (HostDeleted), then NOT_FOUND', async () => {
    // No networks in this site: the network step fails and the saga stays open (retry or abort).
    await call(inv(), inv().createSite, { id: 'stuck', displayName: '' });
    const stuck = (await p.registerHost('stuck', 'cmp-01')).host!;
    const busy = await failure(call(inv(), inv().deleteHost, { id: stuck.id, version: 0 }, { attempts: 1 }));
    expect(busy.code).toBe(status.FAILED_PRECONDITION);

    await p.defineSite('del');
    const h = (await p.registerHost('del', 'cmp-01')).host!;
    const ready = await eventually(async () => {
      const x = await getHost(h.id);
      return x.state === HostState.HOST_STATE_READY ? x : undefined;
    }, 30_000, 'host ready in the inventory');
    const stale = await failure(call(inv(), inv().deleteHost, { id: h.id, version: 1 }, { attempts: 1 }));
    expect(stale.code).toBe(status.ABORTED);
    const gone = await call(inv(), inv().deleteHost, { id: h.id, version: ready.version }, { attempts: 1 });
    expect(gone.host?.id).toBe(h.id);
    expect((await failure(getHost(h.id))).code).toBe(status.NOT_FOUND);
    expect((await list({ siteId: 'del' })).hosts).toEqual([]);
    await eventually(async () => (Object.keys(await countBySubject(bus.jsm, `stackyard.del.inventory.host.${h.id}.deleted`)).length ? true : undefined), 10_000, 'HostDeleted published');
  });

  it('ListHosts: site, group, label selector and state filters; opaque page tokens bound to the filters', async () => {
    await call(inv(), inv().createSite, { id: 'ls', displayName: '' });
    for (const [name, groups, rack] of [['a1', ['compute'], 'r1'], ['a2', ['compute'], 'r2'], ['a3', ['controllers'], 'r1'], ['a4', ['compute'], 'r1']] as const) {
      await call(inv(), inv().registerHost, { siteId: 'ls', name, groups: [...groups], bmc: { address: `bmc-${name}`, driver: 'lab', credentialRef: `vault:bmc/${name}` }, labels: { rack }, hardwareProfile: '', requestId: '' });
    }
    const ids = (r: { hosts: { id: string }[] }) => r.hosts.map((h) => h.id);
    expect(ids(await list({ siteId: 'ls', labelSelector: 'rack=r1' }))).toEqual(['ls-a1', 'ls-a3', 'ls-a4']);
    expect(ids(await list({ siteId: 'ls', group: 'compute', labelSelector: 'rack=r1' }))).toEqual(['ls-a1', 'ls-a4']);
    expect(ids(await list({ siteId: 'ls', state: HostState.HOST_STATE_RECORDED }))).toEqual([]);
    const p1 = await list({ siteId: 'ls', pageSize: 2 });
    expect(ids(p1)).toEqual(['ls-a1', 'ls-a2']);
    expect(p1.nextPageToken).not.toContain('ls-a2');
    const p2 = await list({ siteId: 'ls', pageSize: 2, pageToken: p1.nextPageToken });
    expect([ids(p2), p2.nextPageToken]).toEqual([['ls-a3', 'ls-a4'], '']);
    expect((await list({ siteId: 'ls', pageSize: 900 })).hosts).toHaveLength(4);
    for (const [req, field] of [
      [{ siteId: 'ls', pageToken: 'ls-a2' }, 'page_token'],
      [{ siteId: 'other', pageSize: 2, pageToken: p1.nextPageToken }, 'page_token'],
      [{ pageSize: -1 }, 'page_size'],
      [{ labelSelector: 'rack' }, 'label_selector'],
      [{ state: HostState.HOST_STATE_DELETED }, 'state'],
    ] as const) {
      const e = await failure(list(req));
      expect([e.code, fieldOf(e)]).toEqual([status.INVALID_ARGUMENT, field]);
    }
  });

  it('WatchHosts: snapshot, SYNCED, live changes; resuming from a revision replays what followed; a cancel ends it', async () => {
    await call(inv(), inv().createSite, { id: 'wt', displayName: '' });
    const first = (await p.registerHost('wt', 'w1')).host!;
    // The registration reaches the stream before the watch starts (the relay publishes at once).
    await eventually(async () => (Object.keys(await countBySubject(bus.jsm, 'stackyard.wt.inventory.host.*.registered')).length ? true : undefined), 10_000, 'registered');
    const s1 = inv().watchHosts({ siteId: 'wt', fromRevision: 0 });
    const w1 = watcher(s1);
    const snap = await w1.until(2, 'snapshot and SYNCED');
    expect(snap.map((m) => [m.type, m.hostId])).toEqual([
      [HostChangeType.HOST_CHANGE_TYPE_SNAPSHOT, 'wt-w1'],
      [HostChangeType.HOST_CHANGE_TYPE_SYNCED, ''],
    ]);
    const synced = snap[1]!.revision;
    expect(synced).toBeGreaterThan(0);

    // The host's saga writes it too (hardware recorded, ready): re-read the version on ABORTED, as a client would.
    const u = await (async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await update({ id: first.id, version: (await getHost(first.id)).version, updateMask: ['labels'], labels: { team: 'x' } });
        } catch (e) {
          if ((e as { code?: number }).code !== status.ABORTED || attempt >= 10) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();
    await call(inv(), inv().createSite, { id: 'wt2', displayName: '' }); // another site's hosts are not sent
    await p.registerHost('wt2', 'w9');
    const changes = await eventually(async () => (w1.got.some((m) => m.type === HostChangeType.HOST_CHANGE_TYPE_UPDATED && m.host?.version === u.host?.version) ? w1.got.slice(2) : undefined), 15_000, 'UPDATED');
    expect(changes.every((m) => m.hostId === 'wt-w1' && m.revision > synced)).toBe(true);
    const updated = changes.find((m) => m.type === HostChangeType.HOST_CHANGE_TYPE_UPDATED && m.changedFields.includes('labels'))!;
    expect(updated.host?.labels).toEqual({ team: 'x' });
    expect(updated.eventType).toBe('stackyard.inventory.v1.HostUpdated');
    s1.cancel();
    await eventually(async () => (w1.ended() ? true : undefined), 5_000, 'cancelled stream ended');

    // Resume from SYNCED's revision: the same changes again, no snapshot.
    const w2 = watcher(inv().watchHosts({ siteId: 'wt', fromRevision: synced }));
    const replay = await w2.until(changes.length, 'replay');
    expect(replay.slice(0, changes.length).map((m) => [m.revision, m.type])).toEqual(changes.map((m) => [m.revision, m.type]));

    const bad = watcher(inv().watchHosts({ siteId: 'wt', fromRevision: -1 }));
    await eventually(async () => (bad.ended() ? true : undefined), 5_000, 'rejected');
    expect((bad.ended() as unknown as GrpcError).code).toBe(status.INVALID_ARGUMENT);
    expect(fieldOf(bad.ended() as unknown as GrpcError)).toBe('from_revision');
  });

  it('imports are records: GetImport, ListImports, ImportCompleted; config_path is confined to INVENTORY_IMPORT_ROOT', async () => {
    const r = await importConfig({ siteId: 'imp', configPath: join(root, 'with-env'), environment: 'prod', requestId: 'one' });
    expect(r.hosts.every((h) => h.change === 'added')).toBe(true);
    const got = await call(inv(), inv().getImport, { importId: 'imp-one' });
    expect(got.import).toMatchObject({ importId: 'imp-one', siteId: 'imp', state: 'materialized', hostsCount: r.hosts.length, hostsAdded: r.hosts.length, environment: 'prod' });
    expect(got.hosts.map((h) => h.name)).toEqual(r.hosts.map((h) => h.name));
    const listed = await call(inv(), inv().listImports, { siteId: 'imp', pageSize: 0, pageToken: '' });
    expect(listed.imports.map((i) => i.importId)).toEqual(['imp-one']);
    expect((await failure(call(inv(), inv().getImport, { importId: 'imp-none' }, { attempts: 1 }))).code).toBe(status.NOT_FOUND);
    await eventually(async () => ((await countBySubject(bus.jsm, 'stackyard.imp.inventory.import.imp-one.completed'))['stackyard.imp.inventory.import.imp-one.completed'] === 1 ? true : undefined), 10_000, 'ImportCompleted');

    for (const path of [DEV, join(root, 'escape'), `${root}/with-env/../../etc`, '/etc']) {
      const e = await failure(importConfig({ siteId: 'imp', configPath: path }));
      expect([e.code, fieldOf(e)], path).toEqual([status.INVALID_ARGUMENT, 'config_path']);
    }
    expect((await call(inv(), inv().listImports, { siteId: 'imp', pageSize: 0, pageToken: '' })).imports).toHaveLength(1);
  });

  it('a stopping service ends open watches cleanly', async () => {
    const w = watcher(inv().watchHosts({ siteId: 'wt', fromRevision: 0 }));
    await w.until(2, 'snapshot');
    await p.stop('inventory');
    await eventually(async () => (w.ended() ? true : undefined), 10_000, 'stream ended by shutdown');
    expect(w.ended()).toBe('end');
  });
});
