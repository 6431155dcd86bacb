import type { Filter } from 'mongodb';
import { AlreadyExistsError, ConcurrencyError } from '@stackyard/errors';
import type { Envelope } from '@stackyard/events';
import type { AggregateDoc, AggregateStore } from '@stackyard/mongo';
import type { Host } from '@stackyard/proto/inventory/v1/inventory';
import type { HostRepository, ImportRepository, SiteRepository, StoredHost, Write } from '../../application/ports';
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
 * `stackyard.io/imported-from` contain "." which FerretDB rejects in document keys; and the
 * `registered` flag (false while only recorded by an import).
 */
export type HostDoc = Omit<Host, 'labels'> & {
  labels: { key: string; value: string }[] | Record<string, string>;
  registered?: boolean;
} & Record<string, unknown>;

function toDoc(host: Host, registered: boolean): HostDoc {
  return { ...host, labels: Object.entries(host.labels).map(([key, value]) => ({ key, value })), registered };
}

function fromDoc(d: HostDoc): Host {
  const { registered: _r, labels, ...rest } = d;
  // Hosts stored before labels were pairs keep a plain map.
  const map = Array.isArray(labels) ? Object.fromEntries(labels.map((l) => [l.key, l.value])) : { ...labels };
  return { ...(rest as unknown as Omit<Host, 'labels'>), labels: map };
}

export class MongoHostRepository implements HostRepository {
  constructor(private readonly store: AggregateStore<HostDoc>) {}
  async get(id: string): Promise<StoredHost | null> {
    const r = await this.store.get(id);
    return r ? { data: fromDoc(r.data), version: r.version, registered: r.data.registered !== false } : null;
  }
  async create(host: Host, events: readonly Envelope[], registered = true): Promise<void> {
    await this.store.create(host.id, toDoc(host, registered), { events });
  }
  async update(host: Host, expectedVersion: number, events: readonly Envelope[], appliedKey: string, registered?: boolean): Promise<Write> {
    // Updates other than registration (hardware facts) only happen to registered hosts.
    return this.store.update(host.id, expectedVersion, toDoc(host, registered ?? true), { events, appliedKey });
  }
  async list(filter: { siteId?: string; group?: string }, after: string | undefined, limit: number): Promise<Host[]> {
    const f: Record<string, unknown> = {};
    if (filter.siteId) f['data.siteId'] = filter.siteId;
    if (filter.group) f['data.groups'] = filter.group;
    if (after) f['aggId'] = { $gt: after };
    const rows = await this.store.find(f as Filter<AggregateDoc<HostDoc>>, { sort: { aggId: 1 }, limit });
    return rows.map((r) => ({ ...fromDoc(r.data), version: r.version }));
  }
}

/** Import documents: one aggregate per import; inserting version 1 commits the import. */
export class MongoImportRepository implements ImportRepository {
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
  async update(record: ImportRecord, expectedVersion: number): Promise<boolean> {
    try {
      await this.store.update(record.id, expectedVersion, { ...record });
      return true;
    } catch (e) {
      if (e instanceof ConcurrencyError) return false;
      throw e;
    }
  }
}
