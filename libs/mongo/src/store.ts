import { Binary, type Collection, type Db, type Document, type Filter } from 'mongodb';
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

/** Entries of an `AggregateStore`'s process-local head hints before they are dropped and rebuilt. */
const KNOWN_MAX = 200_000;

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
 * Filter on the key itself (`find({ site })`). Revisions written before a key was added lack it and
 * are not matched by such filters.
 */
export interface StoreOptions<T> {
  readonly indexFields?: Readonly<Record<string, (data: T) => string | number | boolean | undefined>>;
}

/** Top-level keys of a revision that `indexFields` may not use. */
const RESERVED_KEYS = new Set(['_id', 'aggId', 'version', 'data', 'latest', 'outbox', 'outboxDone', 'appliedKey', 'updatedAt']);

export class AggregateStore<T extends Document> {
  readonly collection: Collection<RevisionDoc<T>>;
  /** `{_id: aggId, version}`: a hint to the newest revision, so reads are primary-key lookups. */
  private readonly heads: Collection<{ _id: string; version: number }>;
  /**
   * The newest version this process has seen of each aggregate (written or read): a process-local
   * head hint, so `get` of an aggregate this process already knows skips the heads lookup. Bounded:
   * cleared when it reaches `KNOWN_MAX` entries (then reads use the heads collection again).
   */
  private readonly known = new Map<string, number>();

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
    this.collection = db.collection<RevisionDoc<T>>(name);
    this.heads = db.collection<{ _id: string; version: number }>(`${name}_heads`);
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ aggId: 1, version: -1 }, { name: 'agg_version', unique: true });
    await this.collection.createIndex({ appliedKey: 1 }, { unique: true, name: 'inbox_unique' });
    await this.collection.createIndex({ outboxDone: 1 }, { name: 'outbox_pending' });
    await this.collection.createIndex({ latest: 1, updatedAt: 1 }, { name: 'latest_updated' });
    for (const k of Object.keys(this.options.indexFields ?? {})) {
      await this.collection.createIndex({ [k]: 1, latest: 1 } as never, { name: `idx_${k}` });
    }
    await this.backfillIndexFields();
  }

  /**
   * Sets the `indexFields` keys on revisions flagged latest that lack one (written before the store
   * had that field), so listings that filter on the key still return them after an upgrade. Only
   * latest revisions matter to `find`; older ones are never listed. Returns how many were set.
   * A fresh or already back-filled collection costs one query per field.
   */
  async backfillIndexFields(): Promise<number> {
    let n = 0;
    for (const [k, f] of Object.entries(this.options.indexFields ?? {})) {
      const missing = this.collection.find({ latest: true, [k]: { $exists: false } } as Filter<RevisionDoc<T>>, {
        projection: { _id: 1, data: 1 },
      });
      for await (const doc of missing) {
        const v = f(doc.data);
        if (v === undefined) continue;
        await this.collection.updateOne({ _id: doc._id } as Filter<RevisionDoc<T>>, { $set: { [k]: v } } as never);
        n++;
      }
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
   * The newest revision, by primary-key lookups only (FerretDB filters other fields by scanning):
   * start at the head hint, then walk forward while a newer revision exists (the head is updated
   * after the revision is inserted, so it may lag by one after a crash or a race).
   */
  get(id: string): Promise<Versioned<T> | null> {
    return withDbSpan('get', this.collection.collectionName, () => this.getRevision(id));
  }

  private async getRevision(id: string): Promise<Versioned<T> | null> {
    // Ids that no write accepts (NUL, oversized) cannot exist; some backends reject them in queries.
    if (!isStorableId(id)) return null;
    const byId = (v: number) => this.collection.findOne({ _id: revId(id, v) } as Filter<RevisionDoc<T>>, { projection: { outbox: 0 } });
    // A version this process wrote or read is as good a start as the head hint and saves its lookup
    // (the forward walk below still finds what other processes wrote since).
    const known = this.known.get(id);
    let version: number;
    let doc: RevisionDoc<T> | null;
    if (known !== undefined) {
      version = known;
      doc = await byId(version);
      if (!doc) {
        // Revisions are never removed by this store; should one be, fall back to the head hint.
        this.known.delete(id);
        return this.getRevision(id);
      }
    } else {
      // Revision 1 exists as long as the aggregate does (revisions are never removed; pruning would
      // have to keep it): one lookup answers for an aggregate that does not exist yet, the first
      // read of most saga steps. Creates write no head (a missing head means version 1).
      doc = await byId(1);
      if (!doc) return null;
      version = 1;
      const head = (await this.heads.findOne({ _id: id }))?.version ?? 1;
      const atHead = head > 1 ? await byId(head) : null;
      if (atHead) {
        doc = atHead;
        version = head;
      }
    }
    for (;;) {
      const next = await byId(version + 1);
      if (!next) break;
      doc = next;
      version++;
    }
    this.remember(id, version);
    return { id: doc.aggId, version: doc.version, data: doc.data };
  }

  /**
   * Newest revisions matching a filter on `data.*`, `updatedAt` or the `indexFields` keys (only
   * these and `latest` are pushed down to PostgreSQL by FerretDB). A revision still flagged latest
   * after a crash is dropped when a newer revision of its aggregate exists.
   */
  find(
    filter: Filter<RevisionDoc<T>> | Record<string, unknown>,
    opts: { limit?: number; sort?: Record<string, 1 | -1> } = {},
  ): Promise<(Versioned<T> & { updatedAt: Date })[]> {
    return withDbSpan('find', this.collection.collectionName, () => this.findLatest(filter, opts));
  }

  private async findLatest(
    filter: Filter<RevisionDoc<T>> | Record<string, unknown>,
    opts: { limit?: number; sort?: Record<string, 1 | -1> },
  ): Promise<(Versioned<T> & { updatedAt: Date })[]> {
    const cur = this.collection.find({ ...filter, latest: true } as Filter<RevisionDoc<T>>, { projection: { outbox: 0 } });
    cur.sort(opts.sort ?? { aggId: 1 });
    if (opts.limit) cur.limit(opts.limit);
    const docs = await cur.toArray();
    const best = new Map<string, RevisionDoc<T>>();
    for (const d of docs) if ((best.get(d.aggId)?.version ?? 0) < d.version) best.set(d.aggId, d);
    if (docs.length > 0) {
      const newer = await this.collection
        .find({ aggId: { $in: [...best.keys()] }, latest: true } as Filter<RevisionDoc<T>>, { projection: { aggId: 1, version: 1 } })
        .toArray();
      for (const n of newer) if ((best.get(n.aggId)?.version ?? Infinity) < n.version) best.delete(n.aggId);
    }
    return docs.filter((d) => best.get(d.aggId) === d).map((d) => ({ id: d.aggId, version: d.version, data: d.data, updatedAt: d.updatedAt }));
  }

  private remember(id: string, version: number): void {
    if ((this.known.get(id) ?? 0) >= version) return;
    if (this.known.size >= KNOWN_MAX) this.known.clear();
    this.known.set(id, version);
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
    const doc: RevisionDoc<T> = {
      ...this.indexed(data),
      _id: revId(id, version),
      aggId: id,
      version,
      data,
      latest: true,
      outbox,
      outboxDone: events.length === 0,
      appliedKey: opts.appliedKey ? `${id}|${opts.appliedKey}` : revId(id, version),
      updatedAt: new Date(),
    };
    try {
      await this.collection.insertOne(doc as never);
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      if (opts.appliedKey && (await this.wasApplied(id, opts.appliedKey))) return { outcome: 'duplicate' };
      throw conflict();
    }
    this.remember(id, version);
    // No head for version 1: reads start there when there is none.
    if (version > 1) {
      await this.heads.updateOne({ _id: id }, { $max: { version } }, { upsert: true }).catch((e: unknown) => {
        // A concurrent upsert of a new head: the other writer's head is as good as ours (a hint).
        if (!isDuplicateKey(e)) throw e;
      });
    }
    if (expected > 0) {
      await this.collection.updateOne({ _id: revId(id, expected) } as Filter<RevisionDoc<T>>, { $set: { latest: false } } as never);
    }
    if (events.length) this.onWrite({ _id: doc._id, outbox: doc.outbox });
    return { outcome: 'written', version };
  }

  /** Revisions whose outbox has not been published yet, oldest first (for the relay). */
  async pending(limit: number): Promise<Pick<RevisionDoc<T>, '_id' | 'aggId' | 'version' | 'outbox'>[]> {
    return this.collection
      .find({ outboxDone: false } as Filter<RevisionDoc<T>>, { projection: { _id: 1, aggId: 1, version: 1, outbox: 1 } })
      .sort({ updatedAt: 1, version: 1 })
      .limit(limit)
      .toArray();
  }

  /** Marks a revision's outbox as published (idempotent: every relay sets the same value). */
  async markPublished(revisionId: string): Promise<void> {
    await this.collection.updateOne({ _id: revisionId } as Filter<RevisionDoc<T>>, { $set: { outboxDone: true } } as never);
  }
}
