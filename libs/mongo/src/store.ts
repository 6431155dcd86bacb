import { Binary, type Collection, type Db, type Document, type Filter } from 'mongodb';
import { AlreadyExistsError, ConcurrencyError } from '@stackyard/errors';
import { toWire, type Envelope, type WireEvent } from '@stackyard/events';
import { injectTraceHeaders } from '@stackyard/telemetry';
import { isDuplicateKey } from './client';

/** An event waiting in an aggregate's outbox until the relay has published it. */
export interface OutboxEntry {
  readonly id: string;
  readonly seq: number;
  readonly subject: string;
  readonly headers: Record<string, string>;
  readonly payload: Binary;
}

/** The stored shape: the aggregate, its version, its outbox and its inbox, in one document. */
export interface AggregateDoc<T> {
  _id: string;
  version: number;
  data: T;
  outbox: Record<string, OutboxEntry>;
  outboxPending: number;
  /** Inbox: keys `<consumer>~<ce-id>` of events already applied to this aggregate. */
  applied: Record<string, number>;
  updatedAt: Date;
}

export interface Versioned<T> {
  readonly id: string;
  readonly version: number;
  readonly data: T;
}

/** What a write records besides the new state: events to publish and the event that caused it. */
export interface WriteOptions {
  readonly events?: readonly Envelope[];
  /** Inbox key of the consumed event (see `inboxKey`); the write is skipped if it was applied before. */
  readonly appliedKey?: string;
}

export type WriteResult = { readonly outcome: 'written'; readonly version: number } | { readonly outcome: 'duplicate' };

export function inboxKey(consumer: string, eventId: string): string {
  return `${consumer}~${eventId}`;
}

function outboxOf(events: readonly Envelope[], baseSeq: number): Record<string, OutboxEntry> {
  const out: Record<string, OutboxEntry> = {};
  events.forEach((e, i) => {
    const w: WireEvent = toWire(e);
    out[e.id] = { id: e.id, seq: baseSeq + i, subject: w.subject, headers: injectTraceHeaders({ ...w.headers }), payload: new Binary(w.payload) };
  });
  return out;
}

/**
 * Aggregate persistence with optimistic versions and a per-document outbox and inbox (docs/adr/0003).
 * A state change, the events it emits and the record of the event it consumed are written by one
 * single-document atomic operation, so they cannot diverge, without multi-document transactions.
 */
export class AggregateStore<T extends Document> {
  readonly collection: Collection<AggregateDoc<T>>;

  constructor(
    db: Db,
    name: string,
    private readonly kind: string,
    private readonly onWrite: () => void = () => undefined,
  ) {
    this.collection = db.collection<AggregateDoc<T>>(name);
  }

  async ensureIndexes(extra: readonly { key: Record<string, 1 | -1>; unique?: boolean }[] = []): Promise<void> {
    await this.collection.createIndex({ outboxPending: 1 });
    for (const ix of extra) await this.collection.createIndex(ix.key, { unique: ix.unique ?? false });
  }

  async get(id: string): Promise<Versioned<T> | null> {
    const d = await this.collection.findOne({ _id: id } as Filter<AggregateDoc<T>>, { projection: { outbox: 0, applied: 0 } });
    return d ? { id: d._id, version: d.version, data: d.data as T } : null;
  }

  async find(filter: Filter<AggregateDoc<T>>, opts: { limit?: number; sort?: Record<string, 1 | -1> } = {}): Promise<Versioned<T>[]> {
    const cur = this.collection.find(filter, { projection: { outbox: 0, applied: 0 } });
    if (opts.sort) cur.sort(opts.sort);
    if (opts.limit) cur.limit(opts.limit);
    const docs = await cur.toArray();
    return docs.map((d) => ({ id: d._id, version: d.version, data: d.data as T }));
  }

  async wasApplied(id: string, key: string): Promise<boolean> {
    const n = await this.collection.countDocuments({ _id: id, [`applied.${key}`]: { $exists: true } } as Filter<AggregateDoc<T>>);
    return n > 0;
  }

  /** Creates the aggregate at version 1. An existing id is AlreadyExists, or a duplicate if appliedKey matches. */
  async create(id: string, data: T, opts: WriteOptions = {}): Promise<WriteResult> {
    const events = opts.events ?? [];
    const doc = {
      _id: id,
      version: 1,
      data,
      outbox: outboxOf(events, 1000),
      outboxPending: events.length,
      applied: opts.appliedKey ? { [opts.appliedKey]: 1 } : {},
      updatedAt: new Date(),
    } as AggregateDoc<T>;
    try {
      await this.collection.insertOne(doc as never);
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      if (opts.appliedKey && (await this.wasApplied(id, opts.appliedKey))) return { outcome: 'duplicate' };
      throw new AlreadyExistsError(this.kind, id);
    }
    if (events.length) this.onWrite();
    return { outcome: 'written', version: 1 };
  }

  /**
   * Replaces the aggregate's data if it is still at `expectedVersion`. Throws ConcurrencyError when
   * someone else wrote first; returns `duplicate` when the consumed event was applied before.
   */
  async update(id: string, expectedVersion: number, data: T, opts: WriteOptions = {}): Promise<WriteResult> {
    const events = opts.events ?? [];
    const set: Record<string, unknown> = { data, updatedAt: new Date() };
    for (const [eid, entry] of Object.entries(outboxOf(events, (expectedVersion + 1) * 1000))) set[`outbox.${eid}`] = entry;
    if (opts.appliedKey) set[`applied.${opts.appliedKey}`] = 1;
    const filter: Record<string, unknown> = { _id: id, version: expectedVersion };
    if (opts.appliedKey) filter[`applied.${opts.appliedKey}`] = { $exists: false };
    const r = await this.collection.updateOne(filter as Filter<AggregateDoc<T>>, {
      $set: set,
      $inc: { version: 1, outboxPending: events.length },
    } as never);
    if (r.matchedCount === 0) {
      if (opts.appliedKey && (await this.wasApplied(id, opts.appliedKey))) return { outcome: 'duplicate' };
      throw new ConcurrencyError(this.kind, id, expectedVersion);
    }
    if (events.length) this.onWrite();
    return { outcome: 'written', version: expectedVersion + 1 };
  }

  /** Documents whose outbox still holds unpublished events (for the relay). */
  async pending(limit: number): Promise<Pick<AggregateDoc<T>, '_id' | 'outbox'>[]> {
    return this.collection
      .find({ outboxPending: { $gt: 0 } } as Filter<AggregateDoc<T>>, { projection: { _id: 1, outbox: 1 } })
      .limit(limit)
      .toArray();
  }

  /** Removes one published event from the outbox; a no-op if another relay removed it first. */
  async markPublished(id: string, eventId: string): Promise<void> {
    await this.collection.updateOne(
      { _id: id, [`outbox.${eventId}`]: { $exists: true } } as Filter<AggregateDoc<T>>,
      { $unset: { [`outbox.${eventId}`]: '' }, $inc: { outboxPending: -1 } } as never,
    );
  }
}
