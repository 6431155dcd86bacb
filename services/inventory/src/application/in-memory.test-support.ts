/**
 * In-memory repositories for the application's unit tests, shaped like the Mongo adapters: create
 * throws AlreadyExists (tombstones included), list pages by id and never returns tombstones.
 */
import { AlreadyExistsError, ConcurrencyError } from '@stackyard/errors';
import type { Envelope } from '@stackyard/events';
import type { Host } from '@stackyard/proto/inventory/v1/inventory';
import { InMemoryAggregateStore } from '@stackyard/testing';
import { HOST_STATES, type HostLifecycle } from '../domain/host';
import type { ImportRecord } from '../domain/kayobe/import-record';
import { matches, type HostFilter } from '../domain/listing';
import type { SiteData } from '../domain/site';
import type { GroupData } from '../domain/group';
import type { HostChange, HostChangeFeed, HostRepository, ImportRepository, SiteRecordRepository, SiteRepository, StoredHost, StoredRecord, Write } from './ports';

export class InMemorySites implements SiteRepository {
  readonly store = new InMemoryAggregateStore<SiteData>('site');
  get(id: string) {
    return this.store.get(id);
  }
  async create(site: SiteData): Promise<void> {
    await this.store.create(site.id, site);
  }
}

export class InMemoryHosts implements HostRepository {
  readonly store = new InMemoryAggregateStore<{ host: Host; state: HostLifecycle }>('host');
  /** Every event written, in order. */
  readonly events: Envelope[] = [];
  /** Makes the n+1-th create throw (a crash mid-import). */
  failAfter = Infinity;
  private stored(r: { data: { host: Host; state: HostLifecycle }; version: number }): StoredHost {
    return { data: { ...r.data.host, state: HOST_STATES[r.data.state] }, version: r.version, state: r.data.state, registered: r.data.state !== 'recorded' };
  }
  async get(id: string): Promise<StoredHost | null> {
    const r = await this.store.get(id);
    return r ? this.stored(r) : null;
  }
  async create(host: Host, events: readonly Envelope[], state: HostLifecycle): Promise<void> {
    if (this.failAfter-- <= 0) throw new Error('crash');
    await this.store.create(host.id, { host: { ...host, version: 0 }, state }, { events });
    this.events.push(...events);
  }
  async update(host: Host, v: number, events: readonly Envelope[], appliedKey: string | undefined, state: HostLifecycle): Promise<Write> {
    const w = await this.store.update(host.id, v, { host: { ...host, version: 0 }, state }, { events, ...(appliedKey ? { appliedKey } : {}) });
    if (w.outcome === 'written') this.events.push(...events);
    return w;
  }
  async list(filter: HostFilter, after: string | undefined, limit: number): Promise<StoredHost[]> {
    const rows = await this.store.find((d, id) => matches(d.host, d.state, filter) && (after === undefined || id > after));
    return rows.slice(0, limit).map((r) => this.stored(r));
  }
  eventsOfType(type: string): Envelope[] {
    return this.events.filter((e) => e.type === type);
  }
}

export class InMemoryImports implements ImportRepository {
  readonly store = new InMemoryAggregateStore<ImportRecord>('import');
  readonly events: Envelope[] = [];
  get(id: string) {
    return this.store.get(id);
  }
  async create(r: ImportRecord): Promise<'written' | 'exists'> {
    try {
      await this.store.create(r.id, r);
      return 'written';
    } catch (e) {
      if (e instanceof AlreadyExistsError) return 'exists';
      throw e;
    }
  }
  async update(r: ImportRecord, v: number, events: readonly Envelope[] = []): Promise<boolean> {
    try {
      await this.store.update(r.id, v, r, { events });
      this.events.push(...events);
      return true;
    } catch (e) {
      if (e instanceof ConcurrencyError) return false;
      throw e;
    }
  }
  async list(siteId: string, after: { createdAt: string; id: string } | undefined, limit: number): Promise<ImportRecord[]> {
    const key = (r: ImportRecord) => `${r.createdAt ?? ''}|${r.id}`;
    const rows = (await this.store.find((r) => r.siteId === siteId)).map((r) => r.data).sort((a, b) => (key(a) < key(b) ? 1 : -1));
    return rows.filter((r) => !after || key(r) < `${after.createdAt}|${after.id}`).slice(0, limit);
  }
}

/** A change log fed by hand: `push` appends an event; `follow` replays then waits for more. */
export class InMemoryFeed implements HostChangeFeed {
  readonly log: HostChange[] = [];
  private waiters: (() => void)[] = [];
  push(event: Envelope): number {
    this.log.push({ revision: this.log.length + 1, event });
    for (const w of this.waiters.splice(0)) w();
    return this.log.length;
  }
  async lastRevision(): Promise<number> {
    return this.log.length;
  }
  async follow(siteId: string, from: number, signal: AbortSignal, onChange: (c: HostChange) => Promise<void> | void): Promise<void> {
    let next = from;
    while (!signal.aborted) {
      const c = this.log[next];
      if (c) {
        next++;
        if (c.event.site === siteId) await onChange(c);
        continue;
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }
}

export class InMemoryRecords<T extends { readonly id: string; readonly siteId: string }> implements SiteRecordRepository<T> {
  readonly store: InMemoryAggregateStore<{ record: T; deleted: boolean }>;
  readonly events: Envelope[] = [];
  constructor(kind: string) {
    this.store = new InMemoryAggregateStore(kind);
  }
  async get(id: string): Promise<StoredRecord<T> | null> {
    const r = await this.store.get(id);
    return r ? { data: r.data.record, version: r.version, deleted: r.data.deleted } : null;
  }
  async create(record: T, events: readonly Envelope[]): Promise<void> {
    await this.store.create(record.id, { record, deleted: false }, { events });
    this.events.push(...events);
  }
  async update(record: T, v: number, events: readonly Envelope[], deleted: boolean): Promise<Write> {
    const w = await this.store.update(record.id, v, { record, deleted }, { events });
    this.events.push(...events);
    return w;
  }
  async list(siteId: string, after: string | undefined, limit?: number): Promise<StoredRecord<T>[]> {
    const rows = await this.store.find((d, id) => d.record.siteId === siteId && !d.deleted && (after === undefined || id > after));
    return rows.slice(0, limit ?? rows.length).map((r) => ({ data: r.data.record, version: r.version, deleted: false }));
  }
  eventsOfType(type: string): Envelope[] {
    return this.events.filter((e) => e.type === type);
  }
}

export class InMemoryGroups extends InMemoryRecords<GroupData> {
  constructor() {
    super('group');
  }
}
