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
    return this.store.save(p.host.hostId, version, { ...p }, { events, appliedKey });
  }
  list(siteId: string | undefined) {
    return this.store.find((siteId ? { 'data.host.siteId': siteId } : {}) as Filter<AggregateDoc<Doc>>, { sort: { aggId: 1 } });
  }
  changedSince(siteId: string, since: Date) {
    return this.store.find({ 'data.host.siteId': siteId, updatedAt: { $gte: since } }, { sort: { updatedAt: 1 } });
  }
}
