/**
 * What a site watch's reconcile costs (monitoring's WatchSite and the dashboard: "which nodes'
 * progress changed since the last read?", every 5 s per gRPC watcher, every second per dashboard
 * tab). N node progress aggregates with R revisions each are written through monitoring's own
 * repository into FerretDB on PostgreSQL; after a bucket boundary C of them are written once more;
 * then the query is run Q times each way, alternately:
 *
 * - `range`: the store's listing with `updatedAt >= since` (what the watch ran before write-time
 *   buckets: FerretDB pushes the site down and filters the range in Go, over every node of the site);
 * - `buckets`: `changedSince` (one pushed-down equality query per 10 s bucket since `since`).
 *
 * Prints ms per query (median and p90), rows returned and FerretDB's and PostgreSQL's CPU per
 * query. Not a test: it prints figures.
 *
 *   node --conditions=@stackyard/source --import tsx bench/changes.ts --nodes 2000
 */
import { parseArgs } from 'node:util';
import { startFerretDb } from '@stackyard/devinfra';
import { AggregateStore, connectMongo } from '@stackyard/mongo';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import { MongoProgressRepository } from '../services/monitoring/src/adapters/mongo/repository';
import { emptyProgress, type ProgressData } from '../services/monitoring/src/domain/progress';
import { FigureSheet, intOption, machineLine, pct, postgresCpuMs, procStats } from './lib';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '2000' },
    revisions: { type: 'string', default: '6' },
    changed: { type: 'string', default: '100' },
    queries: { type: 'string', default: '20' },
    json: { type: 'string' },
  },
});
const N = intOption('changes', '--nodes', values.nodes, 1, 1_000_000);
const R = intOption('changes', '--revisions', values.revisions, 1, 1000);
const C = intOption('changes', '--changed', values.changed, 1, 1_000_000);
const Q = intOption('changes', '--queries', values.queries, 1, 10_000);
if (C > N) {
  console.error(`bench/changes: --changed (${C}) cannot exceed --nodes (${N})`);
  process.exit(2);
}

const SITE = 'bench-site';
type Doc = ProgressData & Record<string, unknown>;

async function inParallel(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}

async function main() {
  console.log(`machine: ${machineLine()}`);
  const ferret = await startFerretDb();
  const conn = await connectMongo(ferret.url);
  try {
    const opts = MongoProgressRepository.storeOptions;
    const store = new AggregateStore<Doc>(conn.db('bench_changes'), 'progress', 'node progress', undefined, opts);
    await store.ensureIndexes();
    const repo = new MongoProgressRepository(store);
    const hosts: HostRef[] = Array.from({ length: N }, (_, i) => ({ hostId: `node-${i}`, siteId: SITE, name: `node-${i}`, groups: ['compute'] }));
    const version = new Map<string, number>();
    const bump = async (h: HostRef) => {
      const v = version.get(h.hostId);
      const w = await repo.save({ ...emptyProgress(h), retries: v ?? 0 }, v, [], `bench-${v ?? 0}`);
      if (w.outcome === 'written') version.set(h.hostId, w.version);
    };
    const t0 = Date.now();
    for (let r = 0; r < R; r++) await inParallel(N, 32, (i) => bump(hosts[i]!));
    console.log(`changes bench: ${N} nodes x ${R} revisions written in ${((Date.now() - t0) / 1000).toFixed(1)} s; FerretDB ${ferret.backend}, buckets of ${opts.changeBucketMs} ms`);

    // Start the changes in a fresh bucket, as a reconcile does a few seconds after the previous one.
    const b = opts.changeBucketMs!;
    await new Promise((res) => setTimeout(res, b - (Date.now() % b) + 50));
    const since = new Date();
    await inParallel(C, 32, (i) => bump(hosts[Math.floor((i * N) / C)]!));

    const ways = {
      range: () => store.find({ site: SITE, updatedAt: { $gte: since } }, { sort: { updatedAt: 1 } }),
      buckets: () => repo.changedSince(SITE, since),
    };
    const ms: Record<string, number[]> = { range: [], buckets: [] };
    const cpu: Record<string, { ferret: number; pg: number }> = { range: { ferret: 0, pg: 0 }, buckets: { ferret: 0, pg: 0 } };
    const rows: Record<string, number> = {};
    for (let q = 0; q <= Q; q++) {
      for (const [name, run] of Object.entries(ways)) {
        const f0 = procStats(ferret.process.pid!).cpuMs;
        const p0 = postgresCpuMs() ?? NaN;
        const started = performance.now();
        rows[name] = (await run()).length;
        if (q === 0) continue; // one unmeasured query each way
        ms[name]!.push(performance.now() - started);
        cpu[name]!.ferret += procStats(ferret.process.pid!).cpuMs - f0;
        cpu[name]!.pg += (postgresCpuMs() ?? NaN) - p0;
      }
    }
    if (rows['range'] !== rows['buckets'] || rows['range'] !== C) throw new Error(`the two ways disagree: range ${rows['range']} rows, buckets ${rows['buckets']}, ${C} changed`);

    const sheet = new FigureSheet('changes');
    console.log(`one reconcile of a ${N}-node site, ${C} nodes changed since the previous one (${Q} queries each way):`);
    for (const name of Object.keys(ways)) {
      const med = pct(ms[name]!, 50);
      const ferretPer = cpu[name]!.ferret / Q;
      const pgPer = cpu[name]!.pg / Q;
      console.log(`  ${name.padEnd(8)} p50 ${med.toFixed(1).padStart(7)} ms  p90 ${pct(ms[name]!, 90).toFixed(1).padStart(7)} ms  ${rows[name]} rows  FerretDB ${ferretPer.toFixed(1)} ms  PostgreSQL ${pgPer.toFixed(1)} ms of CPU per query`);
      sheet.add(`${name} p50`, med, 'ms', { key: name === 'buckets' });
      sheet.add(`${name} FerretDB CPU per query`, ferretPer, 'ms');
      sheet.add(`${name} PostgreSQL CPU per query`, pgPer, 'ms');
    }
    sheet.write(values.json, true);
  } finally {
    await conn.close();
    await ferret.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
