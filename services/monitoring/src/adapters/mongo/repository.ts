import type { Filter } from 'mongodb';
import type { Envelope } from '@stackyard/events';
import { HOST_SITE_KEY, type AggregateDoc, type AggregateStore, type StoreOptions } from '@stackyard/mongo';
import type { ProgressRepository, Write } from '../../application/ports';
import type { ProgressData } from '../../domain/progress';

type Doc = ProgressData & Record<string, unknown>;

export class MongoProgressRepository implements ProgressRepository {
  /**
   * `site` (top-level, indexed): the host's site id, which FerretDB can push down (`data.host.siteId`
   * it filters in Go). The projection remembers the latest progress of up to 20,000 nodes for
   * `get(id, { cached: true })`: applying a fact is a pure write (a stale read conflicts there).
   * Revisions carry 10 s write-time buckets, so a watch's reconcile reads what changed since its
   * last one, not the whole site (`changedSince`).
   */
  static readonly storeOptions: StoreOptions<Doc> = { ...HOST_SITE_KEY, cacheLatest: 20_000, changeBucketMs: 10_000 };
  constructor(private readonly store: AggregateStore<Doc>) {}
  get(hostId: string, opts: { cached?: boolean } = {}) {
    return this.store.get(hostId, opts);
  }
  save(p: ProgressData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return this.store.save(p.host.hostId, version, { ...p }, { events, appliedKey });
  }
  list(siteId: string | undefined) {
    return this.store.find((siteId ? { site: siteId } : {}) as Filter<AggregateDoc<Doc>>, { sort: { aggId: 1 } });
  }
  changedSince(siteId: string, since: Date) {
    return this.store.changedSince({ site: siteId }, since);
  }
}
