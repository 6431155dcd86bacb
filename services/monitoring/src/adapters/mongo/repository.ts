import type { Filter } from 'mongodb';
import type { Envelope } from '@stackyard/events';
import type { AggregateDoc, AggregateStore } from '@stackyard/mongo';
import type { ProgressRepository, Write } from '../../application/ports';
import type { ProgressData } from '../../domain/progress';

type Doc = ProgressData & Record<string, unknown>;

export class MongoProgressRepository implements ProgressRepository {
  constructor(private readonly store: AggregateStore<Doc>) {}
  get(hostId: string) {
    return this.store.get(hostId);
  }
  save(p: ProgressData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return version === undefined
      ? this.store.create(p.host.hostId, { ...p }, { events, appliedKey })
      : this.store.update(p.host.hostId, version, { ...p }, { events, appliedKey });
  }
  list(siteId: string | undefined) {
    return this.store.find((siteId ? { 'data.host.siteId': siteId } : {}) as Filter<AggregateDoc<Doc>>, { sort: { _id: 1 } });
  }
  async changedSince(siteId: string, since: Date) {
    const docs = await this.store.collection
      .find({ 'data.host.siteId': siteId, updatedAt: { $gte: since } } as Filter<AggregateDoc<Doc>>, { projection: { outbox: 0, applied: 0 } })
      .sort({ updatedAt: 1 })
      .toArray();
    return docs.map((d) => ({ data: d.data as ProgressData, version: d.version, updatedAt: d.updatedAt }));
  }
}
