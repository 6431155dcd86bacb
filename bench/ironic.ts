/**
 * Stackyard's overhead on real Ironic (issue 9): N fake-hardware nodes taken from enroll to active
 * (manage, inspect, provide, deploy with a config drive) by two orchestrators, each run on a fresh
 * private Ironic, in `--rounds` alternating rounds (default 3):
 *   1. baseline: a plain loop of HTTP calls per node, all nodes at once, polling every --poll-ms;
 *   2. Stackyard: the five services (embedded cluster, ironic driver, same polling), hosts
 *      registered through the inventory API, until provisioning has published NodeProvisioned
 *      for every node (followed on NATS: the bench polls nothing on Stackyard's side).
 * Prints every round's wall times and the ratio of the medians, Ironic's and Stackyard's CPU, the
 * API requests by kind and where each node's time went between Ironic's transitions (from
 * Ironic's own logs). Not a test: it prints figures.
 *
 *   node --conditions=@stackyard/source --import tsx bench/ironic.ts --nodes 100 [--rounds 3] [--stackyard-nice 10] [--cpu-prof DIR]
 *
 * `--cpu-prof DIR` writes a V8 CPU profile of each service of every Stackyard round into DIR
 * (summarise them with `node --import tsx bench/profile.ts DIR`).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { call, insecure } from '@stackyard/grpc';
import { startIronic, startNatsServer } from '@stackyard/devinfra';
import { Events, fromWire, type Envelope } from '@stackyard/events';
import type { ProvisioningFailed } from '@stackyard/proto/provisioning/v1/events';
import { connect } from '@nats-io/transport-node';
import { clientsFor, SERVICES, startLocalCluster } from '@stackyard/cli';
import { ironicNodeUuid } from '@stackyard/provisioning';
import { ProvisionState } from '@stackyard/proto/provisioning/v1/provisioning';
import { ProvisioningServiceClient } from '@stackyard/proto/provisioning/v1/provisioning_service';
import { FigureSheet, groupCpuMs, intOption, machineLine, pct, postgresCpuMs, procStats } from './lib';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    'poll-ms': { type: 'string', default: '500' },
    timeout: { type: 'string', default: '900' },
    rounds: { type: 'string', default: '3' },
    // Lower Stackyard's CPU priority (its services, FerretDB, nats-server) by this niceness: Ironic
    // as if on cores of its own, as in a deployment where it runs on another host (0: equal footing).
    'stackyard-nice': { type: 'string', default: '0' },
    'cpu-prof': { type: 'string' },
    json: { type: 'string' },
  },
});
const N = intOption('ironic', '--nodes', values.nodes, 1, 100_000);
const POLL = intOption('ironic', '--poll-ms', values['poll-ms'], 10, 600_000);
const ROUNDS = intOption('ironic', '--rounds', values.rounds, 1, 100);
const NICE = intOption('ironic', '--stackyard-nice', values['stackyard-nice'], 0, 19);
const IMAGE = 'http://images.bench.invalid/os/deployment_image.qcow2';

type IronicNode = { uuid: string; provision_state: string; last_error: string | null };

function api(base: string) {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const r = await fetch(`${base}/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'X-OpenStack-Ironic-API-Version': '1.56' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${await r.text()}`);
    return (r.status === 204 || r.status === 202 ? undefined : await r.json()) as T;
  };
}

/** Nodes with properties and two ports, in enroll, as Bifrost enrols them from servers.yml. */
async function enrolNodes(req: ReturnType<typeof api>, names: readonly { name: string; uuid: string }[]) {
  let i = 0;
  const one = async () => {
    while (i < names.length) {
      const k = i++;
      const { name, uuid } = names[k]!;
      await req('POST', '/nodes', { uuid, name, driver: 'fake-hardware', properties: { cpus: 64, memory_mb: 524288, local_gb: 1800, cpu_arch: 'x86_64' } });
      for (const nic of [0, 1]) {
        const mac = `52:54:${((k >> 8) & 255).toString(16).padStart(2, '0')}:${(k & 255).toString(16).padStart(2, '0')}:${nic.toString(16).padStart(2, '0')}:${(name.length & 255).toString(16).padStart(2, '0')}`;
        await req('POST', '/ports', { node_uuid: uuid, address: mac, extra: { nic_name: `eno${nic + 1}` } });
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, one));
}

/** The baseline: what a script would do, per node, with the same polling. */
async function plainLoop(req: ReturnType<typeof api>, uuid: string): Promise<void> {
  const waitWhile = async (busy: readonly string[]) => {
    for (;;) {
      const n = await req<IronicNode>('GET', `/nodes/${uuid}`);
      if (!busy.includes(n.provision_state)) return n;
      await new Promise((r) => setTimeout(r, POLL));
    }
  };
  const verb = (target: string, extra: Record<string, unknown> = {}) => req('PUT', `/nodes/${uuid}/states/provision`, { target, ...extra });
  await verb('manage');
  await waitWhile(['enroll', 'verifying']);
  await verb('inspect');
  await waitWhile(['inspecting', 'inspect wait']);
  await verb('provide');
  await waitWhile(['manageable', 'cleaning', 'clean wait']);
  await req('PATCH', `/nodes/${uuid}`, [{ op: 'add', path: '/instance_info/image_source', value: IMAGE }]);
  await verb('active', { configdrive: { meta_data: { hostname: uuid }, network_data: { links: [], networks: [], services: [] } } });
  const end = await waitWhile(['available', 'deploying', 'wait call-back']);
  if (end.provision_state !== 'active') throw new Error(`${uuid}: ${end.provision_state}: ${end.last_error}`);
}

/** Requests the API logged, by method and path shape (uuids and names folded), and their total. */
type Requests = { total: number; byKind: Map<string, number>; secondsByKind: Map<string, number> };
function apiRequests(dataDir: string, from = 0): Requests {
  const byKind = new Map<string, number>();
  const secondsByKind = new Map<string, number>();
  let total = 0;
  let log = '';
  try {
    log = readFileSync(join(dataDir, 'ironic-api.log'), 'utf8');
  } catch {
    return { total, byKind, secondsByKind };
  }
  let i = 0;
  for (const m of log.matchAll(/"(GET|POST|PUT|PATCH|DELETE) (\/v1\/[^ ?"]*)[^"]*" status: (\d+) +len: \d+ time: ([\d.]+)/g)) {
    if (i++ < from) continue;
    const shape = m[2]!.replace(/\/nodes\/(?!detail\b)[^/]+/, '/nodes/{id}');
    // Refusals (e.g. 409 NodeLocked, retried) counted apart from the successful requests of a kind.
    const k = `${m[1]} ${shape}${Number(m[3]) >= 400 ? ` -> ${m[3]}` : ''}`;
    byKind.set(k, (byKind.get(k) ?? 0) + 1);
    secondsByKind.set(k, (secondsByKind.get(k) ?? 0) + Number(m[4]));
    total++;
  }
  return { total, byKind, secondsByKind };
}

/**
 * Where each node's time went, from Ironic's own logs: when each provision verb reached the API
 * (the k-th `PUT /states/provision` of a node arrived) and when the conductor moved the node into the state
 * that verb waits for. Gaps between consecutive milestones alternate between Ironic's work (verb ->
 * state) and the orchestrator's reaction (state -> next verb: polling, and for Stackyard the saga's
 * hops). Times are ms from `t0`.
 */
const MILESTONES = ['PUT manage', 'manageable', 'PUT inspect', 'inspected', 'PUT provide', 'available', 'PUT active', 'active'] as const;
function milestones(dataDir: string, t0: number): Map<string, number[]> {
  const at = (line: string) => new Date(line.slice(0, 23).replace(' ', 'T')).getTime() - t0;
  const nodes = new Map<string, number[]>();
  const of = (uuid: string) => nodes.get(uuid) ?? (nodes.set(uuid, []).get(uuid) as number[]);
  const read = (f: string) => {
    try {
      return readFileSync(join(dataDir, f), 'utf8').split('\n');
    } catch {
      return [];
    }
  };
  const puts = new Map<string, number>();
  for (const line of read('ironic-api.log')) {
    // Logged when the response went out: the request arrived `time` seconds earlier.
    // Accepted verbs only (a refused one, e.g. 409 NodeLocked, is retried).
    const m = /"PUT \/v1\/nodes\/([^/]+)\/states\/provision [^"]*" status: 2\d\d +len: \d+ time: ([\d.]+)/.exec(line);
    if (!m || at(line) < 0) continue;
    const k = puts.get(m[1]!) ?? 0;
    puts.set(m[1]!, k + 1);
    if (k < 4) of(m[1]!)[[0, 2, 4, 6][k]!] = at(line) - Number(m[2]) * 1000;
  }
  for (const line of read('ironic-conductor.log')) {
    const m = /Node (\S+) moved to provision state "([^"]+)" from state "([^"]+)"/.exec(line);
    if (!m || at(line) < 0) continue;
    const [, uuid, to, from] = m;
    const i = to === 'manageable' ? (from === 'verifying' ? 1 : from === 'inspecting' || from === 'inspect wait' ? 3 : -1) : to === 'available' ? 5 : to === 'active' ? 7 : -1;
    if (i >= 0) of(uuid!)[i] = at(line);
  }
  return nodes;
}

function printMilestones(label: string, nodes: Map<string, number[]>): void {
  const row = (name: string, xs: number[]) => console.log(`  ${name.padEnd(28)} p50 ${pct(xs, 50).toFixed(0).padStart(6)}  p99 ${pct(xs, 99).toFixed(0).padStart(6)} ms`);
  console.log(`${label}: time per stage from Ironic's logs (${nodes.size} nodes)`);
  const all = [...nodes.values()];
  row(`start -> ${MILESTONES[0]}`, all.map((m) => m[0]!).filter((x) => x !== undefined));
  for (let i = 1; i < MILESTONES.length; i++) {
    const xs = all.filter((m) => m[i] !== undefined && m[i - 1] !== undefined).map((m) => m[i]! - m[i - 1]!);
    row(`${MILESTONES[i - 1]} -> ${MILESTONES[i]}`, xs);
  }
}

function printRequests(label: string, r: Requests, n: number): void {
  console.log(`${label}: ${r.total} API requests (${(r.total / n).toFixed(1)} per node)`);
  for (const [k, v] of [...r.byKind].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
    const ms = ((r.secondsByKind.get(k) ?? 0) * 1000) / v;
    console.log(`  ${(v / n).toFixed(1).padStart(6)} per node  ${k.padEnd(40)} ${ms.toFixed(0).padStart(5)} ms each (API's own time)`);
  }
}

interface BaselineRun {
  readonly seconds: number;
  readonly ironicCpuMs: number;
  readonly requests: Requests;
  readonly stages: Map<string, number[]>;
}

/** The plain loop for every node at once, on its own fresh Ironic. */
async function runBaseline(): Promise<BaselineRun> {
  const ironic = await startIronic();
  try {
    const req = api(ironic.url);
    const base = Array.from({ length: N }, (_, i) => ({ name: `base-${i}`, uuid: ironicNodeUuid(`base-${i}`) }));
    await enrolNodes(req, base);
    const t0 = Date.now();
    const cpu0 = groupCpuMs([ironic.process.pid, ironic.conductor.pid]);
    const req0 = apiRequests(ironic.dataDir).total;
    await Promise.all(base.map((n) => plainLoop(req, n.uuid)));
    const seconds = (Date.now() - t0) / 1000;
    const run = {
      seconds,
      ironicCpuMs: groupCpuMs([ironic.process.pid, ironic.conductor.pid]) - cpu0,
      requests: apiRequests(ironic.dataDir, req0),
      stages: milestones(ironic.dataDir, t0),
    };
    process.stderr.write(`baseline: ${N} nodes active in ${seconds.toFixed(1)} s\n`);
    return run;
  } finally {
    await ironic.stop();
  }
}

interface StackyardRun extends BaselineRun {
  readonly active: number;
  readonly failed: number;
  readonly ownCpuMs: number;
  /** The same, by process (each service, FerretDB, nats-server, PostgreSQL). */
  readonly ownCpuByProcess: readonly (readonly [string, number])[];
  readonly withPostgres: boolean;
  readonly mongoBackend: string;
  /** Provisioning event -> host -> ms from registration when it was first published. */
  readonly published: Map<string, Map<string, number>>;
  /** How long registering every host through the inventory API took (all at once). */
  readonly registeredMs: number;
}

/** The five services on a fresh Ironic (and their own NATS and FerretDB), registered -> active. */
async function runStackyard(): Promise<StackyardRun> {
  const ironic = await startIronic();
  const req = api(ironic.url);
  try {
    const site = 'bench';
    const hosts = Array.from({ length: N }, (_, i) => ({ name: `sy-${i}`, uuid: ironicNodeUuid(`${site}-sy-${i}`) }));
    await enrolNodes(req, hosts);
    const nats = await startNatsServer({});
    const bus = await connect({ servers: nats.url });
    const cluster = await startLocalCluster({
      natsUrl: nats.url,
      dbPrefix: `bench_ironic_${Date.now()}`,
      logDir: mkdtempSync(join(tmpdir(), 'stackyard-bench-ironic-')),
      commonEnv: { LOG_LEVEL: 'warn' },
      ...(values['cpu-prof'] ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] } : {}),
      env: {
        provisioning: {
          IRONIC_URL: ironic.url,
          IRONIC_HARDWARE_TYPE: 'fake-hardware',
          IRONIC_POLL_INTERVAL_MS: String(POLL),
          PROVISION_IMAGE: IMAGE,
          MAX_ENROLLS_IN_FLIGHT: String(N),
          MAX_INSPECTIONS_IN_FLIGHT: String(N),
          MAX_DEPLOYS_IN_FLIGHT: String(N),
          MAX_IN_FLIGHT_PER_BMC: String(N),
          MAX_IN_FLIGHT_PER_SITE: String(N),
        },
      },
      say: (l) => process.stderr.write(`${l}\n`),
    });
    const s = cluster.services;
    const c = clientsFor({ inventory: s.inventory.grpcPort, network: s.network.grpcPort, monitoring: s.monitoring.grpcPort });
    const prov = new ProvisioningServiceClient(`127.0.0.1:${s.provisioning.grpcPort}`, insecure());
    try {
      await call(c.inventory, c.inventory.createSite, { id: site, displayName: site });
      const cpu1 = groupCpuMs([ironic.process.pid, ironic.conductor.pid]);
      const owned: [string, number][] = [];
      for (const [name, pid] of [...SERVICES.map((n): [string, number | undefined] => [n, s[n].process.pid]), ['FerretDB', cluster.ferretPid], ['nats-server', nats.process.pid]] as const) {
        if (pid !== undefined) owned.push([name, pid]);
      }
      const ownPids = owned.map(([, p]) => p);
      const own1 = ownPids.map((p) => procStats(p).cpuMs);
      if (NICE) for (const p of ownPids) for (const t of readdirSync(`/proc/${p}/task`)) setPriority(Number(t), NICE); // every thread
      const pg1 = postgresCpuMs();
      const req1 = apiRequests(ironic.dataDir).total;
      // Every provisioning fact as it is published (a core subscription on the stream's subjects:
      // nothing polled, so the bench adds no load to the services it measures).
      const sub = bus.subscribe(`stackyard.${site}.provisioning.node.*.*`);
      const t1 = Date.now();
      await Promise.all(
        hosts.map((h, i) =>
          call(c.inventory, c.inventory.registerHost, {
            siteId: site,
            name: h.name,
            groups: ['compute'],
            bmc: { address: '10.9.0.1', driver: 'ironic', credentialRef: '' },
            labels: {},
            hardwareProfile: 'compute-std',
            requestId: `bi${i}`,
          }),
        ),
      );
      const registeredMs = Date.now() - t1;
      const deadline = Date.now() + Number(values.timeout) * 1000;
      const published = new Map<string, Map<string, number>>();
      const ended = new Set<string>();
      let failed = 0;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        void (async () => {
          for await (const m of sub) {
            const [, , , , host, event] = m.subject.split('.');
            const seen = published.get(event!) ?? (published.set(event!, new Map()).get(event!) as Map<string, number>);
            if (!seen.has(host!)) seen.set(host!, Date.now() - t1);
            if (event === Events.NodeProvisioned.event || event === Events.ProvisioningFailed.event) {
              if (event === Events.ProvisioningFailed.event && !ended.has(host!)) {
                failed++;
                const f = (fromWire(m.subject, (k) => m.headers?.get(k) || undefined, m.data) as Envelope<ProvisioningFailed>).data.failure;
                process.stderr.write(`stackyard: ${host} failed at ${f?.step}: ${f?.reason}: ${f?.message}\n`);
              }
              ended.add(host!);
              if (ended.size >= N) break;
            }
          }
          clearTimeout(timer);
          resolve();
        })();
      });
      const seconds = (Date.now() - t1) / 1000;
      const ironicCpuMs = groupCpuMs([ironic.process.pid, ironic.conductor.pid]) - cpu1;
      const pg2 = postgresCpuMs();
      const ownCpuByProcess = [
        ...owned.map(([name, p], i) => [name, procStats(p).cpuMs - own1[i]!] as const),
        ...(pg1 !== undefined && pg2 !== undefined ? [['PostgreSQL', pg2 - pg1] as const] : []),
      ];
      const ownCpuMs = ownCpuByProcess.reduce((t, [, ms]) => t + ms, 0);
      sub.unsubscribe();
      // Cross-check with what provisioning serves.
      const nodes = (await call(prov, prov.listNodes, { siteId: site, state: ProvisionState.PROVISION_STATE_UNSPECIFIED })).nodes;
      const run: StackyardRun = {
        seconds,
        ironicCpuMs,
        requests: apiRequests(ironic.dataDir, req1),
        stages: milestones(ironic.dataDir, t1),
        active: nodes.filter((n) => n.state === ProvisionState.PROVISION_STATE_ACTIVE).length,
        failed,
        ownCpuMs,
        ownCpuByProcess,
        withPostgres: pg1 !== undefined && pg2 !== undefined,
        mongoBackend: cluster.mongoBackend,
        published,
        registeredMs,
      };
      process.stderr.write(`stackyard: ${run.active} nodes active in ${seconds.toFixed(1)} s\n`);
      return run;
    } finally {
      prov.close();
      c.close();
      await cluster.stop();
      await bus.close();
      await nats.stop();
    }
  } finally {
    await ironic.stop();
  }
}

/**
 * `--rounds` alternating rounds (baseline, then Stackyard, each on a fresh Ironic): the ratio of
 * the medians is the overhead, and every round's figures are printed so that the noise shows.
 * The detailed tables are those of the round whose Stackyard time is the median.
 */
async function main() {
  const rounds: { baseline: BaselineRun; stackyard: StackyardRun }[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push({ baseline: await runBaseline(), stackyard: await runStackyard() });
  const median = (xs: number[]) => pct(xs, 50);
  const b = median(rounds.map((r) => r.baseline.seconds));
  const sy = median(rounds.map((r) => r.stackyard.seconds));
  const mid = [...rounds].sort((x, y) => x.stackyard.seconds - y.stackyard.seconds)[Math.floor((rounds.length - 1) / 2)]!;
  const run = mid.stackyard;
  console.log(`machine: ${machineLine()}`);
  console.log(`ironic bench: ${N} fake-hardware nodes, enroll -> active (manage, inspect, provide, deploy), polling every ${POLL} ms, Ironic 21.4 (Debian), ${run.mongoBackend}, ${ROUNDS} round(s)${NICE ? `, Stackyard at niceness ${NICE}` : ''}`);
  for (const [i, r] of rounds.entries()) {
    console.log(
      `  round ${i + 1}: baseline ${r.baseline.seconds.toFixed(1)} s, stackyard ${r.stackyard.seconds.toFixed(1)} s (${r.stackyard.active} active, ${r.stackyard.failed} failed), ratio ${(r.stackyard.seconds / r.baseline.seconds).toFixed(2)}x`,
    );
  }
  console.log(`baseline (plain HTTP loop, all nodes at once): ${b.toFixed(1)} s (median)`);
  console.log(`stackyard (registered -> active through the saga): ${sy.toFixed(1)} s (median)`);
  console.log(`overhead: ${(sy / b).toFixed(2)}x (ratio of the medians)`);
  console.log(`Ironic CPU (API + conductor): baseline ${(mid.baseline.ironicCpuMs / 1000).toFixed(1)} s, stackyard ${(run.ironicCpuMs / 1000).toFixed(1)} s`);
  console.log(`Stackyard's own CPU (services, FerretDB, nats-server${run.withPostgres ? ', PostgreSQL' : ''}): ${(run.ownCpuMs / 1000).toFixed(1)} s (${(run.ownCpuMs / N).toFixed(0)} ms per node)`);
  console.log(`  by process: ${run.ownCpuByProcess.map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`).join(', ')}`);
  const sheet = new FigureSheet('ironic');
  sheet.add('overhead', sy / b, 'x', { key: true });
  sheet.add('baseline', b, 's');
  sheet.add('stackyard', sy, 's');
  sheet.add('Ironic CPU, baseline', mid.baseline.ironicCpuMs / 1000, 's');
  sheet.add('Ironic CPU, stackyard', run.ironicCpuMs / 1000, 's');
  sheet.add("Stackyard's own CPU", run.ownCpuMs / 1000, 's', { key: true });
  for (const [name, ms] of run.ownCpuByProcess) sheet.add(`${name} CPU`, ms / 1000, 's');
  sheet.add('API requests per node, stackyard', run.requests.total / N, 'requests', { key: true });
  sheet.add('API requests per node, baseline', mid.baseline.requests.total / N, 'requests');
  sheet.write(values.json, rounds.every((r) => r.stackyard.active === N && r.stackyard.failed === 0));
  printRequests('baseline', mid.baseline.requests, N);
  printRequests('stackyard', run.requests, N);
  printMilestones('baseline', mid.baseline.stages);
  printMilestones('stackyard', run.stages);
  console.log(`stackyard: registering the ${N} hosts through the inventory API (all at once) took ${run.registeredMs} ms`);
  console.log('stackyard: each provisioning fact published, ms from registration (p50 / p99 over nodes):');
  for (const [event, hosts] of [...run.published].sort((x, y) => pct([...x[1].values()], 50) - pct([...y[1].values()], 50))) {
    const xs = [...hosts.values()];
    console.log(`  ${event.padEnd(20)} ${String(xs.length).padStart(4)} nodes  p50 ${pct(xs, 50).toFixed(0).padStart(6)}  p99 ${pct(xs, 99).toFixed(0).padStart(6)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
