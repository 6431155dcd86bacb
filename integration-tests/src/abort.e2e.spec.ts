import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { call } from '@stackyard/grpc';
import type { LocalServer } from '@stackyard/devinfra';
import { LabRuntime, type RunningDeployment } from '@stackyard/deployment';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { NodeDeploymentState } from '@stackyard/proto/deployment/v1/deployment';
import { ProvisionState } from '@stackyard/proto/provisioning/v1/provisioning';
import { connectBus, type Bus } from '@stackyard/nats';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';
import { countBySubject, drained } from './streams';

// Abort: the compensations run in reverse order (services removed, addresses released, node
// deprovisioned) and the node ends aborted and clean.
describe('abort with compensations in reverse order', () => {
  let nats: LocalServer;
  let p: Platform;
  let bus: Bus;

  beforeAll(async () => {
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('abort'), { provisioning: { LAB_LATENCY_MS: '300' } });
    await p.startAll();
    await p.defineSite('ab');
    bus = await connectBus(nats.url, 'observer');
  });
  afterAll(async () => {
    await bus?.close();
    await p?.stopAll();
    await nats?.stop();
  });

  const progress = (hostId: string) => call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId }).then((r) => r.progress!);
  const until = (hostId: string, state: NodeState) =>
    eventually(async () => {
      const x = await progress(hostId);
      return x.state === state ? x : undefined;
    }, 30_000, `${hostId} ${NodeState[state]}`);
  /** The lab runtime's destroy calls (the compensation goes through the runtime port). */
  const destroys = () => ((p.services.get('deployment') as RunningDeployment).runtime as LabRuntime).calls.filter((c) => c.action === 'destroy');
  const allocations = async (hostId: string) => {
    const text = (await call(p.clients.network, p.clients.network.exportAllocations, { siteId: 'ab' })).yaml;
    return text.split('\n').filter((l) => l.includes(hostId.replace(/^ab-/, '')));
  };

  it('removes services, releases addresses and deprovisions a ready node, in that order', async () => {
    await p.registerHost('ab', 'cmp-01');
    await until('ab-cmp-01', NodeState.NODE_STATE_READY);
    expect(await allocations('ab-cmp-01')).not.toEqual([]);

    const r = await call(p.clients.monitoring, p.clients.monitoring.abortNode, { hostId: 'ab-cmp-01', requestedBy: 'alice' });
    expect(r.progress?.state).toBe(NodeState.NODE_STATE_ABORTING);
    await until('ab-cmp-01', NodeState.NODE_STATE_ABORTED);

    const dep = (await call(p.clients.deployment, p.clients.deployment.getNodeDeployment, { hostId: 'ab-cmp-01' })).deployment!;
    expect(dep.state).toBe(NodeDeploymentState.NODE_DEPLOYMENT_STATE_REMOVED);
    expect(dep.containers).toEqual([]);
    // Its containers were destroyed through the runtime, limited to the node, once.
    expect(destroys()).toEqual([{ action: 'destroy', hosts: ['cmp-01'] }]);
    expect(await allocations('ab-cmp-01')).toEqual([]);
    const node = (await call(p.clients.provisioning, p.clients.provisioning.getNode, { hostId: 'ab-cmp-01' })).node!;
    expect(node.state).toBe(ProvisionState.PROVISION_STATE_AVAILABLE);
    expect(node.aborted).toBe(true);
    expect(node.power).toBe('off');
    expect(node.allowedActions).toEqual([]);

    await eventually(() => drained(bus.jsm), 10_000, 'drained');
    const seq = async (subject: string) => (await bus.jsm.streams.getMessage(subject.split('.')[2] === 'monitoring' ? 'STACKYARD_MONITORING' : `STACKYARD_${subject.split('.')[2]!.toUpperCase()}`, { last_by_subj: subject }))!.time.getTime();
    const t = [
      await seq('stackyard.ab.monitoring.node.ab-cmp-01.abort-requested'),
      await seq('stackyard.ab.deployment.node.ab-cmp-01.services-removed'),
      await seq('stackyard.ab.network.host.ab-cmp-01.addresses-released'),
      await seq('stackyard.ab.provisioning.node.ab-cmp-01.deprovisioned'),
    ];
    expect([...t].sort((a, b) => a - b)).toEqual(t);
    expect((await call(p.clients.monitoring, p.clients.monitoring.abortNode, { hostId: 'ab-cmp-01', requestedBy: 'alice' }).catch((e: { code: number }) => e)) as { code: number }).toMatchObject({ code: status.FAILED_PRECONDITION });
  });

  it('stops a node in flight: no later step takes effect, nothing is left allocated or deployed', async () => {
    await p.registerHost('ab', 'cmp-02');
    await eventually(async () => ((await progress('ab-cmp-02')).steps.find((s) => s.name === 'enrolled')?.state === 2 ? true : undefined), 20_000, 'enrolled');
    await call(p.clients.monitoring, p.clients.monitoring.abortNode, { hostId: 'ab-cmp-02', requestedBy: 'bob' });
    await until('ab-cmp-02', NodeState.NODE_STATE_ABORTED);
    // Let the inspection that was running finish and its fact travel.
    await new Promise((r) => setTimeout(r, 1500));
    await eventually(() => drained(bus.jsm), 10_000, 'drained');
    expect((await progress('ab-cmp-02')).state).toBe(NodeState.NODE_STATE_ABORTED);
    const counts = await countBySubject(bus.jsm, 'stackyard.ab.*.*.ab-cmp-02.*');
    expect(counts['stackyard.ab.network.host.ab-cmp-02.configured']).toBeUndefined();
    expect(counts['stackyard.ab.deployment.node.ab-cmp-02.deployed']).toBeUndefined();
    expect(counts['stackyard.ab.monitoring.node.ab-cmp-02.ready']).toBeUndefined();
    // Nothing ran on it, so nothing is destroyed.
    expect(destroys().filter((c) => c.hosts.includes('cmp-02'))).toEqual([]);
    expect(await allocations('ab-cmp-02')).toEqual([]);
    const node = (await call(p.clients.provisioning, p.clients.provisioning.getNode, { hostId: 'ab-cmp-02' })).node!;
    expect(node.aborted).toBe(true);
    expect(node.state).not.toBe(ProvisionState.PROVISION_STATE_ACTIVE);
  });
});
