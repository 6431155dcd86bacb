import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, type MongoConnection } from '@stackyard/mongo';
import { mongoUrl, uniquePrefix } from '@stackyard/testing';
import type { NetworkData } from '../../domain/network';
import { formatIp, parseIp } from '../../domain/ipv4';
import { NetworkService } from '../../application/network';
import { MongoAllocationRepository } from './repositories';

// Runs against the real MongoDB-wire server of the test run (FerretDB, or MONGO_URL).
const NET: NetworkData = {
  siteId: 'dc1',
  name: 'provision_oc',
  cidr: '10.0.0.0/24',
  gateway: '10.0.0.1',
  allocationPoolStart: '10.0.0.10',
  allocationPoolEnd: '10.0.0.200',
  vlan: 0,
  mtu: 1500,
  groups: ['compute'],
  interface: '{nic0}',
};

describe('MongoAllocationRepository with NetworkService.allocate', () => {
  let conn: MongoConnection;
  let replicas: MongoAllocationRepository[];
  let services: NetworkService[];

  beforeAll(async () => {
    conn = await connectMongo(mongoUrl());
    const db = conn.db(uniquePrefix('alloc'));
    // Two replicas of the service sharing one database; only allocate() is exercised.
    replicas = [new MongoAllocationRepository(db), new MongoAllocationRepository(db)];
    await replicas[0]!.ensureIndexes();
    services = replicas.map((r) => new NetworkService({} as never, r, {} as never, {} as never, '50-kayobe-'));
  });
  afterAll(async () => conn.close());

  it('Given 40 hosts allocating at once on two replicas, then no two share an address and they hold the 40 lowest', async () => {
    const hosts = Array.from({ length: 40 }, (_, i) => `h${i}`);

    const got = await Promise.all(hosts.map((h, i) => services[i % 2]!.allocate(NET, h)));

    expect(new Set(got).size).toBe(40);
    expect([...got].sort((a, b) => parseIp(a)! - parseIp(b)!)).toEqual(Array.from({ length: 40 }, (_, i) => `10.0.0.${10 + i}`));
    const rows = await replicas[0]!.listSite('dc1');
    expect(rows).toHaveLength(40);
    for (const r of rows) expect(got[hosts.indexOf(r.hostId)]).toBe(formatIp(r.address));
  });

  it('Given the same host allocating twice at once on one replica, then both calls get its one address', async () => {
    const [a, b] = await Promise.all([services[0]!.allocate(NET, 'twice'), services[0]!.allocate(NET, 'twice')]);

    expect(a).toBe(b);
    expect((await replicas[1]!.listHost('twice')).map((r) => formatIp(r.address))).toEqual([a]);
  });
});
