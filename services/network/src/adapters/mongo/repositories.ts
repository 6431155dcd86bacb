import type { Collection, Db, Filter } from 'mongodb';
import type { Envelope } from '@stackyard/events';
import { isDuplicateKey, type AggregateDoc, type AggregateStore } from '@stackyard/mongo';
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
    const rows = await this.store.find({ 'data.siteId': siteId } as Filter<AggregateDoc<NetDoc>>, { sort: { aggId: 1 } });
    return rows.map((r) => r.data);
  }
}

interface AllocationDoc {
  siteId: string;
  network: string;
  hostId: string;
  address: number;
  createdAt: Date;
}

export class MongoAllocationRepository implements AllocationRepository {
  private readonly col: Collection<AllocationDoc>;
  constructor(db: Db) {
    this.col = db.collection<AllocationDoc>('allocations');
  }
  async ensureIndexes(): Promise<void> {
    await this.col.createIndex({ siteId: 1, network: 1, address: 1 }, { unique: true, name: 'address_unique' });
    await this.col.createIndex({ siteId: 1, network: 1, hostId: 1 }, { unique: true, name: 'host_unique' });
    await this.col.createIndex({ hostId: 1 });
  }
  async forHost(siteId: string, network: string, hostId: string) {
    return this.col.findOne({ siteId, network, hostId }, { projection: { _id: 0 } });
  }
  async taken(siteId: string, network: string) {
    const rows = await this.col.find({ siteId, network }, { projection: { _id: 0, address: 1 } }).toArray();
    return new Set(rows.map((r) => r.address));
  }
  async claim(a: AllocationRecord) {
    try {
      await this.col.insertOne({ ...a, createdAt: new Date() });
      return 'claimed' as const;
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      const mine = await this.forHost(a.siteId, a.network, a.hostId);
      return mine ? ('host-has-one' as const) : ('address-taken' as const);
    }
  }
  async releaseHost(siteId: string, hostId: string) {
    return (await this.col.deleteMany({ siteId, hostId })).deletedCount;
  }
  async listHost(hostId: string) {
    return this.col.find({ hostId }, { projection: { _id: 0, createdAt: 0 } }).toArray();
  }
}

type CfgDoc = HostConfigData & Record<string, unknown>;

export class MongoHostConfigRepository implements HostConfigRepository {
  constructor(private readonly store: AggregateStore<CfgDoc>) {}
  get(hostId: string) {
    return this.store.get(hostId);
  }
  save(cfg: HostConfigData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    const id = cfg.host.hostId;
    return version === undefined
      ? this.store.create(id, { ...cfg }, { events, appliedKey })
      : this.store.update(id, version, { ...cfg }, { events, appliedKey });
  }
}
