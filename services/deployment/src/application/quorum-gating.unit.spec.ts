import { beforeEach, describe, expect, it } from 'vitest';
import { StepFailedError } from '@stackyard/errors';
import { Events, newEvent, type Envelope, type EventType } from '@stackyard/events';
import { InMemoryAggregateStore } from '@stackyard/testing';
import type { Container } from '@stackyard/proto/deployment/v1/deployment';
import type { NodeDeploymentReleased, NodeDeploymentWaiting } from '@stackyard/proto/deployment/v1/events';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { QuorumPolicy } from '../domain/quorum';
import type { PlannedContainer } from '../domain/catalogue';
import { DeploymentService } from './deployment';
import type { ContainerRuntime, NodeDeploymentData, NodeDeploymentRepository, RuntimeRunResult, SiteControllerRepository, Write } from './ports';

// Quorum gating of the services step, Given/When/Then over the application service with in-memory stores.

class Repo implements NodeDeploymentRepository {
  readonly store = new InMemoryAggregateStore<NodeDeploymentData>('node deployment');
  /** Runs once before the next save (to interleave another writer). */
  beforeSave: (() => Promise<void>) | undefined;
  get(hostId: string) {
    return this.store.get(hostId);
  }
  async listBySite(siteId: string) {
    return (await this.store.find((d) => d.host.siteId === siteId)).map((r) => r.data);
  }
  async listDeployed() {
    return (await this.store.find((d) => d.state === 'deployed')).map((r) => ({ data: r.data, version: r.version }));
  }
  async save(d: NodeDeploymentData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    const hook = this.beforeSave;
    this.beforeSave = undefined;
    if (hook) await hook();
    const opts = { events, ...(appliedKey ? { appliedKey } : {}) };
    return version === undefined ? this.store.create(d.host.hostId, d, opts) : this.store.update(d.host.hostId, version, d, opts);
  }
}

class Controllers implements SiteControllerRepository {
  readonly store = new InMemoryAggregateStore<{ host: HostRef }>('site controller');
  async record(host: HostRef, appliedKey: string) {
    if (await this.store.get(host.hostId)) return 'duplicate' as const;
    const w = await this.store.create(host.hostId, { host }, { appliedKey });
    return w.outcome === 'duplicate' ? ('duplicate' as const) : ('applied' as const);
  }
  async listBySite(siteId: string) {
    return (await this.store.find((d) => d.host.siteId === siteId)).map((r) => r.data.host);
  }
}

class Runtime implements ContainerRuntime {
  readonly name = 'fake';
  readonly usesInputs = false;
  async health(): Promise<'unsupported'> {
    return 'unsupported';
  }
  readonly calls: string[] = [];
  readonly failing = new Set<string>();
  run(): Promise<RuntimeRunResult> {
    throw new Error('not used');
  }
  async deploy(host: HostRef, containers: readonly PlannedContainer[]): Promise<Container[]> {
    this.calls.push(host.name);
    if (this.failing.has(host.name)) throw new StepFailedError('ContainerStartFailed', `${host.name}: mariadb exited 1`, false);
    return containers.map((c) => ({ service: c.service, name: c.name, healthy: true }));
  }
}

const SITE = 'dc1';
const ref = (name: string, groups: string[] = name.startsWith('ctl') ? ['controllers'] : ['compute']): HostRef => ({ hostId: `${SITE}-${name}`, siteId: SITE, name, groups });
const ORIGIN = { id: 'origin', correlationId: 'corr' };
function ev<T>(type: EventType<T>, host: HostRef, data: T, service = 'network'): Envelope<T> {
  return newEvent({ type, site: host.siteId, entityId: host.hostId, service, data, cause: ORIGIN });
}
const key = (env: Envelope) => `test~${env.id}`;

/** Ids of this service's own facts already fed back to it. */
const fed = new Set<string>();
let repo: Repo;
let controllers: Controllers;
let runtime: Runtime;
let svc: DeploymentService;

function build(policy?: QuorumPolicy) {
  svc = new DeploymentService(repo, runtime, undefined, { controllers, ...(policy ? { policy } : {}) });
}

beforeEach(() => {
  fed.clear();
  repo = new Repo();
  controllers = new Controllers();
  runtime = new Runtime();
  build();
});

async function register(name: string, groups?: string[]) {
  const h = ref(name, groups);
  const env = newEvent({ type: Events.HostRegistered, site: SITE, entityId: h.hostId, service: 'inventory', data: { host: { id: h.hostId, siteId: SITE, name, groups: h.groups, labels: {}, hardwareProfile: '', version: 1, bmc: undefined, hardware: undefined } }, cause: ORIGIN });
  return svc.onHostRegistered(env, { appliedKey: key(env) });
}

/** NetworkConfigured for a host, then (for controllers) the deployment fact consumed back, as the consumers do. */
async function configured(name: string, groups?: string[]) {
  const h = ref(name, groups);
  const env = ev(Events.NetworkConfigured, h, { host: h, allocations: [{ siteId: SITE, hostId: h.hostId, network: 'internal', address: `10.1.0.${name.length}` }], files: [] });
  const outcome = await svc.onNetworkConfigured(env, { appliedKey: key(env), lastAttempt: false });
  await feedBack();
  return { outcome, env };
}

/**
 * Plays the relay and this service's own consumers: every ServicesDeployed / DeployFailed /
 * ServicesRemoved not fed back yet goes to onControlPlaneChanged, every NodeDeploymentReleased to
 * onReleased, until nothing new appears.
 */
async function feedBack() {
  for (;;) {
    const next = repo.store.outbox.find((e) => !fed.has(e.id) && [Events.ServicesDeployed.type, Events.DeployFailed.type, Events.ServicesRemoved.type, Events.NodeDeploymentReleased.type].includes(e.type));
    if (!next) return;
    fed.add(next.id);
    if (next.type === Events.NodeDeploymentReleased.type) await svc.onReleased(next as Envelope<NodeDeploymentReleased>, { appliedKey: key(next), lastAttempt: false });
    else await svc.onControlPlaneChanged(next as never, { appliedKey: key(next) });
  }
}

const state = async (name: string) => (await repo.get(ref(name).hostId))?.data;
const waitingEvents = () => repo.store.eventsOfType(Events.NodeDeploymentWaiting.type) as Envelope<NodeDeploymentWaiting>[];

describe('quorum gating: registering controllers', () => {
  it('Given HostRegistered of a controller, then it is kept once; other hosts are ignored', async () => {
    expect(await register('ctl-01')).toBe('applied');
    expect(await register('ctl-01')).toBe('duplicate');
    expect(await register('cmp-01')).toBe('ignored');
    expect(await register('net-01', ['network'])).toBe('ignored');
    expect((await controllers.listBySite(SITE)).map((h) => h.name)).toEqual(['ctl-01']);
  });

  it('Given no gating configured, then HostRegistered and control-plane facts are ignored', async () => {
    svc = new DeploymentService(repo, runtime);
    expect(await register('ctl-01')).toBe('ignored');
  });
});

describe('quorum gating: the services step', () => {
  it('Given a site with no registered controller, then a compute node deploys at once', async () => {
    const { outcome } = await configured('cmp-01');
    expect(outcome).toBe('applied');
    expect((await state('cmp-01'))?.state).toBe('deployed');
    expect(waitingEvents()).toEqual([]);
  });

  it('Given registered controllers none deployed, then a controller and a network host deploy at once and a compute node waits, without running anything', async () => {
    for (const c of ['ctl-01', 'ctl-02', 'ctl-03']) await register(c);
    await configured('net-01', ['network']);
    const { outcome, env } = await configured('cmp-01');

    expect(outcome).toBe('applied');
    expect(runtime.calls).toEqual(['net-01']);
    const cmp = await state('cmp-01');
    expect(cmp).toMatchObject({ state: 'waiting', containers: [], addresses: [{ network: 'internal', address: '10.1.0.6' }] });
    const wait = { reason: 'ControlPlaneQuorum', message: 'waiting for the control plane: 2 of 3 controllers must be deployed, 0 are', controllersDeployed: 0, controllersRequired: 2, controllersTotal: 3 };
    expect(cmp?.waiting).toEqual(wait);
    const [w] = waitingEvents();
    expect(w?.subject).toBe('stackyard.dc1.deployment.node.dc1-cmp-01.waiting');
    expect(w?.data).toEqual({ host: ref('cmp-01'), wait });
    expect(w?.causationId).toBe(env.id);

    // The same NetworkConfigured again (a redelivery) changes nothing.
    expect(await svc.onNetworkConfigured(env, { appliedKey: key(env), lastAttempt: false })).toBe('duplicate');
    expect(waitingEvents()).toHaveLength(1);
  });

  it('Given computes waiting, when a majority of the controllers is deployed, then they are released and deployed after the controllers', async () => {
    for (const c of ['ctl-01', 'ctl-02', 'ctl-03']) await register(c);
    await configured('cmp-01');
    await configured('cmp-02');

    await configured('ctl-01');
    // One of two: still waiting, with the new count.
    expect((await state('cmp-01'))?.waiting?.message).toBe('waiting for the control plane: 2 of 3 controllers must be deployed, 1 is');
    expect(waitingEvents()).toHaveLength(4);

    await configured('ctl-03');
    expect(runtime.calls).toEqual(['ctl-01', 'ctl-03', 'cmp-01', 'cmp-02']);
    expect((await state('cmp-01'))?.state).toBe('deployed');
    expect((await state('cmp-02'))?.waiting).toBeUndefined();
    const released = repo.store.eventsOfType(Events.NodeDeploymentReleased.type) as Envelope<NodeDeploymentReleased>[];
    expect(released.map((e) => [e.subject, e.data.controllersDeployed, e.data.controllersRequired, e.data.controllersTotal])).toEqual([
      ['stackyard.dc1.deployment.node.dc1-cmp-01.released', 2, 2, 3],
      ['stackyard.dc1.deployment.node.dc1-cmp-02.released', 2, 2, 3],
    ]);

    // The third controller's fact and a redelivered release change nothing.
    await configured('ctl-02');
    expect(await svc.onReleased(released[0]!, { appliedKey: key(released[0]!), lastAttempt: false })).toBe('duplicate');
    expect(runtime.calls).toEqual(['ctl-01', 'ctl-03', 'cmp-01', 'cmp-02', 'ctl-02']);
    expect(repo.store.eventsOfType(Events.ServicesDeployed.type)).toHaveLength(5);
  });

  it('Given a compute arriving after quorum, then it deploys at once', async () => {
    for (const c of ['ctl-01', 'ctl-02', 'ctl-03']) await register(c);
    await configured('ctl-01');
    await configured('ctl-02');
    await configured('cmp-01');
    expect((await state('cmp-01'))?.state).toBe('deployed');
    expect(waitingEvents()).toEqual([]);
  });

  it('Given controllers failing, then computes wait with ControlPlaneFailed; an operator retry of a controller releases them', async () => {
    for (const c of ['ctl-01', 'ctl-02', 'ctl-03']) await register(c);
    runtime.failing.add('ctl-02').add('ctl-03');
    await configured('cmp-01');
    await configured('ctl-01');
    await configured('ctl-02');
    expect((await state('cmp-01'))?.waiting).toMatchObject({ reason: 'ControlPlaneQuorum', message: expect.stringContaining('failed: ctl-02 (ContainerStartFailed)') });
    await configured('ctl-03');
    expect((await state('cmp-01'))?.waiting).toEqual({
      reason: 'ControlPlaneFailed',
      message: 'control plane cannot reach quorum: 2 of 3 controllers must be deployed, 1 is; failed: ctl-02 (ContainerStartFailed), ctl-03 (ContainerStartFailed); retry a failed controller',
      controllersDeployed: 1,
      controllersRequired: 2,
      controllersTotal: 3,
    });
    expect(runtime.calls).not.toContain('cmp-01');

    runtime.failing.clear();
    const retry = ev(Events.NodeRetryRequested, ref('ctl-03'), { host: ref('ctl-03'), step: 'services', attempt: 1, requestedBy: 'alice' }, 'monitoring');
    expect(await svc.onRetryRequested(retry, { appliedKey: key(retry), lastAttempt: false })).toBe('applied');
    await feedBack();
    expect((await state('cmp-01'))?.state).toBe('deployed');
    expect(runtime.calls.slice(-2)).toEqual(['ctl-03', 'cmp-01']);
  });

  it('Given a waiting node aborted, then its services are removed (none) and the control plane does not release it', async () => {
    await register('ctl-01');
    await configured('cmp-01');
    const abort = ev(Events.NodeAbortRequested, ref('cmp-01'), { host: ref('cmp-01'), requestedBy: 'bob' }, 'monitoring');
    expect(await svc.onAbortRequested(abort, { appliedKey: key(abort) })).toBe('applied');
    expect(repo.store.eventsOfType(Events.ServicesRemoved.type).map((e) => e.data)).toEqual([{ host: ref('cmp-01'), removed: [] }]);
    await feedBack();

    await configured('ctl-01');
    expect((await state('cmp-01'))?.state).toBe('removed');
    expect(runtime.calls).toEqual(['ctl-01']);
    expect(repo.store.eventsOfType(Events.NodeDeploymentReleased.type)).toEqual([]);
  });

  it('Given a released node aborted before it deploys, then the release does nothing', async () => {
    await register('ctl-01');
    await configured('cmp-01');
    const ctl = ref('ctl-01');
    const env = ev(Events.NetworkConfigured, ctl, { host: ctl, allocations: [{ siteId: SITE, hostId: ctl.hostId, network: 'internal', address: '10.1.0.9' }], files: [] });
    await svc.onNetworkConfigured(env, { appliedKey: key(env), lastAttempt: false });
    await svc.onControlPlaneChanged(repo.store.eventsOfType(Events.ServicesDeployed.type)[0] as never, { appliedKey: 'cp' });
    expect((await state('cmp-01'))?.state).toBe('released');
    const abort = ev(Events.NodeAbortRequested, ref('cmp-01'), { host: ref('cmp-01'), requestedBy: 'bob' }, 'monitoring');
    await svc.onAbortRequested(abort, { appliedKey: key(abort) });
    const [released] = repo.store.eventsOfType(Events.NodeDeploymentReleased.type) as Envelope<NodeDeploymentReleased>[];
    expect(await svc.onReleased(released!, { appliedKey: key(released!), lastAttempt: false })).toBe('duplicate');
    expect(runtime.calls).toEqual(['ctl-01']);
  });

  it('Given an aborted controller, then it no longer counts and the remaining ones can make the quorum', async () => {
    await register('ctl-01');
    await register('ctl-02');
    await configured('cmp-01');
    await configured('ctl-01');
    expect((await state('cmp-01'))?.state).toBe('waiting'); // 2 of 2 needed
    const abort = ev(Events.NodeAbortRequested, ref('ctl-02'), { host: ref('ctl-02'), requestedBy: 'bob' }, 'monitoring');
    await svc.onAbortRequested(abort, { appliedKey: key(abort) });
    await feedBack();
    expect((await state('cmp-01'))?.state).toBe('deployed');
  });

  it('Given a controller seen by its NetworkConfigured before its HostRegistered, then it counts', async () => {
    await register('ctl-02');
    await configured('ctl-01');
    await configured('cmp-01');
    // ctl-01 deployed, ctl-02 registered: 2 of 2 needed, 1 is.
    expect((await state('cmp-01'))?.waiting?.message).toBe('waiting for the control plane: 2 of 2 controllers must be deployed, 1 is');
  });

  it('Given a controller deployed between the gate and the waiting write, then the re-check releases the node (no lost wake-up)', async () => {
    await register('ctl-01');
    const ctl = ref('ctl-01');
    repo.beforeSave = async () => {
      // The controller's deployment lands (its fact would be evaluated before this node is recorded).
      await repo.store.create(ctl.hostId, { host: ctl, state: 'deployed', containers: [], lastFailure: undefined });
    };
    await configured('cmp-01');
    expect((await state('cmp-01'))?.state).toBe('deployed');
    expect(repo.store.eventsOfType(Events.NodeDeploymentReleased.type)).toHaveLength(1);
  });

  it('Given a waiting node whose NetworkConfigured is redelivered after quorum, then it is released', async () => {
    await register('ctl-01');
    const { env } = await configured('cmp-01');
    await repo.store.create(ref('ctl-01').hostId, { host: ref('ctl-01'), state: 'deployed', containers: [], lastFailure: undefined });
    expect(await svc.onNetworkConfigured(env, { appliedKey: key(env), lastAttempt: false })).toBe('applied');
    expect((await state('cmp-01'))?.state).toBe('released');
  });

  it('Given a write race while re-evaluating, then it re-reads and still releases once', async () => {
    await register('ctl-01');
    await configured('cmp-01');
    const cmp = ref('cmp-01');
    const ctl = ref('ctl-01');
    const env = ev(Events.NetworkConfigured, ctl, { host: ctl, allocations: [{ siteId: SITE, hostId: ctl.hostId, network: 'internal', address: '10.1.0.9' }], files: [] });
    await svc.onNetworkConfigured(env, { appliedKey: key(env), lastAttempt: false });
    let raced = 0;
    repo.beforeSave = async () => {
      // Someone else rewrites the waiting node first (e.g. another controller's re-evaluation).
      const cur = (await repo.store.get(cmp.hostId))!;
      if (cur.data.state === 'waiting') await repo.store.update(cmp.hostId, cur.version, { ...cur.data }, {}).then(() => raced++);
    };
    await feedBack();
    expect(raced).toBe(1);
    expect((await state('cmp-01'))?.state).toBe('deployed');
    expect(repo.store.eventsOfType(Events.NodeDeploymentReleased.type)).toHaveLength(1);
  });

  it('Given DEPLOY_QUORUM none, then computes deploy at once even with controllers pending', async () => {
    build({ kind: 'none' });
    await register('ctl-01');
    await configured('cmp-01');
    expect((await state('cmp-01'))?.state).toBe('deployed');
  });

  it('Given DEPLOY_QUORUM all, then computes wait for every controller', async () => {
    build({ kind: 'all' });
    for (const c of ['ctl-01', 'ctl-02', 'ctl-03']) await register(c);
    await configured('cmp-01');
    await configured('ctl-01');
    await configured('ctl-02');
    expect((await state('cmp-01'))?.state).toBe('waiting');
    await configured('ctl-03');
    expect((await state('cmp-01'))?.state).toBe('deployed');
  });

  it('Given facts about a compute node, then the control-plane consumer ignores them', async () => {
    await configured('cmp-01');
    const [deployed] = repo.store.eventsOfType(Events.ServicesDeployed.type);
    expect(await svc.onControlPlaneChanged(deployed as never, { appliedKey: 'x' })).toBe('ignored');
  });
});
