import type { Collection, Document } from 'mongodb';
import { AlreadyExistsError, ConcurrencyError } from '@stackyard/errors';
import type { Envelope } from '@stackyard/events';
import { LISTING_BATCH, SITE_KEY, type AggregateStore, type StoreOptions } from '@stackyard/mongo';
import type { Host } from '@stackyard/proto/inventory/v1/inventory';
import type { HostRepository, ImportRepository, SiteRecordRepository, SiteRepository, StoredHost, StoredRecord, Write } from '../../application/ports';
import { HOST_STATES, lifecycleOf, type HostLifecycle } from '../../domain/host';
import { matches, type HostFilter } from '../../domain/listing';
import type { ImportRecord } from '../../domain/kayobe/import-record';
import type { SiteData } from '../../domain/site';


export class MongoSiteRepository implements SiteRepository {
  constructor(private readonly store: AggregateStore<SiteData & Record<string, unknown>>) {}
  get(id: string) {
    return this.store.get(id);
  }
  async create(site: SiteData): Promise<void> {
    await this.store.create(site.id, { ...site });
  }
}

/**
 * A host as stored: labels as a list of pairs, because label keys such as
 * `stackyard.io/imported-from` contain "." which FerretDB rejects in document keys, plus `labelTerms`
 * ("key=value", what label selectors match with `$all`); its `state` (HostState) and the older
 * `registered` flag (false while only recorded by an import), kept for readers of older revisions.
 */
export type HostDoc = Omit<Host, 'labels'> & {
  labels: { key: string; value: string }[] | Record<string, string>;
  labelTerms?: string[];
  registered?: boolean;
} & Record<string, unknown>;

function toDoc(host: Host, state: HostLifecycle): HostDoc {
  const labels = Object.entries(host.labels).map(([key, value]) => ({ key, value }));
  return { ...host, version: 0, state: HOST_STATES[state], labels, labelTerms: labels.map((l) => `${l.key}=${l.value}`), registered: state !== 'recorded' };
}

function fromDoc(d: HostDoc, version: number): StoredHost {
  const { registered, labels, labelTerms: _t, ...rest } = d;
  // Hosts stored before labels were pairs keep a plain map.
  const map = Array.isArray(labels) ? Object.fromEntries(labels.map((l) => [l.key, l.value])) : { ...labels };
  const state = lifecycleOf(d.state, registered);
  return { data: { ...(rest as unknown as Omit<Host, 'labels'>), labels: map, state: HOST_STATES[state] }, version, state, registered: state !== 'recorded' };
}

export class MongoHostRepository implements HostRepository {
  /** `site` for site listings; the latest revisions of up to 20,000 hosts remembered for the event projections' cached reads. */
  static readonly storeOptions = { ...SITE_KEY, cacheLatest: 20_000 } as StoreOptions<HostDoc>;
  constructor(private readonly store: AggregateStore<HostDoc>) {}
  async get(id: string, opts: { cached?: boolean } = {}): Promise<StoredHost | null> {
    const r = await this.store.get(id, opts);
    return r ? fromDoc(r.data, r.version) : null;
  }
  async create(host: Host, events: readonly Envelope[], state: HostLifecycle): Promise<void> {
    await this.store.create(host.id, toDoc(host, state), { events });
  }
  async update(host: Host, expectedVersion: number, events: readonly Envelope[], appliedKey: string | undefined, state: HostLifecycle): Promise<Write> {
    return this.store.update(host.id, expectedVersion, toDoc(host, state), { events, ...(appliedKey ? { appliedKey } : {}) });
  }
  /**
   * Reads revisions flagged `latest` directly rather than through `AggregateStore.find`, which drops
   * an aggregate that gets a new revision between its two queries (seen while a saga updates hosts
   * during a listing). Per aggregate the newest flagged revision is kept; one `_id $in` query finds
   * those that have a successor, which are re-read by `get` and filtered again in memory.
   */
  async list(filter: HostFilter, after: string | undefined, limit: number): Promise<StoredHost[]> {
    const base: Record<string, unknown>[] = [{ latest: true }, { 'data.state': { $ne: HOST_STATES.deleted } }];
    if (filter.siteId) base.push({ site: filter.siteId });
    if (filter.anyGroup?.length) base.push({ 'data.groups': { $in: [...filter.anyGroup] } });
    else if (filter.group) base.push({ 'data.groups': filter.group });
    if (filter.labels?.length) base.push({ 'data.labelTerms': { $all: filter.labels.map((t) => `${t.key}=${t.value}`) } });
    if (filter.state) {
      const s: Record<string, unknown> = { 'data.state': HOST_STATES[filter.state] };
      // Revisions written before states: `registered` tells recorded from registered.
      if (filter.state === 'recorded') base.push({ $or: [s, { 'data.state': { $exists: false }, 'data.registered': false }] });
      else if (filter.state === 'registered') base.push({ $or: [s, { 'data.state': { $exists: false }, 'data.registered': { $ne: false } }] });
      else base.push(s);
    }
    const coll = this.store.collection as unknown as Collection<Document>;
    const out: StoredHost[] = [];
    let cursor = after;
    while (out.length < limit) {
      const want = limit - out.length + 4;
      const q = { $and: [...base, ...(cursor ? [{ aggId: { $gt: cursor } }] : [])] };
      const batch = await coll.find(q, { projection: { outbox: 0 }, batchSize: want }).sort({ aggId: 1, version: -1 }).limit(want).toArray();
      if (batch.length === 0) break;
      const newest = new Map<string, { aggId: string; version: number; data: HostDoc }>();
      for (const d of batch) {
        const cur = newest.get(d['aggId'] as string);
        if (!cur || cur.version < (d['version'] as number)) newest.set(d['aggId'] as string, d as never);
      }
      const successors = new Set(
        (await coll.find({ _id: { $in: [...newest.values()].map((d) => `${d.aggId}@${d.version + 1}`) } } as never, { projection: { aggId: 1 }, batchSize: LISTING_BATCH }).toArray()).map(
          (d) => d['aggId'] as string,
        ),
      );
      for (const d of newest.values()) {
        if (out.length >= limit) break;
        let h: StoredHost | null = fromDoc(d.data, d.version);
        if (successors.has(d.aggId)) {
          h = await this.get(d.aggId);
          if (h && !matches(h.data, h.state, filter)) h = null;
        }
        if (h) out.push(h);
      }
      cursor = batch[batch.length - 1]!['aggId'] as string;
      if (batch.length < want) break;
    }
    return out;
  }
}

/** Import documents: one aggregate per import; inserting version 1 commits the import. */
export class MongoImportRepository implements ImportRepository {
  static readonly storeOptions = SITE_KEY as StoreOptions<ImportRecord & Record<string, unknown>>;
  constructor(private readonly store: AggregateStore<ImportRecord & Record<string, unknown>>) {}
  get(id: string) {
    return this.store.get(id);
  }
  async create(record: ImportRecord): Promise<'written' | 'exists'> {
    try {
      await this.store.create(record.id, { ...record });
      return 'written';
    } catch (e) {
      if (e instanceof AlreadyExistsError) return 'exists';
      throw e;
    }
  }
  async list(siteId: string, after: { createdAt: string; id: string } | undefined, limit: number): Promise<ImportRecord[]> {
    const f: Record<string, unknown> = { site: siteId };
    if (after) f['$or'] = [{ 'data.createdAt': { $lt: after.createdAt } }, { 'data.createdAt': after.createdAt, aggId: { $lt: after.id } }];
    const rows = await this.store.find(f, { sort: { 'data.createdAt': -1, aggId: -1 }, limit });
    return rows.map((r) => r.data);
  }
  async update(record: ImportRecord, expectedVersion: number, events: readonly Envelope[] = []): Promise<boolean> {
    try {
      await this.store.update(record.id, expectedVersion, { ...record }, { events });
      return true;
    } catch (e) {
      if (e instanceof ConcurrencyError) return false;
      throw e;
    }
  }
}

/**
 * Site records (groups, deployments): the record plus a tombstone flag. Their map keys (group
 * variable names, Kolla service names) are checked by pattern: no "." or "$", which FerretDB rejects.
 */
export type RecordDoc<T> = T & { deleted: boolean } & Record<string, unknown>;

export class MongoRecordRepository<T extends { readonly id: string; readonly siteId: string }> implements SiteRecordRepository<T> {
  static readonly storeOptions = SITE_KEY;
  constructor(private readonly store: AggregateStore<RecordDoc<T>>) {}
  private stored(r: { data: RecordDoc<T>; version: number }): StoredRecord<T> {
    const { deleted, ...data } = r.data;
    return { data: data as unknown as T, version: r.version, deleted: deleted === true };
  }
  async get(id: string): Promise<StoredRecord<T> | null> {
    const r = await this.store.get(id);
    return r ? this.stored(r) : null;
  }
  async create(record: T, events: readonly Envelope[]): Promise<void> {
    await this.store.create(record.id, { ...record, deleted: false } as RecordDoc<T>, { events });
  }
  async update(record: T, expectedVersion: number, events: readonly Envelope[], deleted: boolean): Promise<Write> {
    return this.store.update(record.id, expectedVersion, { ...record, deleted } as RecordDoc<T>, { events });
  }
  /** Through `AggregateStore.find` (a record updated between its two queries can be missed: callers read a site's records whole). */
  async list(siteId: string, after: string | undefined, limit?: number): Promise<StoredRecord<T>[]> {
    const f: Record<string, unknown> = { site: siteId, 'data.deleted': { $ne: true } };
    if (after !== undefined) f['aggId'] = { $gt: after };
    const rows = await this.store.find(f, { sort: { aggId: 1 }, ...(limit ? { limit } : {}) });
    return rows.map((r) => this.stored(r));
  }
}
