import type { Filter } from 'mongodb';
import type { Envelope } from '@stackyard/events';
import { HOST_SITE_KEY, type AggregateDoc, type AggregateStore, type StoreOptions } from '@stackyard/mongo';
import type { NodeRepository, Write } from '../../application/ports';
import type { NodeData } from '../../domain/node';

type Doc = NodeData & Record<string, unknown>;

export class MongoNodeRepository implements NodeRepository {
  /** `site` (top-level, indexed): the host's site id, which FerretDB can push down (`data.host.siteId` it filters in Go). */
  static readonly storeOptions: StoreOptions<Doc> = HOST_SITE_KEY;
  constructor(private readonly store: AggregateStore<Doc>) {}
  get(id: string) {
    return this.store.get(id);
  }
  create(id: string, node: NodeData, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return this.store.create(id, { ...node }, { events, appliedKey });
  }
  update(id: string, node: NodeData, expectedVersion: number, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return this.store.update(id, expectedVersion, { ...node }, { events, appliedKey });
  }
  list(filter: { siteId?: string; state?: string }) {
    const f: Record<string, unknown> = {};
    if (filter.siteId) f['site'] = filter.siteId;
    if (filter.state) f['data.state'] = filter.state;
    return this.store.find(f as Filter<AggregateDoc<Doc>>, { sort: { aggId: 1 } });
  }
}
