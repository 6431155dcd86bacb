/**
 * Stackyard's overhead on real Ironic (issue 9): N fake-hardware nodes taken from enroll to active
 * (manage, inspect, provide, deploy with a config drive) twice, each run on a fresh private Ironic:
 *   1. baseline: a plain loop of HTTP calls per node, all nodes at once, polling every --poll-ms;
 *   2. Stackyard: the five services (embedded cluster, ironic driver, same polling), hosts
 *      registered through the inventory API, until provisioning reports every node active.
 * Prints both wall times and their ratio. Not a test: it prints figures.
 *
 *   node --conditions=@stackyard/source --import tsx bench/ironic.ts --nodes 100
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { call, insecure } from '@stackyard/grpc';
import { startIronic } from '@stackyard/devinfra';
import { clientsFor, startLocalCluster } from '@stackyard/cli';
import { ironicNodeUuid } from '@stackyard/provisioning';
import { ProvisionState } from '@stackyard/proto/provisioning/v1/provisioning';
import { ProvisioningServiceClient } from '@stackyard/proto/provisioning/v1/provisioning_service';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    'poll-ms': { type: 'string', default: '500' },
    timeout: { type: 'string', default: '900' },
  },
});
const N = Number(values.nodes);
const POLL = Number(values['poll-ms']);
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
function apiRequests(dataDir: string, from = 0): { total: number; byKind: Map<string, number> } {
  const byKind = new Map<string, number>();
  let total = 0;
  let log = '';
  try {
    log = readFileSync(join(dataDir, 'ironic-api.log'), 'utf8');
  } catch {
    return { total, byKind };
  }
  let i = 0;
  for (const m of log.matchAll(/"(GET|POST|PUT|PATCH|DELETE) (\/v1\/[^ ?"]*)/g)) {
    if (i++ < from) continue;
    const shape = m[2]!.replace(/\/nodes\/(?!detail\b)[^/]+/, '/nodes/{id}');
    const k = `${m[1]} ${shape}`;
    byKind.set(k, (byKind.get(k) ?? 0) + 1);
    total++;
  }
  return { total, byKind };
}

/** CPU ms of every process in these process groups (Ironic's API and conductor, and their workers). */
function groupCpuMs(pgids: readonly (number | undefined)[]): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (pgids.includes(Number(stat[2]))) ticks += Number(stat[11]) + Number(stat[12]);
    } catch {
      // exited meanwhile
    }
  }
  return (ticks * 1000) / 100;
}

function printRequests(label: string, r: { total: number; byKind: Map<string, number> }, n: number): void {
  console.log(`${label}: ${r.total} API requests (${(r.total / n).toFixed(1)} per node)`);
  for (const [k, v] of [...r.byKind].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${(v / n).toFixed(1).padStart(6)} per node  ${k}`);
}

async function main() {
  // 1. Baseline, on its own Ironic.
  let baseline: number;
  let baselineIronicCpu = 0;
  let baselineRequests: { total: number; byKind: Map<string, number> } = { total: 0, byKind: new Map() };
  {
    const ironic = await startIronic();
    try {
      const req = api(ironic.url);
      const base = Array.from({ length: N }, (_, i) => ({ name: `base-${i}`, uuid: ironicNodeUuid(`base-${i}`) }));
      await enrolNodes(req, base);
      const t0 = Date.now();
      const cpu0 = groupCpuMs([ironic.process.pid, ironic.conductor.pid]);
      const req0 = apiRequests(ironic.dataDir).total;
      await Promise.all(base.map((n) => plainLoop(req, n.uuid)));
      baseline = (Date.now() - t0) / 1000;
      baselineIronicCpu = groupCpuMs([ironic.process.pid, ironic.conductor.pid]) - cpu0;
      baselineRequests = apiRequests(ironic.dataDir, req0);
      process.stderr.write(`baseline: ${N} nodes active in ${baseline.toFixed(1)} s\n`);
    } finally {
      await ironic.stop();
    }
  }
  // 2. Stackyard, on a fresh Ironic.
  const ironic = await startIronic();
  const req = api(ironic.url);
  try {
    const site = 'bench';
    const hosts = Array.from({ length: N }, (_, i) => ({ name: `sy-${i}`, uuid: ironicNodeUuid(`${site}-sy-${i}`) }));
    await enrolNodes(req, hosts);
    const cluster = await startLocalCluster({
      dbPrefix: `bench_ironic_${Date.now()}`,
      logDir: mkdtempSync(join(tmpdir(), 'stackyard-bench-ironic-')),
      commonEnv: { LOG_LEVEL: 'warn' },
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
      const req1 = apiRequests(ironic.dataDir).total;
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
      const deadline = Date.now() + Number(values.timeout) * 1000;
      const seenKeys = new Set<string>();
      let active = 0;
      let failed = 0;
      // When each node was first seen in each provisioning state (ms from registration, 200 ms resolution).
      const firstSeen = new Map<string, number[]>();
      for (;;) {
        const nodes = (await call(prov, prov.listNodes, { siteId: site, state: ProvisionState.PROVISION_STATE_UNSPECIFIED })).nodes;
        const now = Date.now() - t1;
        for (const n of nodes) {
          const k = `${n.host?.hostId}|${ProvisionState[n.state]}`;
          if (!seenKeys.has(k)) {
            seenKeys.add(k);
            firstSeen.set(ProvisionState[n.state] ?? String(n.state), [...(firstSeen.get(ProvisionState[n.state] ?? String(n.state)) ?? []), now]);
          }
        }
        active = nodes.filter((n) => n.state === ProvisionState.PROVISION_STATE_ACTIVE).length;
        failed = nodes.filter((n) => n.lastFailure).length;
        if (active + failed >= N || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const stackyard = (Date.now() - t1) / 1000;
      const stackyardIronicCpu = groupCpuMs([ironic.process.pid, ironic.conductor.pid]) - cpu1;
      const r = apiRequests(ironic.dataDir, req1);
      console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
      console.log(`ironic bench: ${N} fake-hardware nodes, enroll -> active (manage, inspect, provide, deploy), polling every ${POLL} ms, Ironic 21.4 (Debian), ${cluster.mongoBackend}`);
      console.log(`baseline (plain HTTP loop, all nodes at once): ${baseline.toFixed(1)} s`);
      console.log(`stackyard (registered -> active through the saga): ${stackyard.toFixed(1)} s; ${active} active, ${failed} failed`);
      console.log(`overhead: ${(stackyard / baseline).toFixed(2)}x`);
      console.log(`Ironic CPU (API + conductor): baseline ${(baselineIronicCpu / 1000).toFixed(1)} s, stackyard ${(stackyardIronicCpu / 1000).toFixed(1)} s`);
      printRequests('baseline', baselineRequests, N);
      printRequests('stackyard', r, N);
      console.log('stackyard: first seen in each provisioning state, ms from registration (p50 / p99 over nodes; 200 ms resolution):');
      const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
      for (const [state, xs] of [...firstSeen].sort((a, b) => pct(a[1], 50) - pct(b[1], 50))) {
        console.log(`  ${state.replace('PROVISION_STATE_', '').toLowerCase().padEnd(16)} ${String(xs.length).padStart(4)} nodes  p50 ${pct(xs, 50).toFixed(0).padStart(6)}  p99 ${pct(xs, 99).toFixed(0).padStart(6)}`);
      }
    } finally {
      prov.close();
      c.close();
      await cluster.stop();
    }
  } finally {
    await ironic.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
