import type { Collection, Db, Filter } from 'mongodb';
import type { Envelope } from '@stackyard/events';
import { HOST_SITE_KEY, isDuplicateKey, LISTING_BATCH, SITE_KEY, type AggregateDoc, type AggregateStore, type StoreOptions } from '@stackyard/mongo';
import type {
  AllocationRecord,
  AllocationRepository,
  HostConfigData,
  HostConfigRepository,
  NetworkRepository,
  Write,
} from '../../application/ports';
import { networkId, type NetworkData } from '../../domain/network';

type NetDoc = NetworkData & Record<string, unknown>;

export class MongoNetworkRepository implements NetworkRepository {
  /** `site` (top-level, indexed): the network's site id, which FerretDB can push down. */
  static readonly storeOptions: StoreOptions<NetDoc> = SITE_KEY;
  constructor(private readonly store: AggregateStore<NetDoc>) {}
  get(siteId: string, name: string) {
    return this.store.get(networkId(siteId, name));
  }
  async put(n: NetworkData): Promise<number> {
    const id = networkId(n.siteId, n.name);
    for (;;) {
      const cur = await this.store.get(id);
      try {
        const w = cur ? await this.store.update(id, cur.version, { ...n }) : await this.store.create(id, { ...n });
        if (w.outcome === 'written') return w.version;
      } catch (e) {
        if ((e as { reason?: string }).reason !== 'ConcurrentModification' && (e as { reason?: string }).reason !== 'AlreadyExists') throw e;
      }
    }
  }
  async list(siteId: string): Promise<NetworkData[]> {
    const rows = await this.store.find({ site: siteId } as Filter<AggregateDoc<NetDoc>>, { sort: { aggId: 1 } });
    return rows.map((r) => r.data);
  }
}

interface AllocationDoc {
  siteId: string;
  network: string;
  hostId: string;
  address: number;
  hostName?: string;
  createdAt: Date;
}

/**
 * Allocations with two unique indexes (address per network, host per network): claims are atomic on
 * any MongoDB-wire server. Reads go through a per-network cache (one scan, then kept up to date by
 * this replica's claims and conflicts, refreshed every `refreshMs`), because FerretDB answers
 * non-_id filters by scanning the collection.
 */
export class MongoAllocationRepository implements AllocationRepository {
  private readonly col: Collection<AllocationDoc>;
  private readonly cache = new Map<string, { at: number; taken: Set<number>; byHost: Map<string, number> }>();
  /** `<siteId>/<network>/<address>` of this replica's claims in flight. */
  private readonly claiming = new Set<string>();
  private readonly loading = new Map<string, Promise<{ at: number; taken: Set<number>; byHost: Map<string, number> }>>();

  constructor(
    db: Db,
    private readonly refreshMs = 30_000,
  ) {
    this.col = db.collection<AllocationDoc>('allocations');
  }
  async ensureIndexes(): Promise<void> {
    await this.col.createIndex({ siteId: 1, network: 1, address: 1 }, { unique: true, name: 'address_unique' });
    await this.col.createIndex({ siteId: 1, network: 1, hostId: 1 }, { unique: true, name: 'host_unique' });
    await this.col.createIndex({ hostId: 1 });
  }
  private async view(siteId: string, network: string) {
    const key = `${siteId}/${network}`;
    const c = this.cache.get(key);
    if (c && Date.now() - c.at < this.refreshMs) return c;
    // One reload per network at a time: when the view expired, every allocation in flight (64 at
    // 1,000 nodes) asked for the same listing at once, and that many multi-batch cursors held every
    // connection of FerretDB's PostgreSQL pool, which hung the services (docs/performance.md).
    let loading = this.loading.get(key);
    if (!loading) {
      loading = this.load(siteId, network).finally(() => this.loading.delete(key));
      this.loading.set(key, loading);
    }
    return loading;
  }
  private async load(siteId: string, network: string) {
    const rows = await this.col.find({ siteId, network }, { projection: { _id: 0, address: 1, hostId: 1 }, batchSize: LISTING_BATCH }).toArray();
    const fresh = { at: Date.now(), taken: new Set(rows.map((r) => r.address)), byHost: new Map(rows.map((r) => [r.hostId, r.address])) };
    // A claim made while the listing ran may be missing from it: a later claim of that address
    // fails on the unique index and picks another (the index decides, the view only saves inserts).
    this.cache.set(`${siteId}/${network}`, fresh);
    return fresh;
  }
  async forHost(siteId: string, network: string, hostId: string) {
    const address = (await this.view(siteId, network)).byHost.get(hostId);
    if (address !== undefined) return { siteId, network, hostId, address };
    return null;
  }
  async taken(siteId: string, network: string) {
    const v = await this.view(siteId, network);
    const key = `${siteId}/${network}`;
    return new Set([...v.taken, ...[...this.claiming].filter((k) => k.startsWith(`${key}/`)).map((k) => Number(k.slice(key.length + 1)))]);
  }
  async claim(a: AllocationRecord) {
    // This replica's own concurrent claims of one address (every allocation in flight picks the
    // lowest free one) are settled here without a doomed insert; the unique indexes still settle
    // claims between replicas.
    const claimKey = `${a.siteId}/${a.network}/${a.address}`;
    if (this.claiming.has(claimKey)) return 'address-taken' as const;
    this.claiming.add(claimKey);
    try {
      return await this.insertClaim(a);
    } finally {
      this.claiming.delete(claimKey);
    }
  }
  private async insertClaim(a: AllocationRecord) {
    const v = await this.view(a.siteId, a.network);
    try {
      await this.col.insertOne({ ...a, createdAt: new Date() });
      v.taken.add(a.address);
      v.byHost.set(a.hostId, a.address);
      return 'claimed' as const;
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      // Another replica got there first: learn what it holds.
      const mine = await this.col.findOne({ siteId: a.siteId, network: a.network, hostId: a.hostId }, { projection: { _id: 0, address: 1 } });
      if (mine) {
        v.byHost.set(a.hostId, mine.address);
        v.taken.add(mine.address);
        return 'host-has-one' as const;
      }
      v.taken.add(a.address);
      return 'address-taken' as const;
    }
  }
  async releaseHost(siteId: string, hostId: string) {
    const n = (await this.col.deleteMany({ siteId, hostId })).deletedCount;
    for (const [key, v] of this.cache) {
      if (!key.startsWith(`${siteId}/`)) continue;
      const address = v.byHost.get(hostId);
      if (address !== undefined) {
        v.byHost.delete(hostId);
        v.taken.delete(address);
      }
    }
    return n;
  }
  async listHost(hostId: string) {
    return this.col.find({ hostId }, { projection: { _id: 0, createdAt: 0 }, batchSize: LISTING_BATCH }).toArray();
  }
  async listSite(siteId: string) {
    return this.col.find({ siteId }, { projection: { _id: 0, createdAt: 0 }, sort: { network: 1, address: 1 }, batchSize: LISTING_BATCH }).toArray();
  }
  async remove(a: AllocationRecord) {
    await this.col.deleteOne({ siteId: a.siteId, network: a.network, hostId: a.hostId, address: a.address });
    this.cache.delete(`${a.siteId}/${a.network}`);
  }
}

type CfgDoc = HostConfigData & Record<string, unknown>;

export class MongoHostConfigRepository implements HostConfigRepository {
  /** `site` (top-level, indexed): the host's site id, which FerretDB can push down. */
  static readonly storeOptions: StoreOptions<CfgDoc> = HOST_SITE_KEY;
  constructor(private readonly store: AggregateStore<CfgDoc>) {}
  get(hostId: string) {
    return this.store.get(hostId);
  }
  async listSite(siteId: string): Promise<HostConfigData[]> {
    const rows = await this.store.find({ site: siteId } as Filter<AggregateDoc<CfgDoc>>, { sort: { aggId: 1 } });
    return rows.map((r) => r.data);
  }
  save(cfg: HostConfigData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return this.store.save(cfg.host.hostId, version, { ...cfg }, { events, appliedKey });
  }
}
