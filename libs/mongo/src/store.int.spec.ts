import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlreadyExistsError, ConcurrencyError } from '@stackyard/errors';
import { Events, newEvent } from '@stackyard/events';
import { mongoUrl, uniquePrefix } from '@stackyard/testing';
import { connectMongo, type MongoConnection } from './client';
import { OutboxRelay } from './relay';
import { AggregateStore, inboxKey } from './store';

// Runs against the real MongoDB-wire server of the test run (FerretDB on SQLite, or MONGO_URL).
type Thing = { name: string; n: number };

const registered = (id: string) =>
  newEvent({
    type: Events.HostRegistered,
    site: 'dc1',
    entityId: id,
    service: 'inventory',
    data: { host: { id, siteId: 'dc1', name: id, groups: ['compute'], bmc: undefined, labels: {}, hardwareProfile: '', hardware: undefined, version: 0 } },
  });

describe('AggregateStore on a MongoDB-wire server', () => {
  let conn: MongoConnection;
  let store: AggregateStore<Thing>;
  let writes = 0;

  beforeAll(async () => {
    conn = await connectMongo(mongoUrl());
    store = new AggregateStore<Thing>(conn.db(uniquePrefix('store')), 'things', 'thing', () => writes++);
    await store.ensureIndexes();
  });
  afterAll(async () => conn.close());

  it('creates at version 1 and reads back exactly what was written', async () => {
    await store.create('a1', { name: 'a', n: 1 });
    expect(await store.get('a1')).toEqual({ id: 'a1', version: 1, data: { name: 'a', n: 1 } });
    expect(await store.get('missing')).toBeNull();
  });

  it('rejects a second create of the same id with AlreadyExists', async () => {
    await store.create('a2', { name: 'a', n: 1 });
    await expect(store.create('a2', { name: 'b', n: 2 })).rejects.toBeInstanceOf(AlreadyExistsError);
    expect((await store.get('a2'))?.data.name).toBe('a');
  });

  it('updates only at the expected version; a stale version is a ConcurrencyError and changes nothing', async () => {
    await store.create('a3', { name: 'a', n: 1 });
    expect(await store.update('a3', 1, { name: 'a', n: 2 })).toEqual({ outcome: 'written', version: 2 });
    await expect(store.update('a3', 1, { name: 'x', n: 99 })).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await store.get('a3')).toEqual({ id: 'a3', version: 2, data: { name: 'a', n: 2 } });
  });

  it('lets exactly one of many concurrent writers at the same version win (atomic on FerretDB too)', async () => {
    await store.create('a4', { name: 'a', n: 0 });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.update('a4', 1, { name: 'w', n: i })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof ConcurrencyError)).toHaveLength(9);
    expect((await store.get('a4'))?.version).toBe(2);
  });

  it('applies a consumed event once: the same inbox key a second time is a duplicate with no effect', async () => {
    await store.create('a5', { name: 'a', n: 0 });
    const key = inboxKey('c1', 'evt-1');
    expect(await store.update('a5', 1, { name: 'a', n: 1 }, { appliedKey: key })).toEqual({ outcome: 'written', version: 2 });
    expect(await store.update('a5', 2, { name: 'a', n: 2 }, { appliedKey: key })).toEqual({ outcome: 'duplicate' });
    expect(await store.get('a5')).toEqual({ id: 'a5', version: 2, data: { name: 'a', n: 1 } });
    expect(await store.wasApplied('a5', key)).toBe(true);
    // Another consumer may apply the same event.
    expect(await store.update('a5', 2, { name: 'a', n: 3 }, { appliedKey: inboxKey('c2', 'evt-1') })).toEqual({ outcome: 'written', version: 3 });
  });

  it('reads the newest revision when a crash left the previous one flagged current too', async () => {
    await store.create('h1', { name: 'h', n: 1 });
    await store.update('h1', 1, { name: 'h', n: 2 });
    await store.update('h1', 2, { name: 'h', n: 3 });
    // As if the process died between inserting h1@3 and clearing h1@2.
    await store.collection.updateOne({ _id: 'h1@2' } as never, { $set: { latest: true, cur: 'h1' } });
    expect(await store.get('h1')).toEqual({ id: 'h1', version: 3, data: { name: 'h', n: 3 } });
    expect((await store.find({ 'data.name': 'h' })).map((r) => r.version)).toEqual([3]);
    await expect(store.update('h1', 2, { name: 'stale', n: 0 })).rejects.toBeInstanceOf(ConcurrencyError);
  });

  it('clears, in repairLatest, a superseded revision a crash left flagged, so listings stop returning it', async () => {
    await store.create('k1', { name: 'before-crash', n: 1 });
    await store.update('k1', 1, { name: 'after-crash', n: 2 });
    await store.collection.updateOne({ _id: 'k1@1' } as never, { $set: { latest: true, cur: 'k1' } });
    // Only the superseded revision matches: a listing returns it until the repair.
    expect((await store.find({ 'data.name': 'before-crash' })).map((r) => r.version)).toEqual([1]);
    expect(await store.repairLatest()).toBeGreaterThanOrEqual(1);
    expect(await store.find({ 'data.name': 'before-crash' })).toEqual([]);
    expect((await store.find({ 'data.name': 'after-crash' })).map((r) => r.version)).toEqual([2]);
    expect(await store.collection.findOne({ _id: 'k1@1' } as never)).not.toHaveProperty('cur');
  });

  it('finds an aggregate whose revisions were written without cur (an older store), and sets it', async () => {
    // A store started on a collection that already had revisions looks for such aggregates.
    const upgraded = new AggregateStore<Thing>(conn.db(store.collection.dbName), 'things', 'thing');
    await upgraded.ensureIndexes();
    const col = upgraded.collection;
    const old = (v: number, latest: boolean) => ({ _id: `o1@${v}`, aggId: 'o1', version: v, data: { name: 'o', n: v }, latest, outbox: [], outboxDone: true, appliedKey: `o1@${v}`, updatedAt: new Date() });
    await col.insertMany([old(1, false), old(2, false), old(3, true)] as never);
    expect(await upgraded.get('o1')).toEqual({ id: 'o1', version: 3, data: { name: 'o', n: 3 } });
    expect(await col.findOne({ _id: 'o1@3' } as never)).toMatchObject({ cur: 'o1' });
    await upgraded.update('o1', 3, { name: 'o', n: 4 });
    expect(await upgraded.get('o1')).toEqual({ id: 'o1', version: 4, data: { name: 'o', n: 4 } });
    expect(await col.findOne({ _id: 'o1@3' } as never)).not.toHaveProperty('cur');
    // The start-up back-fill sets it on every latest revision lacking it.
    await col.insertOne({ ...old(1, true), _id: 'o2@1', aggId: 'o2', appliedKey: 'o2@1' } as never);
    expect(await upgraded.backfillCurrent()).toBe(1);
    expect(await col.findOne({ _id: 'o2@1' } as never)).toMatchObject({ cur: 'o2' });
  });

  it('does not look for aggregates without cur in a collection that was empty at start, until a repair back-fills them', async () => {
    const fresh = new AggregateStore<Thing>(conn.db(uniquePrefix('store_fresh')), 'things', 'thing');
    await fresh.ensureIndexes();
    expect(await fresh.get('nothing')).toBeNull();
    await fresh.collection.insertOne({ _id: 'q1@1', aggId: 'q1', version: 1, data: { name: 'q', n: 1 }, latest: true, outbox: [], outboxDone: true, appliedKey: 'q1@1', updatedAt: new Date() } as never);
    expect(await fresh.get('q1')).toBeNull();
    expect(await fresh.repairLatest()).toBe(1);
    expect(await fresh.get('q1')).toEqual({ id: 'q1', version: 1, data: { name: 'q', n: 1 } });
  });

  it('recovers on a version conflict when a writer without cur (an older store) wrote past the current revision', async () => {
    await store.create('r1', { name: 'r', n: 1 });
    await store.update('r1', 1, { name: 'r', n: 2 });
    // An older store writes r1@3 without cur and clears only latest on r1@2.
    await store.collection.insertOne({ _id: 'r1@3', aggId: 'r1', version: 3, data: { name: 'r', n: 3 }, latest: true, outbox: [], outboxDone: true, appliedKey: 'r1@3', updatedAt: new Date() } as never);
    await store.collection.updateOne({ _id: 'r1@2' } as never, { $set: { latest: false } });
    expect((await store.get('r1'))?.version).toBe(2);
    await expect(store.update('r1', 2, { name: 'r', n: 9 })).rejects.toBeInstanceOf(ConcurrencyError);
    // The retry reads the newest revision and succeeds.
    expect(await store.get('r1')).toEqual({ id: 'r1', version: 3, data: { name: 'r', n: 3 } });
    expect(await store.update('r1', 3, { name: 'r', n: 4 })).toEqual({ outcome: 'written', version: 4 });
    expect((await store.collection.find({ cur: 'r1' } as never).toArray()).map((d) => d._id)).toEqual(['r1@4']);
  });

  it('reads what another process wrote after this one last read or wrote the aggregate', async () => {
    const other = new AggregateStore<Thing>(conn.db(store.collection.dbName), 'things', 'thing');
    await store.create('p1', { name: 'p', n: 1 });
    expect((await other.get('p1'))?.version).toBe(1);
    await other.update('p1', 1, { name: 'p', n: 2 });
    await other.update('p1', 2, { name: 'p', n: 3 });
    expect(await store.get('p1')).toEqual({ id: 'p1', version: 3, data: { name: 'p', n: 3 } });
    await store.update('p1', 3, { name: 'p', n: 4 });
    expect(await other.get('p1')).toEqual({ id: 'p1', version: 4, data: { name: 'p', n: 4 } });
    await expect(other.update('p1', 3, { name: 'stale', n: 0 })).rejects.toBeInstanceOf(ConcurrencyError);
  });

  describe('cached reads (cacheLatest)', () => {
    const cachingStore = (max: number) => new AggregateStore<Thing & { at?: Date; gone?: string }>(conn.db(store.collection.dbName), 'things', 'thing', () => undefined, { cacheLatest: max });

    it('answers get(id, { cached }) from what this process wrote, as a fresh copy equal to what a query returns', async () => {
      const cache = cachingStore(10);
      const at = new Date('2026-11-26T05:00:00Z');
      await cache.create('c1', { name: 'c', n: 1, at, gone: undefined });
      await store.collection.deleteMany({ aggId: 'c1' }); // behind its back: only memory can answer now
      const hit = await cache.get('c1', { cached: true });
      expect(hit).toEqual({ id: 'c1', version: 1, data: { name: 'c', n: 1, at } });
      expect('gone' in hit!.data).toBe(false); // undefined is dropped, as in a stored revision
      hit!.data.n = 99;
      expect((await cache.get('c1', { cached: true }))?.data.n).toBe(1);
      expect(await cache.get('c1')).toBeNull(); // an uncached get always asks the database
    });

    it('a stale cached revision makes the write that follows conflict, and the retry reads afresh', async () => {
      const cache = cachingStore(10);
      await cache.create('c2', { name: 'c', n: 1 });
      await store.update('c2', 1, { name: 'other process', n: 2 });
      const stale = await cache.get('c2', { cached: true });
      expect(stale?.version).toBe(1);
      await expect(cache.update('c2', stale!.version, { name: 'stale', n: 0 })).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await cache.get('c2', { cached: true })).toEqual({ id: 'c2', version: 2, data: { name: 'other process', n: 2 } });
      expect(await store.get('c2')).toEqual({ id: 'c2', version: 2, data: { name: 'other process', n: 2 } });
    });

    it('forgets the least recently used aggregates beyond its size, and caches nothing without the option', async () => {
      const cache = cachingStore(2);
      for (const id of ['c3', 'c4', 'c5']) await cache.create(id, { name: id, n: 1 });
      await store.update('c3', 1, { name: 'newer', n: 2 });
      await store.update('c5', 1, { name: 'newer', n: 2 });
      expect((await cache.get('c3', { cached: true }))?.version).toBe(2); // evicted: read from the database
      expect((await cache.get('c5', { cached: true }))?.version).toBe(1); // still remembered
      const none = cachingStore(0);
      await none.create('c6', { name: 'c', n: 1 });
      await store.update('c6', 1, { name: 'x', n: 2 });
      expect((await none.get('c6', { cached: true }))?.version).toBe(2);
    });
  });

  it('lists only the newest revision of each aggregate', async () => {
    await store.create('l1', { name: 'list', n: 1 });
    await store.update('l1', 1, { name: 'list', n: 2 });
    await store.create('l2', { name: 'list', n: 1 });
    await store.update('l2', 1, { name: 'other', n: 2 });
    const rows = await store.find({ 'data.name': 'list' });
    expect(rows.map((r) => [r.id, r.version, r.data.n])).toEqual([['l1', 2, 2]]);
  });

  it('copies indexFields to top-level keys of every revision, indexes them, and lists by them', async () => {
    const db = conn.db(uniquePrefix('store_fields'));
    const s = new AggregateStore<Thing>(db, 'things', 'thing', undefined, { indexFields: { tag: (d) => d.name } });
    await s.ensureIndexes();
    expect((await s.collection.indexes()).map((i) => i.name)).toContain('idx_tag');
    await s.create('f1', { name: 'x', n: 1 });
    await s.update('f1', 1, { name: 'x', n: 2 });
    await s.create('f2', { name: 'x', n: 1 });
    await s.update('f2', 1, { name: 'y', n: 2 });
    expect((await s.find({ tag: 'x' })).map((r) => [r.id, r.version, r.data.n])).toEqual([['f1', 2, 2]]);
    expect((await s.find({ tag: 'y' })).map((r) => r.id)).toEqual(['f2']);
    expect(await s.collection.findOne({ _id: 'f2@1' } as never)).toMatchObject({ tag: 'x', data: { name: 'x' } });
    // The data read back is unchanged (the copies are not part of it).
    expect(await s.get('f1')).toEqual({ id: 'f1', version: 2, data: { name: 'x', n: 2 } });
    expect(() => new AggregateStore<Thing>(db, 'bad', 'thing', undefined, { indexFields: { latest: () => true } })).toThrow(/latest/);
  });

  it('reads what changed since a time by write-time buckets (changeBucketMs): newest revision per aggregate, oldest write first', async () => {
    const db = conn.db(uniquePrefix('store_changes'));
    const s = new AggregateStore<Thing>(db, 'things', 'thing', undefined, { indexFields: { tag: (d) => d.name }, changeBucketMs: 1000 });
    // Waits for the next bucket to begin (the bucket queries cover up to CHANGE_BUCKETS_MAX = 8 s back).
    const nextBucket = () => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
    await s.ensureIndexes();
    expect((await s.collection.indexes()).map((i) => i.name)).toContain('changed');
    await s.create('old', { name: 'x', n: 1 });
    await nextBucket();
    const since = new Date();
    await s.create('k1', { name: 'x', n: 1 });
    await nextBucket(); // k2 and k1@2 in a later bucket than k1@1
    await s.create('k2', { name: 'x', n: 1 });
    await s.update('k1', 1, { name: 'x', n: 2 });
    await s.create('k3', { name: 'y', n: 1 });
    expect((await s.changedSince({ tag: 'x' }, since)).map((r) => [r.id, r.version])).toEqual([['k2', 1], ['k1', 2]]);
    const k1 = (await s.collection.findOne({ _id: 'k1@1' } as never))!;
    expect(k1.tick).toBe(Math.floor(k1.updatedAt.getTime() / 1000));
    expect((await s.collection.findOne({ _id: 'k1@2' } as never))!.tick).toBeGreaterThan(k1.tick!);
    // Further back than CHANGE_BUCKETS_MAX buckets: the plain query, which also finds revisions
    // without a bucket (an older store's); the bucket queries do not.
    await s.collection.updateOne({ _id: 'k3@1' } as never, { $unset: { tick: '' } });
    expect(await s.changedSince({ tag: 'y' }, since)).toEqual([]);
    expect((await s.changedSince({ tag: 'y' }, new Date(0))).map((r) => r.id)).toEqual(['k3']);
    expect((await s.changedSince({ tag: 'x' }, new Date(0))).map((r) => [r.id, r.version])).toEqual([['old', 1], ['k2', 1], ['k1', 2]]);
    // A store without buckets answers with the plain query.
    const plain = new AggregateStore<Thing>(db, 'things', 'thing', undefined, { indexFields: { tag: (d) => d.name } });
    expect((await plain.changedSince({ tag: 'x' }, since)).map((r) => r.id)).toEqual(['k2', 'k1']);
    for (const bad of [0, -1, 1.5]) {
      expect(() => new AggregateStore<Thing>(db, 'bad', 'thing', undefined, { changeBucketMs: bad })).toThrow(/changeBucketMs must be a positive whole number/);
    }
    expect(() => new AggregateStore<Thing>(db, 'bad', 'thing', undefined, { indexFields: { tick: () => 1 } })).toThrow(/tick cannot be an index field/);
  });

  it('back-fills index fields on latest revisions written before the store had them', async () => {
    const db = conn.db(uniquePrefix('store_backfill'));
    const before = new AggregateStore<Thing>(db, 'things', 'thing');
    await before.ensureIndexes();
    await before.create('b1', { name: 'x', n: 1 });
    await before.update('b1', 1, { name: 'x', n: 2 });
    await before.create('b2', { name: 'y', n: 1 });
    const after = new AggregateStore<Thing>(db, 'things', 'thing', undefined, { indexFields: { tag: (d) => d.name } });
    await after.ensureIndexes();
    expect((await after.find({ tag: 'x' })).map((r) => [r.id, r.version])).toEqual([['b1', 2]]);
    expect((await after.find({ tag: 'y' })).map((r) => r.id)).toEqual(['b2']);
    // Older revisions are never listed and are left as they were; a second start has nothing to do.
    expect(await after.collection.findOne({ _id: 'b1@1' } as never)).not.toHaveProperty('tag');
    expect(await after.backfillIndexFields()).toBe(0);
  });

  it('lets exactly one of many concurrent consumers of the same event apply it', async () => {
    await store.create('c1', { name: 'a', n: 0 });
    const key = inboxKey('c', 'evt-same');
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => store.update('c1', 1, { name: 'a', n: 1 }, { appliedKey: key })));
    const written = results.filter((r) => r.status === 'fulfilled' && r.value.outcome === 'written');
    expect(written).toHaveLength(1);
    expect((await store.get('c1'))?.version).toBe(2);
  });

  it('turns a lost create race between two event handlers into a ConcurrencyError (retried), not AlreadyExists', async () => {
    const results = await Promise.allSettled(
      ['e1', 'e2', 'e3', 'e4'].map((e) => store.create('race1', { name: e, n: 0 }, { appliedKey: inboxKey(`consumer-${e}`, e) })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConcurrencyError);
    // Without an inbox key (an API create), it is still AlreadyExists.
    await expect(store.create('race1', { name: 'api', n: 0 })).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  it('treats a create replayed with the same inbox key as a duplicate', async () => {
    const key = inboxKey('c1', 'evt-2');
    await store.create('a6', { name: 'a', n: 0 }, { appliedKey: key });
    expect(await store.create('a6', { name: 'a', n: 0 }, { appliedKey: key })).toEqual({ outcome: 'duplicate' });
  });

  it('writes events into the outbox with the state change, and the relay publishes each once, in order', async () => {
    const before = writes;
    const e1 = registered('a7');
    await store.create('a7', { name: 'a', n: 0 }, { events: [e1] });
    const e2 = registered('a7');
    const e3 = registered('a7');
    await store.update('a7', 1, { name: 'a', n: 1 }, { events: [e2, e3] });
    expect(writes).toBe(before + 2);
    const pending = (await store.pending(100)).filter((d) => d.aggId === 'a7');
    expect(pending.map((d) => [d.version, d.outbox.map((o) => o.id)])).toEqual([
      [1, [e1.id]],
      [2, [e2.id, e3.id]],
    ]);

    const published: string[] = [];
    const relay = new OutboxRelay(async (e) => {
      if (e.subject.includes('.a7.')) published.push(e.id);
      expect(e.headers['ce-type']).toBe('stackyard.inventory.v1.HostRegistered');
      expect(Events.HostRegistered.codec.decode(e.payload).host?.id).toBe('a7');
    }, { warn: () => undefined });
    relay.add(store as never);
    await relay.flush(true);
    expect(published).toEqual([e1.id, e2.id, e3.id]);
    expect((await store.pending(100)).find((d) => d.aggId === 'a7')).toBeUndefined();
    await relay.flush(true);
    expect(published).toHaveLength(3);
  });

  it('marks a published revision in the next write\'s update, or after the delay, or when the relay stops', async () => {
    const outboxDone = async (rid: string) => ((await store.collection.findOne({ _id: rid } as never)) as { outboxDone: boolean } | null)?.outboxDone;
    const relay = new OutboxRelay(async () => undefined, { warn: () => undefined }, 1000, 200, 30_000, 60_000);
    relay.add(store as never);
    await store.create('m1', { name: 'm', n: 0 }, { events: [registered('m1')] });
    await store.create('m2', { name: 'm', n: 0 }, { events: [registered('m2')] });
    await relay.flush();
    // Published, not marked yet, and not published again by a scan of this process.
    expect(await outboxDone('m1@1')).toBe(false);
    expect((await store.pending(100)).map((d) => d._id)).not.toContain('m1@1');
    // The next revision's write marks it in the update that clears latest.
    await store.update('m1', 1, { name: 'm', n: 1 });
    expect(await outboxDone('m1@1')).toBe(true);
    expect(await outboxDone('m2@1')).toBe(false);
    // Another process's scan still sees m2@1 as unpublished (it republishes it after a crash).
    expect((await new AggregateStore<Thing>(conn.db(store.collection.dbName), 'things', 'thing').pending(1000)).map((d) => d._id)).toContain('m2@1');
    await relay.stop();
    expect(await outboxDone('m2@1')).toBe(true);
    expect(await store.markPublishedBefore(0)).toBe(0);
  });

  it('goes on scanning while a scan finds a full batch: what a killed process left is published at once, not one batch per scan interval', async () => {
    const db = conn.db(uniquePrefix('relay_scan'));
    const crashed = new AggregateStore<Thing>(db, 'things', 'thing'); // wrote, never published
    await crashed.ensureIndexes();
    const ids = ['s1', 's2', 's3', 's4', 's5'];
    for (const id of ids) await crashed.create(id, { name: id, n: 0 }, { events: [registered(id)] });
    const restarted = new AggregateStore<Thing>(db, 'things', 'thing');
    const published = new Set<string>();
    const relay = new OutboxRelay(async (e) => void published.add(e.subject.split('.')[4]!), { warn: () => undefined }, 1000, 2, 30_000, 60_000);
    relay.add(restarted as never);
    relay.start();
    try {
      const deadline = Date.now() + 5000; // far less than the 30 s scan interval
      while (published.size < ids.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect([...published].sort()).toEqual(ids);
    } finally {
      await relay.stop();
    }
    expect(await restarted.pending(10)).toEqual([]);
  });

  it('keeps an event in the outbox when publishing fails, and publishes it on the next flush', async () => {
    const e = registered('a8');
    await store.create('a8', { name: 'a', n: 0 }, { events: [e] });
    let fail = true;
    const published: string[] = [];
    const relay = new OutboxRelay(async (w) => {
      if (!w.subject.includes('.a8.')) return;
      if (fail) throw new Error('NATS is down');
      published.push(w.id);
    }, { warn: () => undefined });
    relay.add(store as never);
    await expect(relay.flush(true)).rejects.toThrow('NATS is down');
    expect((await store.pending(100)).some((d) => d.aggId === 'a8')).toBe(true);
    fail = false;
    await relay.flush(true);
    expect(published).toEqual([e.id]);
  });
});
