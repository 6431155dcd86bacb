import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '@stackyard/grpc';
import { clientsFor, startLocalCluster, type Clients, type LocalCluster } from '@stackyard/cli';
import { connectBus, type Bus } from '@stackyard/nats';
import type { LocalServer } from '@stackyard/devinfra';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { eventually, mongoUrl, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';
import { countBySubject, drained } from './streams';

const stepDone = (pr: { steps: { name: string; state: number }[] }, step: string) => pr.steps.find((s) => s.name === step)?.state === 2;

describe('a service stopped mid-saga and restarted resumes the node (in process)', () => {
  let nats: LocalServer;
  let p: Platform;
  let bus: Bus;

  beforeAll(async () => {
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('restart'), { provisioning: { LAB_LATENCY_MS: '5' } });
    await p.startAll();
    await p.defineSite('rs');
    bus = await connectBus(nats.url, 'observer');
  });
  afterAll(async () => {
    await bus?.close();
    await p?.stopAll();
    await nats?.stop();
  });

  it('holds the node at inspected while network (which allocates the admin address before deploy) and deployment are down, then finishes it', async () => {
    await p.stop('network');
    await p.stop('deployment');
    await p.registerHost('rs', 'cmp-01');
    const progress = () => call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId: 'rs-cmp-01' }).then((r) => r.progress!);
    await eventually(async () => (stepDone(await progress(), 'inspected') ? true : undefined), 20_000, 'inspected');
    await new Promise((r) => setTimeout(r, 500));
    expect(stepDone(await progress(), 'provisioned')).toBe(false);

    await p.start('network');
    await p.start('deployment');
    const pr = await eventually(async () => {
      const x = await progress();
      return x.state === NodeState.NODE_STATE_READY ? x : undefined;
    }, 20_000, 'ready after restart');
    expect(pr.steps.every((s) => s.state === 2)).toBe(true);
    await eventually(() => drained(bus.jsm), 10_000, 'drained');
    const counts = await countBySubject(bus.jsm, 'stackyard.rs.*.*.rs-cmp-01.*');
    expect(Object.values(counts).every((n) => n === 1)).toBe(true);
    expect(Object.keys(counts).map((k) => k.split('.').slice(2, 3).concat(k.split('.').slice(-1)).join('.')).sort()).toEqual([
      'deployment.deployed',
      'deployment.host-prepared',
      'inventory.hardware-recorded',
      'inventory.registered',
      'inventory.updated',
      'monitoring.ready',
      'network.admin-address-allocated',
      'network.configured',
      'provisioning.enrolled',
      'provisioning.inspected',
      'provisioning.provisioned',
    ]);
  });
});

describe('a service killed (SIGKILL) mid-step and restarted resumes the node (processes)', () => {
  let nats: LocalServer;
  let cluster: LocalCluster;
  let clients: Clients;
  let bus: Bus;

  beforeAll(async () => {
    nats = await privateNats();
    cluster = await startLocalCluster({
      natsUrl: nats.url,
      mongoUrl: mongoUrl(),
      dbPrefix: uniquePrefix('kill'),
      logDir: mkdtempSync(join(tmpdir(), 'stackyard-kill-')),
      // A short ack wait so that the killed replica's event is redelivered within the test.
      commonEnv: { CONSUMER_ACK_WAIT_MS: '2000', LOG_LEVEL: 'warn' },
      env: { provisioning: { LAB_LATENCY_MS: '1500' } },
      say: () => undefined,
    });
    const s = cluster.services;
    clients = clientsFor({ inventory: s.inventory.grpcPort, network: s.network.grpcPort, monitoring: s.monitoring.grpcPort });
    bus = await connectBus(nats.url, 'observer');
  }, 120_000);
  afterAll(async () => {
    clients?.close();
    await bus?.close();
    await cluster?.stop();
    await nats?.stop();
  });

  it('re-runs the interrupted step once and reaches ready, each fact published once', async () => {
    await call(clients.inventory, clients.inventory.createSite, { id: 'kl', displayName: 'kill test' });
    await call(clients.network, clients.network.defineNetwork, {
      network: { siteId: 'kl', name: 'provision_oc', cidr: '10.0.0.0/24', gateway: '10.0.0.1', allocationPoolStart: '10.0.0.10', allocationPoolEnd: '10.0.0.20', vlan: 0, mtu: 1500, groups: ['compute'], interface: '', version: 0 },
    });
    await call(clients.inventory, clients.inventory.registerHost, {
      siteId: 'kl',
      name: 'cmp-01',
      groups: ['compute'],
      bmc: { address: '10.9.0.1', driver: 'lab', credentialRef: '' },
      labels: {},
      hardwareProfile: 'compute-std',
      requestId: 'r1',
    });
    const progress = () => call(clients.monitoring, clients.monitoring.getNodeProgress, { hostId: 'kl-cmp-01' }).then((r) => r.progress!);
    // Enrolled: the 1.5 s inspection is now running in the provisioning process. Kill it.
    await eventually(async () => (stepDone(await progress(), 'enrolled') ? true : undefined), 30_000, 'enrolled');
    await cluster.kill('provisioning');
    await new Promise((r) => setTimeout(r, 300));
    expect(stepDone(await progress(), 'inspected')).toBe(false);
    await cluster.restart('provisioning');
    const pr = await eventually(async () => {
      const x = await progress();
      return x.state === NodeState.NODE_STATE_READY ? x : undefined;
    }, 60_000, 'ready after the kill');
    expect(pr.steps.every((s) => s.state === 2)).toBe(true);
    await eventually(() => drained(bus.jsm), 20_000, 'drained');
    const counts = await countBySubject(bus.jsm, 'stackyard.kl.*.*.kl-cmp-01.*');
    expect(counts).toMatchObject({
      'stackyard.kl.provisioning.node.kl-cmp-01.enrolled': 1,
      'stackyard.kl.provisioning.node.kl-cmp-01.inspected': 1,
      'stackyard.kl.provisioning.node.kl-cmp-01.provisioned': 1,
      'stackyard.kl.monitoring.node.kl-cmp-01.ready': 1,
    });
  }, 120_000);
});
