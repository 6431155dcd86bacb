import type { Envelope } from '@stackyard/events';
import type { AggregateStore } from '@stackyard/mongo';
import type { NodeDeploymentData, NodeDeploymentRepository, SiteDeploymentData, SiteDeploymentRepository, Write } from '../../application/ports';

type Doc = NodeDeploymentData & Record<string, unknown>;
type SiteDoc = SiteDeploymentData & Record<string, unknown>;

export class MongoNodeDeploymentRepository implements NodeDeploymentRepository {
  constructor(private readonly store: AggregateStore<Doc>) {}
  get(hostId: string) {
    return this.store.get(hostId);
  }
  async listBySite(siteId: string): Promise<NodeDeploymentData[]> {
    const docs = await this.store.find({ 'data.host.siteId': siteId }, { sort: { aggId: 1 } });
    return docs.map((d) => d.data);
  }
  save(d: NodeDeploymentData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return this.store.save(d.host.hostId, version, { ...d }, { events, appliedKey });
  }
}

/** `site_deployments`: one aggregate per site id (last applied inputs, release, last operation). */
export class MongoSiteDeploymentRepository implements SiteDeploymentRepository {
  constructor(private readonly store: AggregateStore<SiteDoc>) {}
  get(siteId: string) {
    return this.store.get(siteId);
  }
  save(d: SiteDeploymentData, version: number | undefined): Promise<Write> {
    return this.store.save(d.siteId, version, { ...d });
  }
}
