import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { call } from '@stackyard/grpc';
import type { LocalServer } from '@stackyard/devinfra';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { ProvisionState } from '@stackyard/proto/provisioning/v1/provisioning';
import { connectBus, type Bus } from '@stackyard/nats';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';
import { countBySubject, drained } from './streams';

// Operator retry of one failed step: only that step runs again, the rest of the saga follows.
describe('operator retry of one failed step', () => {
  let nats: LocalServer;
  let p: Platform;
  let bus: Bus;

  beforeAll(async () => {
    nats = await privateNats();
    // cmp-01's inspection fails once (a fault the operator then fixes); cmp-02's deploy always fails.
    // cmp-03's network apply and cmp-04's containers fail once each.
    p = new Platform(nats.url, uniquePrefix('retry'), {
      provisioning: { LAB_LATENCY_MS: '0', LAB_FAIL_STEPS: 'cmp-01:inspect:1,cmp-02:deploy' },
      network: { LAB_FAIL_HOSTS: 'cmp-03:1' },
      deployment: { LAB_FAIL_HOSTS: 'cmp-04:1' },
    });
    await p.startAll();
    await p.defineSite('rt');
    bus = await connectBus(nats.url, 'observer');
  });
  afterAll(async () => {
    await bus?.close();
    await p?.stopAll();
    await nats?.stop();
  });

  const progress = (hostId: string) => call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId }).then((r) => r.progress!);
  const until = async (hostId: string, state: NodeState) => {
    try {
      return await eventually(async () => {
        const x = await progress(hostId);
        return x.state === state ? x : undefined;
      }, 20_000, `${hostId} ${NodeState[state]}`);
    } catch (e) {
      const node = await call(p.clients.provisioning, p.clients.provisioning.getNode, { hostId }).catch((x: unknown) => x);
      throw new Error(`${(e as Error).message}; progress ${JSON.stringify(await progress(hostId))}; node ${JSON.stringify(node)}`);
    }
  };

  it('re-runs only the failed inspection and takes the node on to ready', async () => {
    await p.registerHost('rt', 'cmp-01');
    const failed = await until('rt-cmp-01', NodeState.NODE_STATE_FAILED);
    expect(failed.lastFailure?.step).toBe('inspect');

    const r = await call(p.clients.monitoring, p.clients.monitoring.retryNode, { hostId: 'rt-cmp-01', requestedBy: 'alice' });
    expect(r.progress?.state).toBe(NodeState.NODE_STATE_IN_PROGRESS);
    expect(r.progress?.retries).toBe(1);
    const ready = await until('rt-cmp-01', NodeState.NODE_STATE_READY);
    expect(ready.retries).toBe(1);
    expect(ready.lastFailure).toBeUndefined();

    await eventually(() => drained(bus.jsm), 10_000, 'drained');
    const counts = await countBySubject(bus.jsm, 'stackyard.rt.*.*.rt-cmp-01.*');
    // Enrolment ran once; inspection failed once and succeeded once; one retry request.
    expect(counts).toMatchObject({
      'stackyard.rt.provisioning.node.rt-cmp-01.enrolled': 1,
      'stackyard.rt.provisioning.node.rt-cmp-01.provisioning-failed': 1,
      'stackyard.rt.provisioning.node.rt-cmp-01.inspected': 1,
      'stackyard.rt.provisioning.node.rt-cmp-01.provisioned': 1,
      'stackyard.rt.monitoring.node.rt-cmp-01.retry-requested': 1,
      'stackyard.rt.monitoring.node.rt-cmp-01.ready': 1,
    });
  });

  it('records a second failure when the fault is still there, and refuses to retry a node that has not failed', async () => {
    await p.registerHost('rt', 'cmp-02');
    await until('rt-cmp-02', NodeState.NODE_STATE_FAILED);
    await call(p.clients.monitoring, p.clients.monitoring.retryNode, { hostId: 'rt-cmp-02', requestedBy: 'bob' });
    const again = await eventually(async () => {
      const x = await progress('rt-cmp-02');
      return x.state === NodeState.NODE_STATE_FAILED && x.retries === 1 ? x : undefined;
    }, 20_000, 'second failure');
    expect(again.lastFailure).toMatchObject({ step: 'deploy', reason: 'DeployImageFailed' });
    const node = (await call(p.clients.provisioning, p.clients.provisioning.getNode, { hostId: 'rt-cmp-02' })).node!;
    expect(node.state).toBe(ProvisionState.PROVISION_STATE_DEPLOY_FAILED);

    const notFailed = await call(p.clients.monitoring, p.clients.monitoring.retryNode, { hostId: 'rt-cmp-01', requestedBy: 'bob' }).catch((e: { code: number }) => e);
    expect((notFailed as { code: number }).code).toBe(status.FAILED_PRECONDITION);
    const missing = await call(p.clients.monitoring, p.clients.monitoring.retryNode, { hostId: 'nope', requestedBy: '' }).catch((e: { code: number }) => e);
    expect((missing as { code: number }).code).toBe(status.NOT_FOUND);
    const empty = await call(p.clients.monitoring, p.clients.monitoring.retryNode, { hostId: '', requestedBy: '' }).catch((e: { code: number }) => e);
    expect((empty as { code: number }).code).toBe(status.INVALID_ARGUMENT);
  });

  it.each<[string, string, string]>([
    ['cmp-03', 'network', 'stackyard.rt.network.host.rt-cmp-03.configured'],
    ['cmp-04', 'services', 'stackyard.rt.deployment.node.rt-cmp-04.deployed'],
  ])('re-runs a failed %s step of the %s service and takes the node on to ready', async (name, step, done) => {
    await p.registerHost('rt', name);
    const failed = await until(`rt-${name}`, NodeState.NODE_STATE_FAILED);
    expect(failed.lastFailure?.step).toBe(step);
    await call(p.clients.monitoring, p.clients.monitoring.retryNode, { hostId: `rt-${name}`, requestedBy: 'alice' });
    const ready = await until(`rt-${name}`, NodeState.NODE_STATE_READY);
    expect(ready.retries).toBe(1);
    await eventually(() => drained(bus.jsm), 10_000, 'drained');
    const counts = await countBySubject(bus.jsm, `stackyard.rt.*.*.rt-${name}.*`);
    expect(counts[done]).toBe(1);
    expect(counts['stackyard.rt.provisioning.node.rt-' + name + '.provisioned']).toBe(1);
  });
});
