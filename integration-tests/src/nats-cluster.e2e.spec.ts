import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { call } from '@stackyard/grpc';
import { startNatsCluster, type NatsCluster, type NatsNode } from '@stackyard/devinfra';
import { CONTEXTS, streamFor } from '@stackyard/events';
import { connectBus, ensureStreams, retryTransient, type Bus } from '@stackyard/nats';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { eventually, mongoUrl, uniquePrefix } from '@stackyard/testing';
import { Platform, type Name } from './platform';
import { countBySubject, drained } from './streams';

const N = 200;
const SITE = 'nc';

/** Connects once the cluster has elected a JetStream meta leader (about a second after start). */
async function busWhenReady(url: string, name: string): Promise<Bus> {
  return eventually(async () => {
    const b = await connectBus(url, name);
    try {
      await b.jsm.getAccountInfo();
      return b;
    } catch (e) {
      await b.close();
      throw e;
    }
  }, 30_000, 'JetStream on the cluster');
}

// The five services on a 3-node NATS cluster with R3 streams; one NATS node is SIGKILLed when a
// third of the fleet is ready and restarted later. Afterwards: every node ready, no address twice,
// one of each fact per node in the streams, consumers drained.
describe(`NATS cluster: ${N} nodes while a NATS node is killed and restarted`, () => {
  let cluster: NatsCluster;
  let platform: Platform;
  let bus: Bus;
  const dbPrefix = uniquePrefix('ncl');

  beforeAll(async () => {
    cluster = await startNatsCluster();
    bus = await busWhenReady(cluster.url, 'observer');
    // R3 streams before the services start (what STREAM_REPLICAS=3 does once startService passes it).
    await retryTransient(() => ensureStreams(bus.jsm, CONTEXTS, { replicas: 3 }));
    const common = { NATS_URL: cluster.url, STREAM_REPLICAS: '3', CONSUMER_ACK_WAIT_MS: '5000' };
    const env: Partial<Record<Name, Record<string, string>>> = {
      inventory: common,
      provisioning: { ...common, LAB_LATENCY_MS: '5' },
      network: common,
      deployment: { ...common, LAB_LATENCY_MS: '5' },
      monitoring: common,
    };
    platform = new Platform(cluster.url, dbPrefix, env);
    await platform.startAll();
  }, 90_000);

  afterAll(async () => {
    await platform?.stopAll();
    await bus?.close();
    await cluster?.stop();
  });

  it('ends with every node ready, nothing doubled, with R3 streams across the failover', async () => {
    const started = Date.now();
    for (const c of CONTEXTS) {
      const info = await bus.jsm.streams.info(streamFor(c).name);
      expect(info.config.num_replicas).toBe(3);
    }
    await platform.defineSite(SITE);
    const c = platform.clients;
    let next = 0;
    const registering = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < N) {
          const i = next++;
          await eventually(() => platform.registerHost(SITE, `h${i}`), 60_000, `register h${i}`);
        }
      }),
    );
    const readyCount = async () =>
      (await call(c.monitoring, c.monitoring.listNodeProgress, { siteId: SITE })).nodes.filter((n) => n.state === NodeState.NODE_STATE_READY).length;

    // Kill the node that leads the provisioning stream (the busiest) once a third of the fleet is ready.
    await eventually(async () => ((await readyCount()) >= N / 3 ? true : undefined), 120_000, `${Math.ceil(N / 3)} nodes ready`);
    const leader = (await bus.jsm.streams.info(streamFor('provisioning').name)).cluster?.leader;
    const victim: NatsNode = cluster.nodes.find((n) => n.name === leader) ?? cluster.nodes[0]!;
    const killedAt = Date.now();
    const readyAtKill = await readyCount();
    await victim.kill();
    // Keep going on two nodes until two thirds are ready (or 25 s), then bring the node back.
    let resumedMs: number | undefined;
    await eventually(async () => {
      const n = await readyCount();
      if (resumedMs === undefined && n >= readyAtKill + 5) resumedMs = Date.now() - killedAt;
      return n >= (2 * N) / 3 || Date.now() - killedAt > 25_000 ? true : undefined;
    }, 90_000, 'progress on two NATS nodes');
    const readyBeforeRestart = await readyCount();
    const downMs = Date.now() - killedAt;
    await victim.restart();
    await registering;

    const nodes = await eventually(async () => {
      const list = (await call(c.monitoring, c.monitoring.listNodeProgress, { siteId: SITE })).nodes;
      return list.length === N && list.every((n) => n.state === NodeState.NODE_STATE_READY) ? list : undefined;
    }, 120_000, `all ${N} nodes ready`);
    expect(nodes).toHaveLength(N);
    const runMs = Date.now() - started;

    // No address allocated twice; every host holds one address per network.
    const m = new MongoClient(mongoUrl());
    await m.connect();
    try {
      const allocs = await m.db(`${dbPrefix}_network`).collection('allocations').find({ siteId: SITE }).toArray();
      const byNet = new Map<string, string[]>();
      for (const a of allocs) byNet.set(String(a['network']), [...(byNet.get(String(a['network'])) ?? []), String(a['address'])]);
      expect(byNet.size).toBeGreaterThan(0);
      for (const [, addrs] of byNet) {
        expect(new Set(addrs).size).toBe(addrs.length);
        expect(addrs.length).toBe(N);
      }
    } finally {
      await m.close();
    }

    // No fact applied twice: one of each per node in the streams, and every consumer drained. The
    // projection says ready before monitoring's relay has published NodeReady: wait for those too.
    const counts = await eventually(async () => {
      const cs = await countBySubject(bus.jsm, `stackyard.${SITE}.>`);
      return Object.keys(cs).filter((s) => s.endsWith('.ready')).length === N && (await drained(bus.jsm)) ? cs : undefined;
    }, 60_000, 'every NodeReady published and consumers drained');
    expect(Object.entries(counts).filter(([, n]) => n !== 1)).toEqual([]);
    expect(Object.keys(counts).filter((s) => s.endsWith('.ready'))).toHaveLength(N);

    // The restarted node caught up: every stream has 3 current replicas again.
    await eventually(async () => {
      for (const ctx of CONTEXTS) {
        const info = await bus.jsm.streams.info(streamFor(ctx).name);
        const replicas = info.cluster?.replicas ?? [];
        if (replicas.length !== 2 || !replicas.every((r) => r.current)) return undefined;
      }
      return true;
    }, 30_000, 'three current replicas per stream');

    // eslint-disable-next-line no-console
    console.log(
      `nats-cluster: ${N} nodes ready in ${(runMs / 1000).toFixed(1)} s; killed ${victim.name} (leader of ${streamFor('provisioning').name}) at ${readyAtKill} ready, ` +
        `saga moving again ${resumedMs === undefined ? 'n/a' : `${(resumedMs / 1000).toFixed(1)} s`} after the kill, down ${(downMs / 1000).toFixed(1)} s, ${readyBeforeRestart} ready at restart`,
    );
  }, 300_000);
});
