/**
 * Full-saga benchmark with lab drivers (zero hardware latency) on a real nats-server and FerretDB:
 * N nodes across M sites from registered to ready. Prints wall time, nodes/s, p50/p99 per step and
 * end to end, CPU ms per node and peak RSS per service. Not a test: it prints figures.
 *
 *   node --conditions=@stackyard/source --import tsx bench/saga.ts --nodes 1000 --sites 3
 */
import { readFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { call } from '@stackyard/grpc';
import { clientsFor, followSite, startLocalCluster, SERVICES, type LocalCluster } from '@stackyard/cli';
import { NodeState, type NodeProgress } from '@stackyard/proto/monitoring/v1/monitoring';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    sites: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '600' },
    concurrency: { type: 'string', default: '64' },
  },
});
const N = Number(values.nodes);
const M = Number(values.sites);

function procStats(pid: number): { cpuMs: number; peakRssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuMs: (ticks * 1000) / 100, peakRssMb: hwm / 1024 };
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main() {
  const cluster: LocalCluster = await startLocalCluster({
    dbPrefix: `bench_${Date.now()}`,
    logDir: mkdtempSync(join(tmpdir(), 'stackyard-bench-')),
    commonEnv: { LOG_LEVEL: 'warn' },
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
  try {
    const sites = Array.from({ length: M }, (_, i) => `site${i + 1}`);
    for (const site of sites) {
      await call(c.inventory, c.inventory.createSite, { id: site, displayName: site });
      await call(c.network, c.network.defineNetwork, {
        network: { siteId: site, name: 'provision_oc', cidr: '10.0.0.0/16', gateway: '10.0.0.1', allocationPoolStart: '10.0.1.0', allocationPoolEnd: '10.0.254.254', vlan: 0, mtu: 1500, groups: ['compute'], interface: '{nic0}', version: 0 },
      });
    }
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
    console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
    console.log(`saga bench: ${N} nodes, ${M} site(s), lab drivers with zero latency, real nats-server + ${cluster.mongoBackend}`);
    console.log(`registration: ${((registeredAt - t0) / 1000).toFixed(1)} s; wall to all done: ${wall.toFixed(1)} s; ${ready.length} ready, ${nodes.length - ready.length} not ready`);
    console.log(`throughput: ${(ready.length / wall).toFixed(1)} nodes/s`);
    console.log('step latency (ms, from the previous step):');
    for (let i = 1; i < steps.length; i++) {
      const d = ready.map((n) => n.steps[i]!.atMs - n.steps[i - 1]!.atMs);
      console.log(`  ${steps[i]!.padEnd(20)} p50 ${pct(d, 50).toFixed(0).padStart(6)}  p99 ${pct(d, 99).toFixed(0).padStart(6)}`);
    }
    const e2e = ready.map((n) => n.steps[n.steps.length - 1]!.atMs - n.steps[0]!.atMs);
    console.log(`  ${'end to end'.padEnd(20)} p50 ${pct(e2e, 50).toFixed(0).padStart(6)}  p99 ${pct(e2e, 99).toFixed(0).padStart(6)}`);
    console.log('per service: CPU ms per node, peak RSS:');
    let total = 0;
    for (const n of SERVICES) {
      const cpu = after[n]!.cpuMs - before[n]!.cpuMs;
      total += cpu;
      console.log(`  ${n.padEnd(13)} ${(cpu / N).toFixed(1).padStart(7)} ms/node  ${after[n]!.peakRssMb.toFixed(0).padStart(5)} MB`);
    }
    console.log(`  ${'all services'.padEnd(13)} ${(total / N).toFixed(1).padStart(7)} ms/node`);
  } finally {
    c.close();
    await cluster.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
