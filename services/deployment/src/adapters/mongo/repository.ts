import type { Envelope } from '@stackyard/events';
import { ConcurrencyError } from '@stackyard/errors';
import { HOST_SITE_KEY, type AggregateStore, type StoreOptions } from '@stackyard/mongo';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type {
  HostConfigurationRecord,
  HostConfigurationRepository,
  NodeDeploymentData,
  NodeDeploymentRepository,
  SiteControllerRepository,
  SiteDeploymentData,
  SiteDeploymentRepository,
  SiteRolloutData,
  SiteRolloutRepository,
  Write,
} from '../../application/ports';

type Doc = NodeDeploymentData & Record<string, unknown>;
type SiteDoc = SiteDeploymentData & Record<string, unknown>;
type ControllerDoc = { host: HostRef } & Record<string, unknown>;
type RolloutDoc = SiteRolloutData & Record<string, unknown>;


export class MongoNodeDeploymentRepository implements NodeDeploymentRepository {
  /** `site` for listings; 10 s write-time buckets for host preparation's view of a site (`changedSince`). */
  static readonly storeOptions: StoreOptions<Doc> = { ...(HOST_SITE_KEY as StoreOptions<Doc>), changeBucketMs: 10_000 };
  constructor(private readonly store: AggregateStore<Doc>) {}
  get(hostId: string) {
    return this.store.get(hostId);
  }
  async listBySite(siteId: string): Promise<NodeDeploymentData[]> {
    const docs = await this.store.find({ site: siteId }, { sort: { aggId: 1 } });
    return docs.map((d) => d.data);
  }
  async anyUnfinished(siteId: string): Promise<boolean> {
    const docs = await this.store.find({ site: siteId, 'data.state': { $nin: ['deployed', 'removed'] } }, { limit: 1 });
    return docs.length > 0;
  }
  async changedSince(siteId: string, since: Date): Promise<NodeDeploymentData[]> {
    return (await this.store.changedSince({ site: siteId }, since)).map((d) => d.data);
  }
  async listDeployed(): Promise<{ data: NodeDeploymentData; version: number }[]> {
    const docs = await this.store.find({ 'data.state': 'deployed' }, { sort: { aggId: 1 } });
    return docs.map((d) => ({ data: d.data, version: d.version }));
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

/** `site_controllers`: one aggregate per registered controller host id (from HostRegistered). */
export class MongoSiteControllerRepository implements SiteControllerRepository {
  static readonly storeOptions = HOST_SITE_KEY as StoreOptions<ControllerDoc>;
  constructor(private readonly store: AggregateStore<ControllerDoc>) {}
  /** Create first (one insert where a lookup and an insert were): a host recorded before is a conflict, i.e. `duplicate`. */
  async record(host: HostRef, appliedKey: string): Promise<'applied' | 'duplicate'> {
    try {
      const w = await this.store.create(host.hostId, { host }, { appliedKey });
      return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
    } catch (e) {
      if (e instanceof ConcurrencyError) return 'duplicate';
      throw e;
    }
  }
  async listBySite(siteId: string): Promise<HostRef[]> {
    const docs = await this.store.find({ site: siteId }, { sort: { aggId: 1 } });
    return docs.map((d) => d.data.host);
  }
}

/** `site_rollouts`: one aggregate per site id (the released control plane, the SiteServicesDeployed generation). */
export class MongoSiteRolloutRepository implements SiteRolloutRepository {
  constructor(private readonly store: AggregateStore<RolloutDoc>) {}
  get(siteId: string) {
    return this.store.get(siteId);
  }
  save(d: SiteRolloutData, version: number | undefined, events: readonly Envelope[]): Promise<Write> {
    return this.store.save(d.siteId, version, { ...d }, { events });
  }
}

type HostConfigDoc = HostConfigurationRecord & Record<string, unknown>;

/** `host_configurations`: one aggregate per host id (the imported host configuration, ../../application/host-configurations.ts). */
export class MongoHostConfigurationRepository implements HostConfigurationRepository {
  constructor(private readonly store: AggregateStore<HostConfigDoc>) {}
  get(hostId: string) {
    return this.store.get(hostId);
  }
  save(r: HostConfigurationRecord, version: number | undefined, appliedKey: string): Promise<Write> {
    return this.store.save(r.hostId, version, { ...r }, { appliedKey });
  }
}
