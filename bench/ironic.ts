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
import { mkdtempSync } from 'node:fs';
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

async function main() {
  // 1. Baseline, on its own Ironic.
  let baseline: number;
  {
    const ironic = await startIronic();
    try {
      const req = api(ironic.url);
      const base = Array.from({ length: N }, (_, i) => ({ name: `base-${i}`, uuid: ironicNodeUuid(`base-${i}`) }));
      await enrolNodes(req, base);
      const t0 = Date.now();
      await Promise.all(base.map((n) => plainLoop(req, n.uuid)));
      baseline = (Date.now() - t0) / 1000;
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
      let active = 0;
      let failed = 0;
      for (;;) {
        const nodes = (await call(prov, prov.listNodes, { siteId: site, state: ProvisionState.PROVISION_STATE_UNSPECIFIED })).nodes;
        active = nodes.filter((n) => n.state === ProvisionState.PROVISION_STATE_ACTIVE).length;
        failed = nodes.filter((n) => n.lastFailure).length;
        if (active + failed >= N || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const stackyard = (Date.now() - t1) / 1000;
      console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
      console.log(`ironic bench: ${N} fake-hardware nodes, enroll -> active (manage, inspect, provide, deploy), polling every ${POLL} ms, Ironic 21.4 (Debian), ${cluster.mongoBackend}`);
      console.log(`baseline (plain HTTP loop, all nodes at once): ${baseline.toFixed(1)} s`);
      console.log(`stackyard (registered -> active through the saga): ${stackyard.toFixed(1)} s; ${active} active, ${failed} failed`);
      console.log(`overhead: ${(stackyard / baseline).toFixed(2)}x`);
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
