import type { Envelope } from '@stackyard/events';
import type { AggregateStore } from '@stackyard/mongo';
import type { NodeDeploymentData, NodeDeploymentRepository, Write } from '../../application/ports';

type Doc = NodeDeploymentData & Record<string, unknown>;

export class MongoNodeDeploymentRepository implements NodeDeploymentRepository {
  constructor(private readonly store: AggregateStore<Doc>) {}
  get(hostId: string) {
    return this.store.get(hostId);
  }
  save(d: NodeDeploymentData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return version === undefined
      ? this.store.create(d.host.hostId, { ...d }, { events, appliedKey })
      : this.store.update(d.host.hostId, version, { ...d }, { events, appliedKey });
  }
}
