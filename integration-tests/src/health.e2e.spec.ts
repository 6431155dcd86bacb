import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '@stackyard/grpc';
import type { LocalServer } from '@stackyard/devinfra';
import { configSchema as deploymentSchema, LabRuntime, startDeployment, type RunningDeployment } from '@stackyard/deployment';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { connectBus, type Bus } from '@stackyard/nats';
import { eventually, mongoUrl, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';
import { countBySubject, drained } from './streams';

const INTERVAL_MS = 100;

// Node health after ready: deployment's health watch sees a ready node's containers go unhealthy and
// come back; monitoring moves the node to degraded and back to ready, each fact published once, with
// two deployment replicas watching.
describe('node health after ready (degraded, recovered)', () => {
  let nats: LocalServer;
  let p: Platform;
  let bus: Bus;
  let replica: RunningDeployment;
  const labs = () => [p.services.get('deployment') as RunningDeployment, replica].map((s) => s.runtime as LabRuntime);

  beforeAll(async () => {
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('health'), {
      provisioning: { LAB_LATENCY_MS: '0' },
      deployment: { HEALTH_CHECK_INTERVAL_MS: String(INTERVAL_MS), LAB_CONTAINER_LATENCY_MS: '0' },
    });
    await p.startAll();
    // A second deployment replica on the same database and streams: both watch the same nodes.
    replica = await startDeployment(
      deploymentSchema.parse({
        NATS_URL: nats.url,
        MONGO_URL: mongoUrl(),
        MONGO_DB_PREFIX: p.dbPrefix,
        GRPC_PORT: '0',
        HTTP_PORT: '0',
        LOG_LEVEL: 'silent',
        HEALTH_CHECK_INTERVAL_MS: String(INTERVAL_MS),
        LAB_CONTAINER_LATENCY_MS: '0',
      }),
    );
    await p.defineSite('hl');
    bus = await connectBus(nats.url, 'observer');
  });
  afterAll(async () => {
    await bus?.close();
    await replica?.stop();
    await p?.stopAll();
    await nats?.stop();
  });

  const progress = (hostId: string) => call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId }).then((r) => r.progress!);
  const until = (hostId: string, state: NodeState) =>
    eventually(async () => {
      const x = await progress(hostId);
      return x.state === state ? x : undefined;
    }, 30_000, `${hostId} ${NodeState[state]}`);
  const metric = async (site: string) => {
    const text = await fetch(`http://127.0.0.1:${p.services.get('monitoring')!.httpPort}/metrics`).then((r) => r.text());
    const m = new RegExp(`^stackyard_monitoring_nodes_degraded\\{[^}]*site="${site}"[^}]*\\} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const settle = async () => {
    // a few more rounds of both watches, then every consumer caught up
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 5));
    await eventually(() => drained(bus.jsm), 15_000, 'drained');
  };

  it('degrades a ready node whose containers turn unhealthy and recovers it when they are healthy again, each event once', async () => {
    await p.registerHost('hl', 'cmp-01');
    await p.registerHost('hl', 'cmp-02');
    await until('hl-cmp-01', NodeState.NODE_STATE_READY);
    await until('hl-cmp-02', NodeState.NODE_STATE_READY);
    await settle();
    expect(await metric('hl')).toBe(0);

    for (const lab of labs()) lab.markUnhealthy('cmp-01', ['nova_compute']);
    const degraded = await until('hl-cmp-01', NodeState.NODE_STATE_DEGRADED);
    expect(degraded.degradedReasons).toEqual(['nova_compute (nova) unhealthy']);
    expect(Number(degraded.degradedSinceMs)).toBeGreaterThan(0);
    const listed = await call(p.clients.monitoring, p.clients.monitoring.listNodeProgress, { siteId: 'hl' });
    expect(listed.nodes.map((n) => [n.host!.name, n.state])).toEqual([
      ['cmp-01', NodeState.NODE_STATE_DEGRADED],
      ['cmp-02', NodeState.NODE_STATE_READY],
    ]);
    const view = await fetch(`http://127.0.0.1:${p.services.get('monitoring')!.httpPort}/api/nodes?site=hl`).then((r) => r.json() as Promise<{ nodes: { name: string; state: string; degraded: { containers: string[] } | null }[] }>);
    expect(view.nodes.find((n) => n.name === 'cmp-01')).toMatchObject({ state: 'degraded', degraded: { containers: ['nova_compute'] } });
    const deployment = await call(p.clients.deployment, p.clients.deployment.getNodeDeployment, { hostId: 'hl-cmp-01' });
    expect(deployment.deployment?.host?.name).toBe('cmp-01');
    await settle();
    expect(await metric('hl')).toBe(1);

    for (const lab of labs()) lab.markHealthy('cmp-01');
    const back = await until('hl-cmp-01', NodeState.NODE_STATE_READY);
    expect(back.degradedReasons).toEqual([]);
    await settle();
    expect(await metric('hl')).toBe(0);

    const counts = await countBySubject(bus.jsm, 'stackyard.hl.*.*.hl-cmp-01.*');
    expect(counts).toMatchObject({
      'stackyard.hl.deployment.node.hl-cmp-01.deployed': 1,
      'stackyard.hl.deployment.node.hl-cmp-01.health-changed': 2,
      'stackyard.hl.monitoring.node.hl-cmp-01.ready': 1,
      'stackyard.hl.monitoring.node.hl-cmp-01.degraded': 1,
      'stackyard.hl.monitoring.node.hl-cmp-01.recovered': 1,
    });
    // the healthy node: no health event at all
    const other = await countBySubject(bus.jsm, 'stackyard.hl.*.*.hl-cmp-02.*');
    expect(Object.keys(other).filter((s) => /health-changed|degraded|recovered/.test(s))).toEqual([]);
  });
});
