import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlreadyExistsError, ConcurrencyError } from '@stackyard/errors';
import { Events, newEvent } from '@stackyard/events';
import { AggregateStore, connectMongo, type MongoConnection } from '@stackyard/mongo';
import { mongoUrl, uniquePrefix } from '@stackyard/testing';
import type { GroupData } from '../../domain/group';
import { MongoRecordRepository, type RecordDoc } from './repositories';

// Group and deployment records against the run's real MongoDB-wire server (FerretDB on SQLite, or MONGO_URL).
const group = (name: string, patch: Partial<GroupData> = {}): GroupData => ({ id: `dc1-${name}`, siteId: 'dc1', name, description: '', children: [], vars: {}, ...patch });
const created = (g: GroupData) => newEvent({ type: Events.GroupCreated, site: g.siteId, entityId: g.id, service: 'inventory', data: { group: { ...g, version: 1, hosts: [] } } });

describe('MongoRecordRepository on a MongoDB-wire server', () => {
  let conn: MongoConnection;
  let repo: MongoRecordRepository<GroupData>;
  let store: AggregateStore<RecordDoc<GroupData>>;

  beforeAll(async () => {
    conn = await connectMongo(mongoUrl());
    store = new AggregateStore<RecordDoc<GroupData>>(conn.db(uniquePrefix('records')), 'groups', 'group', undefined, MongoRecordRepository.storeOptions);
    await store.ensureIndexes();
    repo = new MongoRecordRepository<GroupData>(store);
  });
  afterAll(async () => conn.close());

  it('creates, reads back, versions, lists a site by id without tombstones, and keeps the outbox', async () => {
    const storage = group('storage', { children: ['storage-ssd'], vars: { ceph_osd_count: '4', kolla_admin_password: '{{ vault_admin }}' } });
    await repo.create(group('storage-ssd'), [created(group('storage-ssd'))]);
    await repo.create(storage, [created(storage)]);
    await repo.create(group('compute', { siteId: 'dc2', id: 'dc2-compute' }), []);
    expect(await repo.get('dc1-storage')).toEqual({ data: storage, version: 1, deleted: false });
    expect(await repo.get('dc1-nope')).toBeNull();
    await expect(repo.create(storage, [])).rejects.toBeInstanceOf(AlreadyExistsError);

    const changed = { ...storage, vars: { ceph_osd_count: '6' } };
    expect(await repo.update(changed, 1, [], false)).toEqual({ outcome: 'written', version: 2 });
    await expect(repo.update(changed, 1, [], false)).rejects.toBeInstanceOf(ConcurrencyError);
    expect((await repo.list('dc1', undefined)).map((g) => [g.data.name, g.version])).toEqual([['storage', 2], ['storage-ssd', 1]]);
    expect((await repo.list('dc1', 'dc1-storage')).map((g) => g.data.name)).toEqual(['storage-ssd']);

    await repo.update(changed, 2, [], true);
    expect(await repo.get('dc1-storage')).toMatchObject({ version: 3, deleted: true });
    expect((await repo.list('dc1', undefined)).map((g) => g.data.name)).toEqual(['storage-ssd']);
    expect((await store.pending(10)).map((r) => r.aggId).sort()).toEqual(['dc1-storage', 'dc1-storage-ssd']);
  });

  it('one winner among concurrent writers of the same version', async () => {
    await repo.create(group('race'), []);
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => repo.update(group('race', { description: `w${i}` }), 1, [], false)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof ConcurrencyError)).toBe(true);
    expect((await repo.get('dc1-race'))?.version).toBe(2);
  });
});
