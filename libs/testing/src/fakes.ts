import { AlreadyExistsError, ConcurrencyError } from '@stackyard/errors';
import { toWire, type Envelope } from '@stackyard/events';

/** Same shape as `WriteResult` of libs/mongo and the services' `Write` port type. */
export type FakeWrite = { readonly outcome: 'written'; readonly version: number } | { readonly outcome: 'duplicate' };

export interface FakeWriteOptions {
  readonly events?: readonly Envelope[];
  readonly appliedKey?: string;
}

interface Doc<T> {
  version: number;
  data: T;
  readonly applied: Set<string>;
}

/**
 * An in-memory stand-in for `AggregateStore` (libs/mongo) for unit tests, with the same contract:
 * - `create` starts at version 1; an existing id is AlreadyExistsError, or `duplicate` when the
 *   consumed event (`appliedKey`) was applied to it before;
 * - `update` succeeds only at `expectedVersion` and for an event not applied before; otherwise it is
 *   `duplicate` (inbox hit) or ConcurrencyError (somebody else wrote first, or no such aggregate);
 * - a write and the events it emits happen together or not at all; every event is encoded with
 *   `toWire` first, as the real outbox does, so an event that cannot go on the wire fails the write.
 * Data is copied in and out (like a round trip through a database), so callers cannot alias it.
 * Every method does its check and its write in one synchronous step, which is what a single-document
 * atomic operation gives; callers still interleave between their own awaits, as with a real store.
 */
export class InMemoryAggregateStore<T> {
  private readonly docs = new Map<string, Doc<T>>();
  /** Every event written, in write order (the union of all outboxes, never drained). */
  readonly outbox: Envelope[] = [];
  /** Number of writes that succeeded (created or updated). */
  writes = 0;

  constructor(private readonly kind: string) {}

  async get(id: string): Promise<{ id: string; version: number; data: T } | null> {
    const d = this.docs.get(id);
    return d ? { id, version: d.version, data: structuredClone(d.data) } : null;
  }

  /** Aggregates whose data matches `predicate`, sorted by id (like the Mongo adapters' `_id` sort). */
  async find(predicate: (data: T, id: string) => boolean = () => true): Promise<{ id: string; version: number; data: T }[]> {
    return [...this.docs.entries()]
      .filter(([id, d]) => predicate(d.data, id))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, d]) => ({ id, version: d.version, data: structuredClone(d.data) }));
  }

  wasApplied(id: string, key: string): boolean {
    return this.docs.get(id)?.applied.has(key) ?? false;
  }

  async create(id: string, data: T, opts: FakeWriteOptions = {}): Promise<FakeWrite> {
    const events = encoded(opts.events);
    const existing = this.docs.get(id);
    if (existing) {
      if (opts.appliedKey && existing.applied.has(opts.appliedKey)) return { outcome: 'duplicate' };
      // Like the real store: an event handler losing a create race has a version conflict.
      throw opts.appliedKey ? new ConcurrencyError(this.kind, id, 0) : new AlreadyExistsError(this.kind, id);
    }
    this.docs.set(id, { version: 1, data: structuredClone(data), applied: new Set(opts.appliedKey ? [opts.appliedKey] : []) });
    this.outbox.push(...events);
    this.writes++;
    return { outcome: 'written', version: 1 };
  }

  async update(id: string, expectedVersion: number, data: T, opts: FakeWriteOptions = {}): Promise<FakeWrite> {
    const events = encoded(opts.events);
    const d = this.docs.get(id);
    if (opts.appliedKey && d?.applied.has(opts.appliedKey)) return { outcome: 'duplicate' };
    if (!d || d.version !== expectedVersion) throw new ConcurrencyError(this.kind, id, expectedVersion);
    d.version++;
    d.data = structuredClone(data);
    if (opts.appliedKey) d.applied.add(opts.appliedKey);
    this.outbox.push(...events);
    this.writes++;
    return { outcome: 'written', version: d.version };
  }

  /** Events of one ce-type, in write order. */
  eventsOfType(type: string): Envelope[] {
    return this.outbox.filter((e) => e.type === type);
  }
}

function encoded(events: readonly Envelope[] = []): Envelope[] {
  for (const e of events) toWire(e);
  return [...events];
}
