/**
 * Full-saga benchmark with lab drivers (zero hardware latency) on a real nats-server and FerretDB:
 * N nodes across M sites from registered to ready. Prints wall time, nodes/s, p50/p99 per step and
 * end to end, CPU ms per node and peak RSS per service. Not a test: it prints figures.
 *
 *   node --conditions=@stackyard/source --import tsx bench/saga.ts --nodes 1000 --sites 3
 *
 * `--count-commands` also prints the database commands per node by service, collection and
 * command (from the services' driver, STACKYARD_MONGO_COMMAND_COUNTS) and, on FerretDB over
 * PostgreSQL, the rows PostgreSQL read per node by table (pg_stat_user_tables). Off by default:
 * the services then do not monitor commands at all.
 *
 * `--cpu-prof DIR` writes a V8 CPU profile of each service into DIR as it exits; summarise them with
 * `node --import tsx bench/profile.ts DIR`.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { call } from '@stackyard/grpc';
import { clientsFor, followSite, startLocalCluster, SERVICES, type LocalCluster } from '@stackyard/cli';
import { psql, startNatsServer } from '@stackyard/devinfra';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { NodeState, type NodeProgress } from '@stackyard/proto/monitoring/v1/monitoring';
import type { CommandCount, CommandCountsFile } from '@stackyard/mongo';
import { FigureSheet, machineLine, pct, postgresCpuMs, procStats } from './lib';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    sites: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '600' },
    concurrency: { type: 'string', default: '64' },
    'count-commands': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    json: { type: 'string' },
  },
});
const N = Number(values.nodes);
const M = Number(values.sites);

type Counts = Map<string, CommandCount>; // "<service> <collection> <command>"

/** The command counts the services have written so far (each file is rewritten every second). */
function readCommandCounts(dir: string): Counts {
  const out: Counts = new Map();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    const body = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CommandCountsFile;
    for (const [k, c] of Object.entries(body.counts)) {
      const key = `${body.app} ${k}`;
      const o = out.get(key) ?? { commands: 0, docs: 0, failed: 0 };
      out.set(key, { commands: o.commands + c.commands, docs: o.docs + c.docs, failed: o.failed + c.failed });
    }
  }
  return out;
}

/** Rows read per table of FerretDB's PostgreSQL database: sequential scans and index fetches. */
async function readTableStats(db: string): Promise<Counts> {
  const sql =
    "SELECT schemaname, relname, seq_scan + coalesce(idx_scan, 0), seq_tup_read, coalesce(idx_tup_fetch, 0), n_tup_ins + n_tup_upd FROM pg_stat_user_tables";
  const out: Counts = new Map();
  for (const line of (await psql(sql, db)).split('\n').filter(Boolean)) {
    const [schema, table, scans, seqRows, idxRows, writes] = line.split('|');
    // Schemas are `<prefix>_<service>`, tables `<collection>_<hash>`.
    const key = `${schema!.replace(/^.*_/, '')} ${table!.replace(/_[0-9a-f]{8}$/, '')} seq/idx`;
    out.set(key, { commands: Number(scans), docs: Number(seqRows) + Number(idxRows), failed: Number(writes) });
  }
  return out;
}

function diff(after: Counts, before: Counts): Counts {
  const out: Counts = new Map();
  for (const [k, a] of after) {
    const b = before.get(k) ?? { commands: 0, docs: 0, failed: 0 };
    const d = { commands: a.commands - b.commands, docs: a.docs - b.docs, failed: a.failed - b.failed };
    if (d.commands || d.docs || d.failed) out.set(k, d);
  }
  return out;
}

/** Prints per-node figures by key, grouped by service, with service and overall totals; returns the overall totals. */
function printCounts(title: string, counts: Counts, n: number, cols: [string, string, string]): CommandCount {
  console.log(title);
  const per = (x: number) => (x / n).toFixed(2).padStart(9);
  console.log(`  ${'service'.padEnd(13)} ${'collection'.padEnd(28)} ${'kind'.padEnd(16)} ${cols[0].padStart(9)} ${cols[1].padStart(9)} ${cols[2].padStart(9)}`);
  const total = { commands: 0, docs: 0, failed: 0 };
  for (const svc of [...new Set([...counts.keys()].map((k) => k.split(' ')[0]!))].sort()) {
    const rows = [...counts].filter(([k]) => k.startsWith(`${svc} `)).sort((a, b) => b[1].commands - a[1].commands);
    const sum = { commands: 0, docs: 0, failed: 0 };
    for (const [k, c] of rows) {
      const [, coll, kind] = k.split(' ');
      console.log(`  ${svc.padEnd(13)} ${coll!.padEnd(28)} ${kind!.padEnd(16)} ${per(c.commands)} ${per(c.docs)} ${per(c.failed)}`);
      sum.commands += c.commands;
      sum.docs += c.docs;
      sum.failed += c.failed;
    }
    console.log(`  ${svc.padEnd(13)} ${'(all)'.padEnd(28)} ${''.padEnd(16)} ${per(sum.commands)} ${per(sum.docs)} ${per(sum.failed)}`);
    total.commands += sum.commands;
    total.docs += sum.docs;
    total.failed += sum.failed;
  }
  console.log(`  ${'all services'.padEnd(13)} ${''.padEnd(28)} ${''.padEnd(16)} ${per(total.commands)} ${per(total.docs)} ${per(total.failed)}`);
  return total;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** After an incomplete run: what FerretDB's PostgreSQL sessions are doing (lock waits show here). */
async function printPostgresActivity(db: string): Promise<void> {
  const sql = `SELECT count(*), state, coalesce(wait_event_type, '-'), coalesce(wait_event, '-'), left(regexp_replace(query, '\\s+', ' ', 'g'), 140) FROM pg_stat_activity WHERE datname = '${db}' GROUP BY 2, 3, 4, 5 ORDER BY 1 DESC`;
  console.log(`PostgreSQL sessions of ${db} (count|state|wait type|wait event|query):`);
  for (const line of (await psql(sql, db)).split('\n').filter(Boolean).slice(0, 25)) console.log(`  ${line}`);
}

/** After an incomplete run: every durable consumer's backlog, to show where the saga stopped. */
async function printBacklog(url: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    console.log('consumers with work left (pending = not yet delivered, ack pending = delivered, not acknowledged):');
    for await (const st of jsm.streams.list()) {
      for await (const ci of jsm.consumers.list(st.config.name)) {
        if (ci.num_pending || ci.num_ack_pending || ci.num_redelivered) {
          console.log(`  ${st.config.name}/${ci.name}: pending ${ci.num_pending}, ack pending ${ci.num_ack_pending}, redelivered ${ci.num_redelivered}, waiting pulls ${ci.num_waiting}`);
        }
      }
    }
  } finally {
    await nc.close();
  }
}

async function main() {
  const countsDir = values['count-commands'] ? mkdtempSync(join(tmpdir(), 'stackyard-bench-counts-')) : undefined;
  // The bench's own nats-server (no users), so that an incomplete run can show every consumer's
  // backlog (printed below); the services' per-user permissions are tested elsewhere.
  const nats = await startNatsServer({});
  const cluster: LocalCluster = await startLocalCluster({
    natsUrl: nats.url,
    dbPrefix: `bench_${Date.now()}`,
    logDir: mkdtempSync(join(tmpdir(), 'stackyard-bench-')),
    commonEnv: {
      LOG_LEVEL: 'warn',
      ...(countsDir ? { STACKYARD_MONGO_COMMAND_COUNTS: countsDir } : {}),
    },
    // V8 CPU profiles of every service, written when each exits (summarise with bench/profile.ts).
    ...(values['cpu-prof'] ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] } : {}),
    env: {
      provisioning: { LAB_LATENCY_MS: '0', MAX_ENROLLS_IN_FLIGHT: '64', MAX_INSPECTIONS_IN_FLIGHT: '64', MAX_DEPLOYS_IN_FLIGHT: '64' },
      network: { LAB_LATENCY_MS: '0', MAX_HOSTS_IN_FLIGHT: '64' },
      deployment: { LAB_CONTAINER_LATENCY_MS: '0', MAX_NODES_IN_FLIGHT: '64' },
    },
    say: (l) => process.stderr.write(`${l}\n`),
  });
  const s = cluster.services;
  const c = clientsFor({ inventory: s.inventory.grpcPort, network: s.network.grpcPort, monitoring: s.monitoring.grpcPort });
  const before = Object.fromEntries(SERVICES.map((n) => [n, procStats(s[n].process.pid!)]));
  const ferretBefore = cluster.ferretPid ? procStats(cluster.ferretPid).cpuMs : undefined;
  const natsPid = nats.process.pid;
  const natsBefore = natsPid ? procStats(natsPid).cpuMs : undefined;
  const pgBefore = cluster.postgresDb ? postgresCpuMs() : undefined;
  let stopped = false;
  try {
    const sites = Array.from({ length: M }, (_, i) => `site${i + 1}`);
    for (const site of sites) {
      await call(c.inventory, c.inventory.createSite, { id: site, displayName: site });
      await call(c.network, c.network.defineNetwork, {
        network: { siteId: site, name: 'provision_oc', cidr: '10.0.0.0/16', gateway: '10.0.0.1', allocationPoolStart: '10.0.1.0', allocationPoolEnd: '10.0.254.254', vlan: 0, mtu: 1500, groups: ['compute'], interface: '{nic0}', version: 0 },
      });
    }
    // Baselines after start-up and the sites (the count files are rewritten every second).
    if (countsDir) await sleep(1500);
    const commandsBefore = countsDir ? readCommandCounts(countsDir) : undefined;
    const tablesBefore = countsDir && cluster.postgresDb ? await readTableStats(cluster.postgresDb) : undefined;
    const t0 = Date.now();
    // Follow every site through monitoring's WatchSite stream (as `stackyard up` does) while registering.
    const ids = Array.from({ length: N }, (_, i) => `${sites[i % M]}-n${i}`);
    let done = 0;
    const follow = sites.map((site) =>
      followSite(c, site, ids.filter((id) => id.startsWith(`${site}-`)), Number(values.timeout) * 1000, (p) => {
        if (p.state !== NodeState.NODE_STATE_IN_PROGRESS) done++;
      }),
    );
    const ticker = setInterval(() => process.stderr.write(`\r${((Date.now() - t0) / 1000).toFixed(1)}s: ${done}/${N} done    `), 1000);
    let next = 0;
    const register = async () => {
      while (next < N) {
        const i = next++;
        const site = sites[i % M]!;
        await call(c.inventory, c.inventory.registerHost, {
          siteId: site,
          name: `n${i}`,
          groups: ['compute'],
          bmc: { address: `10.9.${(i >> 8) & 255}.${i & 255}`, driver: 'lab', credentialRef: '' },
          labels: {},
          hardwareProfile: 'compute-std',
          requestId: `b${i}`,
        });
      }
    };
    await Promise.all(Array.from({ length: Number(values.concurrency) }, register));
    const registeredAt = Date.now();
    const outcomes = await Promise.all(follow);
    clearInterval(ticker);
    const nodes: NodeProgress[] = outcomes.flatMap((o) => o.nodes);
    const wall = (Date.now() - t0) / 1000;
    process.stderr.write('\n');
    const ready = nodes.filter((n) => n.state === NodeState.NODE_STATE_READY);
    const after = Object.fromEntries(SERVICES.map((n) => [n, procStats(s[n].process.pid!)]));
    const steps = ready[0]?.steps.map((x) => x.name) ?? [];
    const sheet = new FigureSheet('saga');
    console.log(`machine: ${machineLine()}`);
    console.log(`saga bench: ${N} nodes, ${M} site(s), lab drivers with zero latency, real nats-server + ${cluster.mongoBackend}`);
    console.log(`registration: ${((registeredAt - t0) / 1000).toFixed(1)} s; wall to all done: ${wall.toFixed(1)} s; ${ready.length} ready, ${nodes.length - ready.length} not ready`);
    console.log(`throughput: ${(ready.length / wall).toFixed(1)} nodes/s`);
    sheet.add('wall', wall, 's', { key: true });
    sheet.add('registration', (registeredAt - t0) / 1000, 's');
    sheet.add('throughput', ready.length / wall, 'nodes/s', { better: 'higher' });
    console.log('step latency (ms, from the previous step):');
    for (let i = 1; i < steps.length; i++) {
      const d = ready.map((n) => n.steps[i]!.atMs - n.steps[i - 1]!.atMs);
      console.log(`  ${steps[i]!.padEnd(20)} p50 ${pct(d, 50).toFixed(0).padStart(6)}  p99 ${pct(d, 99).toFixed(0).padStart(6)}`);
      sheet.add(`${steps[i]} p50`, pct(d, 50), 'ms');
      sheet.add(`${steps[i]} p99`, pct(d, 99), 'ms');
    }
    const e2e = ready.map((n) => n.steps[n.steps.length - 1]!.atMs - n.steps[0]!.atMs);
    console.log(`  ${'end to end'.padEnd(20)} p50 ${pct(e2e, 50).toFixed(0).padStart(6)}  p99 ${pct(e2e, 99).toFixed(0).padStart(6)}`);
    sheet.add('end to end p50', pct(e2e, 50), 'ms');
    sheet.add('end to end p99', pct(e2e, 99), 'ms');
    console.log('per service: CPU ms per node, peak RSS:');
    let total = 0;
    for (const n of SERVICES) {
      const cpu = after[n]!.cpuMs - before[n]!.cpuMs;
      total += cpu;
      console.log(`  ${n.padEnd(13)} ${(cpu / N).toFixed(1).padStart(7)} ms/node  ${after[n]!.peakRssMb.toFixed(0).padStart(5)} MB`);
      sheet.add(`${n} CPU per node`, cpu / N, 'ms');
      sheet.add(`${n} peak RSS`, after[n]!.peakRssMb, 'MB');
    }
    console.log(`  ${'all services'.padEnd(13)} ${(total / N).toFixed(1).padStart(7)} ms/node`);
    sheet.add('services CPU per node', total / N, 'ms');
    // Every process the run drives, servers included: what bounds the wall time on a small machine.
    let everything = total;
    if (cluster.ferretPid && ferretBefore !== undefined) {
      const ms = procStats(cluster.ferretPid).cpuMs - ferretBefore;
      everything += ms;
      console.log(`  ${'FerretDB'.padEnd(13)} ${(ms / N).toFixed(1).padStart(7)} ms/node`);
      sheet.add('FerretDB CPU per node', ms / N, 'ms');
    }
    const pgAfter = pgBefore !== undefined ? postgresCpuMs() : undefined;
    if (pgBefore !== undefined && pgAfter !== undefined) {
      everything += pgAfter - pgBefore;
      console.log(`  ${'PostgreSQL'.padEnd(13)} ${((pgAfter - pgBefore) / N).toFixed(1).padStart(7)} ms/node (the whole server)`);
      sheet.add('PostgreSQL CPU per node', (pgAfter - pgBefore) / N, 'ms');
    }
    if (natsPid && natsBefore !== undefined) {
      const ms = procStats(natsPid).cpuMs - natsBefore;
      everything += ms;
      console.log(`  ${'nats-server'.padEnd(13)} ${(ms / N).toFixed(1).padStart(7)} ms/node`);
      sheet.add('nats-server CPU per node', ms / N, 'ms');
    }
    console.log(`  ${'every process'.padEnd(13)} ${(everything / N).toFixed(1).padStart(7)} ms/node`);
    sheet.add('CPU per node, every process', everything / N, 'ms', { key: true });
    if (ready.length < N) {
      await printBacklog(nats.url);
      if (cluster.postgresDb) await printPostgresActivity(cluster.postgresDb);
    }
    if (countsDir) {
      // PostgreSQL publishes a backend's table statistics within a second or so of its transaction.
      await sleep(1500);
      const tablesAfter = cluster.postgresDb ? await readTableStats(cluster.postgresDb) : undefined;
      c.close();
      stopped = true;
      await cluster.stop(); // each service writes its counts a last time as it closes its client
      const commands = diff(readCommandCounts(countsDir), commandsBefore!);
      const total = printCounts(`database commands per node, from registration to the last node done (${N} nodes):`, commands, N, ['commands', 'docs', 'failed']);
      sheet.add('database commands per node', total.commands / N, 'commands', { key: true });
      sheet.add('documents returned per node', total.docs / N, 'documents');
      if (tablesAfter && tablesBefore) {
        printCounts('PostgreSQL per node (pg_stat_user_tables): scans, rows read (seq + index), rows written:', diff(tablesAfter, tablesBefore), N, ['scans', 'rows read', 'written']);
      }
    }
    sheet.write(values.json, ready.length === N);
  } finally {
    if (!stopped) {
      c.close();
      await cluster.stop();
    }
    await nats.stop();
    if (countsDir) rmSync(countsDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
