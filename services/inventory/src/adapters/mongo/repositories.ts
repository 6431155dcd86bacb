import type { Filter } from 'mongodb';
import type { Envelope } from '@stackyard/events';
import type { AggregateDoc, AggregateStore } from '@stackyard/mongo';
import type { Host } from '@stackyard/proto/inventory/v1/inventory';
import type { HostRepository, SiteRepository, Write } from '../../application/ports';
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

export class MongoHostRepository implements HostRepository {
  constructor(private readonly store: AggregateStore<Host & Record<string, unknown>>) {}
  get(id: string) {
    return this.store.get(id);
  }
  async create(host: Host, events: readonly Envelope[]): Promise<void> {
    await this.store.create(host.id, { ...host }, { events });
  }
  update(host: Host, expectedVersion: number, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return this.store.update(host.id, expectedVersion, { ...host }, { events, appliedKey });
  }
  async list(filter: { siteId?: string; group?: string }, after: string | undefined, limit: number): Promise<Host[]> {
    const f: Record<string, unknown> = {};
    if (filter.siteId) f['data.siteId'] = filter.siteId;
    if (filter.group) f['data.groups'] = filter.group;
    if (after) f['aggId'] = { $gt: after };
    const rows = await this.store.find(f as Filter<AggregateDoc<Host & Record<string, unknown>>>, { sort: { aggId: 1 }, limit });
    return rows.map((r) => ({ ...r.data, version: r.version }));
  }
}
