import { Binary, BSON, type Collection, type Db, type Document, type Filter } from 'mongodb';
import { AlreadyExistsError, ConcurrencyError, ValidationError } from '@stackyard/errors';
import { toWire, type Envelope, type WireEvent } from '@stackyard/events';
import { injectTraceHeaders, withDbSpan } from '@stackyard/telemetry';
import { isDuplicateKey } from './client';

/** An event waiting in a revision's outbox until the relay has published it. */
export interface OutboxEntry {
  readonly id: string;
  readonly seq: number;
  readonly subject: string;
  readonly headers: Record<string, string>;
  readonly payload: Binary;
}

/**
 * One revision of an aggregate (docs/adr/0003). Every write inserts the next revision; the unique
 * `_id` (`<id>@<version>`) makes the optimistic version check atomic on any MongoDB-wire server,
 * including FerretDB, whose conditional updates are not atomic. The events the write emits and the
 * consumed event's inbox key travel in the same document, so they cannot diverge from the state.
 */
export interface RevisionDoc<T> {
  _id: string;
  aggId: string;
  version: number;
  data: T;
  /** True on the newest revision (best effort; reads also check versions). */
  latest: boolean;
  /**
   * The aggregate id while this is the newest revision, removed (with `latest`) when the next one is
   * written: `get` is one equality lookup on it, which FerretDB pushes down to an index. Absent on
   * revisions written before it existed (back-filled at start, and found by `get` anyway).
   */
  cur?: string;
  /** `floor(updatedAt / changeBucketMs)` when the store has `changeBucketMs` (see `changedSince`). */
  tick?: number;
  outbox: OutboxEntry[];
  outboxDone: boolean;
  /** Inbox: `<aggId>|<consumer>~<ce-id>` of the consumed event, or `<_id>` when none (unique). */
  appliedKey: string;
  updatedAt: Date;
}

/** Kept for callers that name the stored shape. */
export type AggregateDoc<T> = RevisionDoc<T>;

export interface Versioned<T> {
  readonly id: string;
  readonly version: number;
  readonly data: T;
}

/** What a write records besides the new state: events to publish and the event that caused it. */
export interface WriteOptions {
  readonly events?: readonly Envelope[];
  /** Inbox key of the consumed event (see `inboxKey`); the write is a duplicate if it was applied before. */
  readonly appliedKey?: string;
}

export type WriteResult = { readonly outcome: 'written'; readonly version: number } | { readonly outcome: 'duplicate' };

export function inboxKey(consumer: string, eventId: string): string {
  return `${consumer}~${eventId}`;
}

function outboxOf(events: readonly Envelope[]): OutboxEntry[] {
  return events.map((e, i) => {
    const w: WireEvent = toWire(e);
    return { id: e.id, seq: i, subject: w.subject, headers: injectTraceHeaders({ ...w.headers }), payload: new Binary(w.payload) };
  });
}

const revId = (id: string, version: number) => `${id}@${version}`;

/**
 * `batchSize` for listings read whole (`toArray`): every document in the first reply, so no cursor
 * stays open between batches. FerretDB on PostgreSQL holds a pool connection per open cursor;
 * dozens of concurrent multi-batch listings took every connection of its pool (50) and hung every
 * service (bench/saga.ts at 1,000 nodes, docs/performance.md).
 */
export const LISTING_BATCH = 100_000;

/** How long after start aggregates written without `cur` are still looked for (see `legacyFallback`). */
const LEGACY_WINDOW_MS = 5 * 60_000;

/** Whether an id can be stored at all: non-empty, at most 512 characters, no NUL. */
export function isStorableId(id: string): boolean {
  return id.length > 0 && id.length <= 512 && !id.includes('\u0000');
}

/** Aggregate persistence: optimistic versions, outbox and inbox, with inserts only on the write path. */
/** A revision just written, handed to the relay so it can publish without querying. */
export interface WrittenRevision {
  readonly _id: string;
  readonly outbox: readonly OutboxEntry[];
}

/**
 * Options of an `AggregateStore`. `indexFields` copies chosen values of the data to top-level keys of
 * every revision written (e.g. `{ site: (d) => d.host.siteId }`), each indexed with `latest`
 * (`idx_<key>`): FerretDB 1.24 pushes only top-level equality filters down to PostgreSQL, and
 * evaluates filters on nested fields (`data.host.siteId`) in Go after fetching every document.
 * Filter on the key itself (`find({ site })`). Revisions written before a key was added get it
 * back-filled at start (`ensureIndexes`).
 */
export interface StoreOptions<T> {
  readonly indexFields?: Readonly<Record<string, (data: T) => string | number | boolean | undefined>>;
  /** Where the store reports what it recovers from by itself (`startService` passes the service's logger). */
  readonly log?: { warn(obj: object, msg: string): void };
  /**
   * How many aggregates' latest revisions (as this process last wrote or read them) `get(id,
   * { cached: true })` may answer from memory instead of a query (least recently used first out).
   * A cached revision can be stale only if another process wrote the aggregate since; the write
   * that follows then conflicts (its revision id exists) and the caller's retry reads afresh. So
   * ask for cached reads only where the write is the step's only effect (projections): a step
   * that calls out (a driver, another system) would act on stale state before the conflict. And a
   * decision not to write (ignore an event, not found) taken on a cached read is not confirmed by
   * anything: take it on a fresh read.
   */
  readonly cacheLatest?: number;
  /**
   * Width (ms) of the write-time buckets `changedSince` reads by: every revision then carries
   * `tick: floor(updatedAt / changeBucketMs)`, indexed with `latest` (`changed`). FerretDB 1.24
   * pushes top-level equality down to PostgreSQL but evaluates a range on `updatedAt` in Go, over
   * every row the rest of the filter matches: "changed since" read a whole site each time. With
   * buckets it is one equality query per bucket, and costs what changed.
   */
  readonly changeBucketMs?: number;
}

/** `changedSince` reads by bucket up to this many buckets back; further back it runs the plain query. */
const CHANGE_BUCKETS_MAX = 8;

/**
 * The `site` index field of aggregates that carry their site id (`data.siteId`) or their host's
 * (`data.host.siteId`): site listings filter on `{ site }`, which FerretDB pushes down.
 */
export const SITE_KEY: StoreOptions<{ siteId?: string }> = { indexFields: { site: (d) => d.siteId } };
export const HOST_SITE_KEY: StoreOptions<{ host?: { siteId?: string } }> = { indexFields: { site: (d) => d.host?.siteId } };

/** Top-level keys of a revision that `indexFields` may not use. */
const RESERVED_KEYS = new Set(['_id', 'aggId', 'version', 'data', 'latest', 'cur', 'outbox', 'outboxDone', 'appliedKey', 'updatedAt', 'tick']);

export class AggregateStore<T extends Document> {
  readonly collection: Collection<RevisionDoc<T>>;
  /**
   * Revisions whose outbox the relay has published but whose `outboxDone` is not written yet, with
   * when they were published: the next revision's write sets it in the update that clears
   * `latest` (one row rewrite instead of two), and the relay marks what is left after a delay.
   */
  private readonly unmarked = new Map<string, number>();
  /**
   * Whether `get` looks for an aggregate without `cur` (written by an older store) when no revision
   * carries it: on unless the collection was empty at start, off once `repairLatest` finds none
   * `LEGACY_WINDOW_MS` after start (old replicas of a rolling upgrade are gone by then).
   */
  private legacyFallback = true;
  private startedAt = Date.now();
  /** Superseded revisions this process failed to clear `latest` on (retried by `repairLatest`). */
  private readonly staleLatest = new Set<string>();
  /** Latest revisions this process wrote or read, as BSON (see `StoreOptions.cacheLatest`), oldest use first. */
  private readonly recent = new Map<string, { version: number; bson: Uint8Array }>();

  constructor(
    db: Db,
    name: string,
    private readonly kind: string,
    private readonly onWrite: (rev: WrittenRevision) => void = () => undefined,
    private readonly options: StoreOptions<T> = {},
  ) {
    for (const k of Object.keys(options.indexFields ?? {})) {
      if (RESERVED_KEYS.has(k) || k.startsWith('$') || k.includes('.')) throw new Error(`${name}: ${k} cannot be an index field`);
    }
    const b = options.changeBucketMs;
    if (b !== undefined && !(Number.isInteger(b) && b > 0)) throw new Error(`${name}: changeBucketMs must be a positive whole number of milliseconds, got ${b}`);
    this.collection = db.collection<RevisionDoc<T>>(name);
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ aggId: 1, version: -1 }, { name: 'agg_version', unique: true });
    await this.collection.createIndex({ appliedKey: 1 }, { unique: true, name: 'inbox_unique' });
    await this.collection.createIndex({ outboxDone: 1 }, { name: 'outbox_pending' });
    await this.collection.createIndex({ latest: 1, updatedAt: 1 }, { name: 'latest_updated' });
    await this.collection.createIndex({ cur: 1 }, { name: 'current' });
    if (this.options.changeBucketMs) await this.collection.createIndex({ tick: 1, latest: 1 } as never, { name: 'changed' });
    // A collection with no revisions yet was never written by a store without `cur`: `get` needs no
    // fallback for such aggregates (a miss is then one lookup instead of two).
    const empty = (await this.collection.findOne({}, { projection: { _id: 1 } })) === null;
    this.legacyFallback = !empty;
    this.startedAt = Date.now();
    await this.backfillCurrent();
    for (const k of Object.keys(this.options.indexFields ?? {})) {
      await this.collection.createIndex({ [k]: 1, latest: 1 } as never, { name: `idx_${k}` });
    }
    await this.backfillIndexFields();
  }

  /**
   * Sets `cur` on revisions flagged latest that lack it (written before `cur` existed), so `get`
   * finds them with one lookup. Returns how many were set.
   */
  backfillCurrent(): Promise<number> {
    return this.backfill('cur', (doc) => doc.aggId);
  }

  /**
   * Sets the `indexFields` keys on revisions flagged latest that lack one (written before the store
   * had that field), so listings that filter on the key still return them after an upgrade. Only
   * latest revisions matter to `find`; older ones are never listed. Returns how many were set.
   * A fresh or already back-filled collection costs one query per field.
   */
  async backfillIndexFields(): Promise<number> {
    let n = 0;
    for (const [k, f] of Object.entries(this.options.indexFields ?? {})) n += await this.backfill(k, (doc) => f(doc.data));
    return n;
  }

  /** Sets top-level `key` to `valueOf(revision)` on revisions flagged latest that lack it (skipping undefined values). */
  private async backfill(key: string, valueOf: (doc: RevisionDoc<T>) => string | number | boolean | undefined): Promise<number> {
    const missing = await this.collection
      .find({ latest: true, [key]: { $exists: false } } as Filter<RevisionDoc<T>>, { projection: { outbox: 0 }, batchSize: LISTING_BATCH })
      .toArray();
    let n = 0;
    for (const doc of missing) {
      const v = valueOf(doc);
      if (v === undefined) continue;
      await this.setOnLatest(doc._id, key, v);
      n++;
    }
    return n;
  }

  /** The top-level keys `indexFields` derives from `data` (undefined values left out). */
  private indexed(data: T): Record<string, string | number | boolean> {
    const out: Record<string, string | number | boolean> = {};
    for (const [k, f] of Object.entries(this.options.indexFields ?? {})) {
      const v = f(data);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }

  /**
   * The aggregate's latest revision, or null. `cached`: from this process's memory when it wrote or
   * read the aggregate lately (`StoreOptions.cacheLatest`; only where a stale answer is caught by the
   * write that follows).
   */
  get(id: string, opts: { cached?: boolean } = {}): Promise<Versioned<T> | null> {
    if (opts.cached) {
      const hit = this.recent.get(id);
      if (hit) {
        this.recent.delete(id);
        this.recent.set(id, hit);
        return Promise.resolve({ id, version: hit.version, data: BSON.deserialize(hit.bson) as T });
      }
    }
    return withDbSpan('get', this.collection.collectionName, async () => {
      const r = await this.getRevision(id);
      if (r) this.remember(id, r.version, r.data);
      return r;
    });
  }

  /** Keeps a revision for cached reads: as BSON, so a hit is a fresh copy, equal to what a query returns. */
  private remember(id: string, version: number, data: T): void {
    const max = this.options.cacheLatest ?? 0;
    if (max <= 0) return;
    this.recent.delete(id);
    this.recent.set(id, { version, bson: BSON.serialize(data, { ignoreUndefined: true }) });
    if (this.recent.size > max) this.recent.delete(this.recent.keys().next().value as string);
  }

  /**
   * The newest revision: one lookup of the revisions whose `cur` is the id (an index FerretDB pushes
   * down). Two can carry it for a moment (the next revision is inserted before the previous one's
   * `cur` is removed, or a crash came between the two): the higher version wins. An aggregate whose
   * revisions predate `cur` is found by walking `<id>@1`, `<id>@2`... and gets its `cur` set.
   */
  private async getRevision(id: string): Promise<Versioned<T> | null> {
    // Ids that no write accepts (NUL, oversized) cannot exist; some backends reject them in queries.
    if (!isStorableId(id)) return null;
    const current = await this.collection.find({ cur: id } as Filter<RevisionDoc<T>>, { projection: { outbox: 0 } }).toArray();
    let doc: RevisionDoc<T> | null = null;
    for (const d of current) if (!doc || d.version > doc.version) doc = d;
    if (!doc) {
      // No revision carries `cur`: the aggregate does not exist (the common case of a first saga
      // step), or was written by a version of this store without `cur` (e.g. during a rolling upgrade).
      if (!this.legacyFallback) return null;
      const byId = (v: number) => this.collection.findOne({ _id: revId(id, v) } as Filter<RevisionDoc<T>>, { projection: { outbox: 0 } });
      doc = await byId(1);
      if (!doc) return null;
      for (;;) {
        const next = await byId(doc.version + 1);
        if (!next) break;
        doc = next;
      }
      await this.setOnLatest(doc._id, 'cur', id);
    }
    return { id: doc.aggId, version: doc.version, data: doc.data };
  }

  /**
   * Newest revisions matching a filter on `data.*`, `updatedAt` or the `indexFields` keys (only
   * these and `latest` are pushed down to PostgreSQL by FerretDB): one query. Of two revisions of
   * an aggregate in the result the newer wins; a superseded revision that a crash left flagged is
   * returned when only it matches, until `repairLatest` clears it (at start and every 5 min).
   */
  find(
    filter: Filter<RevisionDoc<T>> | Record<string, unknown>,
    opts: { limit?: number; sort?: Record<string, 1 | -1> } = {},
  ): Promise<(Versioned<T> & { updatedAt: Date })[]> {
    return withDbSpan('find', this.collection.collectionName, () => this.findLatest(filter, opts));
  }

  /**
   * Newest revisions matching `filter` (as for `find`) written at or after `since`, oldest write
   * first. With `changeBucketMs` and `since` at most `CHANGE_BUCKETS_MAX` buckets back: one query per
   * write-time bucket from `since`'s to now's, each an equality FerretDB pushes down to an index, so
   * the cost follows what changed, not how many aggregates match `filter`. Otherwise one query with
   * the range on `updatedAt`. Either way a revision is returned when its writer's clock said
   * `since` or later; revisions written without `tick` (a store without the option, during a
   * rolling upgrade) only by the plain query: callers that follow changes re-read from the start now
   * and then (see monitoring's watch).
   */
  changedSince(
    filter: Filter<RevisionDoc<T>> | Record<string, unknown>,
    since: Date,
  ): Promise<(Versioned<T> & { updatedAt: Date })[]> {
    const where = { ...filter, updatedAt: { $gte: since } };
    const b = this.options.changeBucketMs;
    const now = Date.now();
    if (!b || now - since.getTime() > CHANGE_BUCKETS_MAX * b) return this.find(where, { sort: { updatedAt: 1 } });
    return withDbSpan('find', this.collection.collectionName, async () => {
      const ticks: number[] = [];
      for (let t = Math.floor(since.getTime() / b); t <= Math.floor(now / b); t++) ticks.push(t);
      const parts = await Promise.all(ticks.map((tick) => this.findLatest({ ...where, tick }, { sort: { updatedAt: 1 } })));
      // An aggregate written in two buckets: its older revision is cleared, or flagged for a moment
      // during a write; the newer wins, as in `find`.
      const best = new Map<string, Versioned<T> & { updatedAt: Date }>();
      for (const r of parts.flat()) if ((best.get(r.id)?.version ?? 0) < r.version) best.set(r.id, r);
      return [...best.values()].sort((x, y) => x.updatedAt.getTime() - y.updatedAt.getTime());
    });
  }

  private async findLatest(
    filter: Filter<RevisionDoc<T>> | Record<string, unknown>,
    opts: { limit?: number; sort?: Record<string, 1 | -1> },
  ): Promise<(Versioned<T> & { updatedAt: Date })[]> {
    const cur = this.collection.find({ ...filter, latest: true } as Filter<RevisionDoc<T>>, { projection: { outbox: 0 }, batchSize: LISTING_BATCH });
    cur.sort(opts.sort ?? { aggId: 1 });
    if (opts.limit) cur.limit(opts.limit);
    const docs = await cur.toArray();
    // Two revisions of an aggregate are flagged for a moment during a write (the next is inserted
    // before the previous is cleared): the newer wins. A crash in that moment leaves the older one
    // flagged until `repairLatest` (at start and every few minutes, by the relay) clears it.
    const best = new Map<string, RevisionDoc<T>>();
    for (const d of docs) if ((best.get(d.aggId)?.version ?? 0) < d.version) best.set(d.aggId, d);
    return docs.filter((d) => best.get(d.aggId) === d).map((d) => ({ id: d.aggId, version: d.version, data: d.data, updatedAt: d.updatedAt }));
  }

  /** Sets a top-level key on a revision if it is still flagged latest (back-fills of `cur` and index fields). */
  private async setOnLatest(revisionId: string, key: string, value: string | number | boolean): Promise<void> {
    await this.collection.updateOne({ _id: revisionId, latest: true } as Filter<RevisionDoc<T>>, { $set: { [key]: value } } as never);
  }

  /** Clears `latest` and `cur` on a revision that a newer one superseded. */
  private async clearLatest(revisionId: string, extra: Record<string, unknown> = {}): Promise<void> {
    await this.collection.updateOne({ _id: revisionId } as Filter<RevisionDoc<T>>, { $set: { latest: false, ...extra }, $unset: { cur: '' } } as never);
  }

  /**
   * Clears `latest`/`cur` on superseded revisions: those whose clearing failed in this process
   * and, when `full`, every one found flagged next to a newer revision of its aggregate (a crash
   * between a write's insert and its update, in any process). Returns how many were cleared.
   */
  async repairLatest(full = true): Promise<number> {
    let n = 0;
    for (const id of [...this.staleLatest]) {
      await this.clearLatest(id);
      this.staleLatest.delete(id);
      n++;
    }
    if (!full) return n;
    // One scan of the flagged revisions: older ones are cleared; the newest of an aggregate that
    // lacks `cur` (an older writer's, in a rolling upgrade) gets it. Once a scan at least
    // LEGACY_WINDOW_MS after start finds none of those, `get` stops looking for them.
    const flagged = await this.collection
      .find({ latest: true } as Filter<RevisionDoc<T>>, { projection: { aggId: 1, version: 1, cur: 1 }, batchSize: LISTING_BATCH })
      .toArray();
    const newest = new Map<string, number>();
    for (const d of flagged) newest.set(d.aggId, Math.max(newest.get(d.aggId) ?? 0, d.version));
    let legacy = 0;
    for (const d of flagged) {
      if (d.version < newest.get(d.aggId)!) {
        await this.clearLatest(revId(d.aggId, d.version));
        n++;
      } else if (d.cur === undefined) {
        await this.setOnLatest(d._id, 'cur', d.aggId);
        legacy++;
      }
    }
    if (legacy === 0 && Date.now() - this.startedAt >= LEGACY_WINDOW_MS) this.legacyFallback = false;
    return n + legacy;
  }

  async wasApplied(id: string, key: string): Promise<boolean> {
    return (await this.collection.countDocuments({ appliedKey: `${id}|${key}` } as Filter<RevisionDoc<T>>)) > 0;
  }

  /**
   * Creates the aggregate at version 1. An existing id is AlreadyExists (ConcurrencyError for an
   * event handler's write), or a duplicate if appliedKey matches.
   */
  create(id: string, data: T, opts: WriteOptions = {}): Promise<WriteResult> {
    // An event handler (it passes an inbox key) that loses a race to create the aggregate has a
    // version conflict, to be retried from a fresh read, not a client error: without this a
    // projection fed by several consumers dropped the event that lost (seen at 1,000 nodes).
    return this.write(id, 0, data, opts, () =>
      opts.appliedKey ? new ConcurrencyError(this.kind, id, 0) : new AlreadyExistsError(this.kind, id),
    );
  }

  /**
   * Writes the next revision if the aggregate is still at `expectedVersion`. Throws ConcurrencyError
   * when someone else wrote first; returns `duplicate` when the consumed event was applied before.
   */
  update(id: string, expectedVersion: number, data: T, opts: WriteOptions = {}): Promise<WriteResult> {
    return this.write(id, expectedVersion, data, opts, () => new ConcurrencyError(this.kind, id, expectedVersion));
  }

  /** `create` when there is no version yet (undefined), `update` at `expectedVersion` otherwise. */
  save(id: string, expectedVersion: number | undefined, data: T, opts: WriteOptions = {}): Promise<WriteResult> {
    return expectedVersion === undefined ? this.create(id, data, opts) : this.update(id, expectedVersion, data, opts);
  }

  private write(id: string, expected: number, data: T, opts: WriteOptions, conflict: () => Error): Promise<WriteResult> {
    // The events' traceparent is the step's span (taken here, outside the insert's own span): a
    // consumer of the event is a child of the step that produced it.
    const outbox = outboxOf(opts.events ?? []);
    return withDbSpan('insert', this.collection.collectionName, () => this.insertRevision(id, expected, data, opts, outbox, conflict));
  }

  private async insertRevision(id: string, expected: number, data: T, opts: WriteOptions, outbox: OutboxEntry[], conflict: () => Error): Promise<WriteResult> {
    if (!isStorableId(id)) throw new ValidationError('id', `cannot store ${this.kind} id ${JSON.stringify(id.slice(0, 80))}`);
    const version = expected + 1;
    const events = opts.events ?? [];
    const updatedAt = new Date();
    const b = this.options.changeBucketMs;
    const doc: RevisionDoc<T> = {
      ...this.indexed(data),
      ...(b ? { tick: Math.floor(updatedAt.getTime() / b) } : {}),
      _id: revId(id, version),
      aggId: id,
      version,
      data,
      latest: true,
      cur: id,
      outbox,
      outboxDone: events.length === 0,
      appliedKey: opts.appliedKey ? `${id}|${opts.appliedKey}` : revId(id, version),
      updatedAt,
    };
    try {
      await this.collection.insertOne(doc as never);
    } catch (e) {
      this.recent.delete(id);
      if (!isDuplicateKey(e)) throw e;
      if (opts.appliedKey && (await this.wasApplied(id, opts.appliedKey))) return { outcome: 'duplicate' };
      await this.repairCurrent(id);
      throw conflict();
    }
    this.remember(id, version, data);
    if (expected > 0) {
      const prev = revId(id, expected);
      const published = this.unmarked.has(prev);
      try {
        await this.clearLatest(prev, published ? { outboxDone: true } : {});
        if (published) this.unmarked.delete(prev);
      } catch (e) {
        // The new revision is written (its insert was acknowledged): report the write, and clear
        // the previous revision's flag at the relay's next scan (`repairLatest`).
        this.staleLatest.add(prev);
        this.options.log?.warn({ err: e, revision: prev }, 'clearing the latest flag of a superseded revision failed; retried at the next relay scan');
      }
    }
    if (events.length) this.onWrite({ _id: doc._id, outbox: doc.outbox });
    return { outcome: 'written', version };
  }

  /**
   * After a version conflict: moves `cur` to the newest revision if a writer that does not maintain
   * it (an older version of this store, during a rolling upgrade) wrote past the revision carrying
   * it, so the caller's retry reads the newest state instead of conflicting for ever.
   */
  private async repairCurrent(id: string): Promise<void> {
    const current = await this.collection.find({ cur: id } as Filter<RevisionDoc<T>>, { projection: { version: 1 } }).toArray();
    let last = Math.max(0, ...current.map((d) => d.version));
    const from = last;
    while (await this.collection.findOne({ _id: revId(id, last + 1) } as Filter<RevisionDoc<T>>, { projection: { _id: 1 } })) last++;
    if (last === from) return;
    await this.collection.updateOne({ _id: revId(id, last) } as Filter<RevisionDoc<T>>, { $set: { cur: id } } as never);
    for (const d of current) {
      await this.collection.updateOne({ _id: revId(id, d.version) } as Filter<RevisionDoc<T>>, { $unset: { cur: '' } } as never);
    }
  }

  /**
   * Revisions whose outbox has not been published yet, oldest first (for the relay), leaving out
   * those this process has published and not marked yet. Returns at most `limit`.
   */
  async pending(limit: number): Promise<Pick<RevisionDoc<T>, '_id' | 'aggId' | 'version' | 'outbox'>[]> {
    const rows = await this.collection
      .find({ outboxDone: false } as Filter<RevisionDoc<T>>, { projection: { _id: 1, aggId: 1, version: 1, outbox: 1 }, batchSize: LISTING_BATCH })
      .sort({ updatedAt: 1, version: 1 })
      .limit(limit + this.unmarked.size)
      .toArray();
    return rows.filter((r) => !this.unmarked.has(r._id)).slice(0, limit);
  }

  /** Marks a revision's outbox as published (idempotent: every relay sets the same value). */
  async markPublished(revisionId: string): Promise<void> {
    await this.collection.updateOne({ _id: revisionId } as Filter<RevisionDoc<T>>, { $set: { outboxDone: true } } as never);
    this.unmarked.delete(revisionId);
  }

  /**
   * Records that a revision's outbox was published, to be marked by the next revision's write or
   * by `markPublishedBefore` (the relay's delayed mark).
   */
  published(revisionId: string): void {
    // Re-inserted so the map stays in publication order (`markPublishedBefore` stops at the first
    // revision not yet due).
    this.unmarked.delete(revisionId);
    this.unmarked.set(revisionId, Date.now());
  }

  /** Marks the revisions published at least `ageMs` ago that no later write has marked. Returns how many. */
  async markPublishedBefore(ageMs: number): Promise<number> {
    const due = Date.now() - ageMs;
    const ids: string[] = [];
    for (const [id, at] of this.unmarked) {
      if (at > due) break;
      ids.push(id);
    }
    for (const id of ids) await this.markPublished(id);
    return ids.length;
  }
}
