import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '@stackyard/grpc';
import type { LocalServer } from '@stackyard/devinfra';
import { LabRuntime, type RunningDeployment } from '@stackyard/deployment';
import { Events } from '@stackyard/events';
import { NodeDeploymentState } from '@stackyard/proto/deployment/v1/deployment';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { connectBus, type Bus } from '@stackyard/nats';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';
import { countBySubject, drained } from './streams';

// Quorum gating of the services step: controllers deploy first; compute nodes of the same site wait
// (acked, recorded as waiting) until a majority of the site's controllers is deployed.
describe('quorum: compute nodes deploy after a majority of their site controllers', () => {
  let nats: LocalServer;
  let p: Platform;
  let bus: Bus;

  beforeAll(async () => {
    nats = await privateNats();
    // Controllers run ~30 containers and computes ~9: at 20 ms each a compute would finish long before
    // the controllers without the gate. bctl-02 and bctl-03 fail their first deploy (not retryable).
    p = new Platform(nats.url, uniquePrefix('quorum'), {
      provisioning: { LAB_LATENCY_MS: '20' },
      deployment: { LAB_CONTAINER_LATENCY_MS: '20', LAB_FAIL_HOSTS: 'bctl-02:1,bctl-03:1' },
    });
    await p.startAll();
    await p.defineSite('qa');
    await p.defineSite('qb');
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
    }, 60_000, `${hostId} ${NodeState[state]}`);
  const deployment = (hostId: string) => call(p.clients.deployment, p.clients.deployment.getNodeDeployment, { hostId }).then((r) => r.deployment!);
  /** The lab runtime's calls whose hosts start with `prefix` (the one runtime of the deployment service). */
  const labCalls = (prefix: string) => ((p.services.get('deployment') as RunningDeployment).runtime as LabRuntime).calls.filter((c) => c.hosts.some((h) => h.startsWith(prefix)));
  const siteDeployed = async (site: string) => {
    const m = await bus.jsm.streams.getMessage('STACKYARD_DEPLOYMENT', { last_by_subj: `stackyard.${site}.deployment.site.${site}.services-deployed` });
    return Events.SiteServicesDeployed.codec.decode(m!.data);
  };
  const deployedAt = async (site: string, hostId: string) =>
    (await bus.jsm.streams.getMessage('STACKYARD_DEPLOYMENT', { last_by_subj: `stackyard.${site}.deployment.node.${hostId}.deployed` }))!.time.getTime();

  it('3 controllers and 5 computes: no compute services deployed before 2 controllers are', async () => {
    const ctls = ['ctl-01', 'ctl-02', 'ctl-03'];
    const cmps = ['cmp-01', 'cmp-02', 'cmp-03', 'cmp-04', 'cmp-05'];
    for (const c of ctls) await p.registerHost('qa', c, ['controllers']);
    for (const c of cmps) await p.registerHost('qa', c);
    for (const h of [...ctls, ...cmps]) await until(`qa-${h}`, NodeState.NODE_STATE_READY);
    await eventually(() => drained(bus.jsm), 10_000, 'drained');

    const ctlTimes = (await Promise.all(ctls.map((c) => deployedAt('qa', `qa-${c}`)))).sort((a, b) => a - b);
    const quorumAt = ctlTimes[1]!;
    for (const c of cmps) expect(await deployedAt('qa', `qa-${c}`)).toBeGreaterThanOrEqual(quorumAt);

    const counts = await countBySubject(bus.jsm, 'stackyard.qa.deployment.node.*.*');
    const waited = cmps.filter((c) => counts[`stackyard.qa.deployment.node.qa-${c}.waiting`]);
    // The computes reached the services step while the controllers were still deploying.
    expect(waited.length).toBeGreaterThan(0);
    for (const c of waited) expect(counts[`stackyard.qa.deployment.node.qa-${c}.released`]).toBe(1);
    for (const h of [...ctls, ...cmps]) expect(counts[`stackyard.qa.deployment.node.qa-${h}.deployed`]).toBe(1);
    expect((await deployment('qa-cmp-01')).state).toBe(NodeDeploymentState.NODE_DEPLOYMENT_STATE_DEPLOYED);

    // The control plane: released once, its controllers (a majority at least) deployed in one runtime
    // call; a controller ready later joins alone; each controller in exactly one call, before any compute.
    const site = await countBySubject(bus.jsm, 'stackyard.qa.deployment.site.>');
    expect(site['stackyard.qa.deployment.site.qa.control-plane-released']).toBe(1);
    const calls = labCalls('ctl-').filter((c) => c.action === 'deploy');
    const batch = calls.filter((c) => c.hosts.length > 1);
    expect(batch).toHaveLength(1);
    expect(batch[0]!.hosts.length).toBeGreaterThanOrEqual(2);
    expect(calls.flatMap((c) => c.hosts).sort()).toEqual(ctls);
    const all = ((p.services.get('deployment') as RunningDeployment).runtime as LabRuntime).calls;
    const firstCompute = all.findIndex((c) => c.hosts.some((h) => h.startsWith('cmp-')));
    expect(all.indexOf(batch[0]!)).toBeLessThan(firstCompute);

    // The whole site deployed: SiteServicesDeployed generation 1, once, with every node.
    expect(site['stackyard.qa.deployment.site.qa.services-deployed']).toBe(1);
    const g1 = await siteDeployed('qa');
    expect(g1.generation).toBe(1);
    expect(g1.hosts.map((h) => h.name).sort()).toEqual([...cmps, ...ctls].sort());
    expect(g1.addedHostIds).toHaveLength(8);

    // A node added later: generation 2 once it is deployed, with the new node as added.
    await p.registerHost('qa', 'cmp-06');
    await until('qa-cmp-06', NodeState.NODE_STATE_READY);
    await eventually(async () => ((await siteDeployed('qa')).generation === 2 ? true : undefined), 10_000, 'generation 2');
    const g2 = await siteDeployed('qa');
    expect(g2.addedHostIds).toEqual(['qa-cmp-06']);
    expect(g2.hosts).toHaveLength(9);
    await eventually(() => drained(bus.jsm), 10_000, 'drained');
    expect((await countBySubject(bus.jsm, 'stackyard.qa.deployment.site.>'))['stackyard.qa.deployment.site.qa.services-deployed']).toBe(2);
  });

  it('controllers failing leave the computes waiting with the reason; a waiting node can be aborted; an operator retry of a controller releases the others', async () => {
    const ctls = ['bctl-01', 'bctl-02', 'bctl-03'];
    const cmps = ['bcmp-01', 'bcmp-02'];
    for (const c of ctls) await p.registerHost('qb', c, ['controllers']);
    for (const c of cmps) await p.registerHost('qb', c);
    await until('qb-bctl-02', NodeState.NODE_STATE_FAILED);
    await until('qb-bctl-03', NodeState.NODE_STATE_FAILED);
    await until('qb-bctl-01', NodeState.NODE_STATE_READY);

    for (const c of cmps) {
      const d = await eventually(async () => {
        const x = await deployment(`qb-${c}`).catch(() => undefined);
        return x?.state === NodeDeploymentState.NODE_DEPLOYMENT_STATE_WAITING && x.waiting?.reason === 'ControlPlaneFailed' ? x : undefined;
      }, 30_000, `${c} waiting on a failed control plane`);
      expect(d.waiting).toEqual({
        reason: 'ControlPlaneFailed',
        message:
          'control plane cannot reach quorum: 2 of 3 controllers must be deployed, 1 is; failed: bctl-02 (ContainerStartFailed), bctl-03 (ContainerStartFailed); retry a failed controller',
        controllersDeployed: 1,
        controllersRequired: 2,
        controllersTotal: 3,
      });
      expect(d.containers).toEqual([]);
      // Monitoring: the node is still in progress (network configured), not failed.
      expect((await progress(`qb-${c}`)).state).toBe(NodeState.NODE_STATE_IN_PROGRESS);
    }
    // Waiting costs no redeliveries: nothing pending on any consumer.
    await eventually(() => drained(bus.jsm), 10_000, 'drained while waiting');

    // A waiting node can be aborted: its compensations run (no services to remove) and it stays out.
    await call(p.clients.monitoring, p.clients.monitoring.abortNode, { hostId: 'qb-bcmp-02', requestedBy: 'bob' });
    await until('qb-bcmp-02', NodeState.NODE_STATE_ABORTED);
    expect((await deployment('qb-bcmp-02')).state).toBe(NodeDeploymentState.NODE_DEPLOYMENT_STATE_REMOVED);

    await call(p.clients.monitoring, p.clients.monitoring.retryNode, { hostId: 'qb-bctl-02', requestedBy: 'alice' });
    await until('qb-bctl-02', NodeState.NODE_STATE_READY);
    await until('qb-bcmp-01', NodeState.NODE_STATE_READY);
    expect(await deployedAt('qb', 'qb-bcmp-01')).toBeGreaterThan(await deployedAt('qb', 'qb-bctl-02'));
    expect((await progress('qb-bctl-03')).state).toBe(NodeState.NODE_STATE_FAILED);
    await eventually(() => drained(bus.jsm), 10_000, 'drained');
    expect((await progress('qb-bcmp-02')).state).toBe(NodeState.NODE_STATE_ABORTED);
    const counts = await countBySubject(bus.jsm, 'stackyard.qb.>');
    expect(counts['stackyard.qb.deployment.node.qb-bcmp-01.released']).toBe(1);
    expect(counts['stackyard.qb.deployment.node.qb-bcmp-02.released']).toBeUndefined();
    expect(counts['stackyard.qb.deployment.node.qb-bcmp-02.deployed']).toBeUndefined();
    expect(counts['stackyard.qb.deployment.node.qb-bcmp-02.services-removed']).toBe(1);
    expect(counts['stackyard.qb.provisioning.node.qb-bcmp-02.deprovisioned']).toBe(1);
    // bctl-03 is failed: the site is not deployed.
    expect(counts['stackyard.qb.deployment.site.qb.services-deployed']).toBeUndefined();
    // Every controller's first deploy ran once: the batch, or alone when it was ready after the batch.
    const first = labCalls('bctl-').filter((c) => c.action === 'deploy');
    expect(first.filter((c) => c.hosts.length > 1)).toHaveLength(1);
  });
});
