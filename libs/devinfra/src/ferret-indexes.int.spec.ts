import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultFerretBackend, psql, startFerretDb, type LocalServer } from './index';

/**
 * The PostgreSQL indexes of one FerretDB collection (a table `<collection>_<hash>` in the schema
 * of its database, in the private PostgreSQL database).
 */
async function pgIndexes(pgDb: string, schema: string, collection: string): Promise<{ name: string; method: string; expr: string; unique: boolean }[]> {
  return (await psql(`SELECT indexdef FROM pg_indexes WHERE schemaname = '${schema}' AND tablename LIKE '${collection}\\_%'`, pgDb))
    .split('\n')
    .filter(Boolean)
    .map((def) => ({
      name: /INDEX (\S+) ON/.exec(def)![1]!,
      method: /USING (\w+)/.exec(def)![1]!,
      expr: /USING \w+ \((.*)\)$/.exec(def)![1]!,
      unique: def.startsWith('CREATE UNIQUE'),
    }));
}

describe('FerretDB on PostgreSQL: GIN twins of its btree indexes', () => {
  let ferret: LocalServer | undefined;
  let client: MongoClient;

  // The trigger exists for FerretDB's PostgreSQL backend; without a local PostgreSQL (FerretDB on
  // SQLite) there is nothing to check.
  beforeAll(async () => {
    if ((await defaultFerretBackend()) !== 'postgresql') return;
    ferret = await startFerretDb({ backend: 'postgresql' });
    client = await MongoClient.connect(ferret.url);
  }, 60_000);
  beforeEach((ctx) => {
    if (!ferret) ctx.skip();
  });
  afterAll(async () => {
    await client?.close();
    await ferret?.stop();
  });

  it('twins the first key of every index with one GIN index, and keeps the btrees', async () => {
    const c = client.db('gin_test').collection('revisions');
    await c.createIndex({ aggId: 1, version: -1 }, { unique: true, name: 'agg_version' });
    await c.createIndex({ site: 1, latest: 1 }, { name: 'idx_site' });
    await c.createIndex({ cur: 1 }, { name: 'current' });
    const idx = await pgIndexes(ferret!.postgresDb!, 'gin_test', 'revisions');
    const has = (method: string, field: string, unique = false) => idx.some((i) => i.method === method && i.unique === unique && i.expr.startsWith(`((_jsonb -> '${field}'::text))`));
    // _id: FerretDB's own unique btree, and its twin.
    expect(has('btree', '_id', true)).toBe(true);
    expect(has('gin', '_id')).toBe(true);
    // A unique index keeps its btree (it enforces the uniqueness) and gets a twin of its first key.
    expect(has('btree', 'aggId', true)).toBe(true);
    expect(has('gin', 'aggId')).toBe(true);
    expect(has('btree', 'site')).toBe(true);
    expect(has('gin', 'site')).toBe(true);
    expect(has('btree', 'cur')).toBe(true);
    expect(has('gin', 'cur')).toBe(true);
    // First keys only, once per expression: no twin of `version` or `latest`.
    expect(idx.filter((i) => i.method === 'gin')).toHaveLength(4);
    expect(idx.some((i) => i.method === 'gin' && (i.expr.includes("'latest'") || i.expr.includes("'version'")))).toBe(false);
    // FerretDB's metadata lists every index, as MongoDB would.
    expect((await c.listIndexes().toArray()).map((i) => i.name as string).sort()).toEqual(['_id_', 'agg_version', 'current', 'idx_site']);
  });

  it('enforces unique indexes and finds documents through the GIN twins', async () => {
    const c = client.db('gin_test').collection<{ _id: string; aggId: string; version: number; site: string; cur?: string; latest: boolean }>('enforced');
    await c.createIndex({ aggId: 1, version: -1 }, { unique: true, name: 'agg_version' });
    await c.createIndex({ site: 1, latest: 1 }, { name: 'idx_site' });
    await c.insertMany([
      { _id: 'a@1', aggId: 'a', version: 1, site: 's1', latest: false },
      { _id: 'a@2', aggId: 'a', version: 2, site: 's1', cur: 'a', latest: true },
      { _id: 'b@1', aggId: 'b', version: 1, site: 's2', cur: 'b', latest: true },
    ]);
    await expect(c.insertOne({ _id: 'a@2bis', aggId: 'a', version: 2, site: 's1', latest: false })).rejects.toThrow(/duplicate key/i);
    expect((await c.find({ site: 's1', latest: true }).toArray()).map((d) => d._id)).toEqual(['a@2']);
    expect((await c.find({ cur: 'b' }).toArray()).map((d) => d._id)).toEqual(['b@1']);
    // Creating the same indexes again (every service start does) is a no-op, not an error.
    await c.createIndex({ site: 1, latest: 1 }, { name: 'idx_site' });
    expect(await c.countDocuments({ site: 's1' })).toBe(2);
    // What the trigger is for: once PostgreSQL has statistics (autovacuum's ANALYZE), an equality
    // filter is a scan of the GIN twin, not a sequential scan of the table.
    await c.insertMany(Array.from({ length: 3000 }, (_, i) => ({ _id: `x${i}@1`, aggId: `x${i}`, version: 1, site: `s${i % 7}`, cur: `x${i}`, latest: true })));
    await psql('ANALYZE', ferret!.postgresDb!);
    const plan = JSON.stringify(await client.db('gin_test').command({ explain: { find: 'enforced', filter: { aggId: 'x17' } } }));
    const twin = (await pgIndexes(ferret!.postgresDb!, 'gin_test', 'enforced')).find((i) => i.method === 'gin' && i.expr.includes("'aggId'") && plan.includes(`"Index Name":"${i.name}"`));
    expect(twin, plan).toBeDefined();
    expect(plan).toContain('Bitmap Index Scan');
    expect((await c.find({ aggId: 'x17' }).toArray()).map((d) => d._id)).toEqual(['x17@1']);
  });
});
