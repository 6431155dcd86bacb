import { beforeEach, describe, expect, it } from 'vitest';
import { StepFailedError, ValidationError } from '@stackyard/errors';
import { Events, newEvent, type Envelope, type EventType } from '@stackyard/events';
import { InMemoryAggregateStore } from '@stackyard/testing';
import type { Container } from '@stackyard/proto/deployment/v1/deployment';
import type { ControlPlaneReleased, DeployFailed, SiteServicesDeployed } from '@stackyard/proto/deployment/v1/events';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { PlannedContainer } from '../domain/catalogue';
import type { QuorumPolicy } from '../domain/quorum';
import { DeploymentService } from './deployment';
import type { SiteOperations } from './operations';
import type {
  ContainerRuntime,
  NodeDeploymentData,
  NodeDeploymentRepository,
  RuntimeOperation,
  RuntimeRunResult,
  SiteControllerRepository,
  SiteRolloutData,
  SiteRolloutRepository,
  Write,
} from './ports';

// Control-plane batching (one runtime call for the controllers released together), SiteServicesDeployed
// generations and abort's destroy through the runtime, Given/When/Then over the application service
// with in-memory stores.

class Repo implements NodeDeploymentRepository {
  readonly store = new InMemoryAggregateStore<NodeDeploymentData>('node deployment');
  get(hostId: string) {
    return this.store.get(hostId);
  }
  async listBySite(siteId: string) {
    return (await this.store.find((d) => d.host.siteId === siteId)).map((r) => r.data);
  }
  async anyUnfinished(siteId: string) {
    return (await this.listBySite(siteId)).some((d) => d.state !== 'deployed' && d.state !== 'removed');
  }
  async listDeployed() {
    return (await this.store.find((d) => d.state === 'deployed')).map((r) => ({ data: r.data, version: r.version }));
  }
  save(d: NodeDeploymentData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    const opts = { events, ...(appliedKey ? { appliedKey } : {}) };
    return version === undefined ? this.store.create(d.host.hostId, d, opts) : this.store.update(d.host.hostId, version, d, opts);
  }
}

class Registered implements SiteControllerRepository {
  readonly store: InMemoryAggregateStore<{ host: HostRef }>;
  constructor(kind: string) {
    this.store = new InMemoryAggregateStore<{ host: HostRef }>(kind);
  }
  async record(host: HostRef, appliedKey: string) {
    if (await this.store.get(host.hostId)) return 'duplicate' as const;
    const w = await this.store.create(host.hostId, { host }, { appliedKey });
    return w.outcome === 'duplicate' ? ('duplicate' as const) : ('applied' as const);
  }
  async listBySite(siteId: string) {
    return (await this.store.find((d) => d.host.siteId === siteId)).map((r) => r.data.host);
  }
}

class Rollouts implements SiteRolloutRepository {
  readonly store = new InMemoryAggregateStore<SiteRolloutData>('site rollout');
  get(siteId: string) {
    return this.store.get(siteId);
  }
  save(d: SiteRolloutData, version: number | undefined, events: readonly Envelope[]): Promise<Write> {
    return version === undefined ? this.store.create(d.siteId, d, { events }) : this.store.update(d.siteId, version, d, { events });
  }
}

/** Records every call (`deploy <host>` for one node, `<action> <h1,h2>` for a run) and fails the hosts it is told to. */
class Runtime implements ContainerRuntime {
  readonly name = 'fake';
  usesInputs = false;
  readonly calls: string[] = [];
  readonly failing = new Map<string, StepFailedError>();
  readonly runs: RuntimeOperation[] = [];
  async health(): Promise<'unsupported'> {
    return 'unsupported';
  }
  async deploy(host: HostRef, containers: readonly PlannedContainer[]): Promise<Container[]> {
    this.calls.push(`deploy ${host.name}`);
    const e = this.failing.get(host.name);
    if (e) throw e;
    return containers.map((c) => ({ service: c.service, name: c.name, healthy: true }));
  }
  async run(op: RuntimeOperation): Promise<RuntimeRunResult> {
    this.runs.push(op);
    this.calls.push(`${op.action} ${(op.limit ?? []).join(',')}`);
    return {
      action: op.action,
      hosts: (op.limit ?? []).map((host) => {
        const e = this.failing.get(host);
        if (e) return { host, outcome: 'failed' as const, containers: [], error: e };
        return { host, outcome: 'ok' as const, containers: (op.action === 'destroy' ? [] : (op.containers[host] ?? [])).map((c) => ({ service: c.service, name: c.name, healthy: true })) };
      }),
    };
  }
}

const SITE = 'dc1';
const ref = (name: string, groups: string[] = name.startsWith('ctl') ? ['controllers'] : ['compute']): HostRef => ({ hostId: `${SITE}-${name}`, siteId: SITE, name, groups });
const ORIGIN = { id: 'origin', correlationId: 'corr' };
function ev<T>(type: EventType<T>, host: HostRef, data: T, service = 'network'): Envelope<T> {
  return newEvent({ type, site: host.siteId, entityId: host.hostId, service, data, cause: ORIGIN });
}
const key = (env: Envelope) => `test~${env.id}`;

let repo: Repo;
let controllers: Registered;
let hosts: Registered;
let rollouts: Rollouts;
let runtime: Runtime;
let svc: DeploymentService;
const fed = new Set<string>();

function build(policy?: QuorumPolicy) {
  svc = new DeploymentService(repo, runtime, undefined, { controllers, hosts, rollouts, ...(policy ? { policy } : {}) });
}

beforeEach(() => {
  fed.clear();
  repo = new Repo();
  controllers = new Registered('site controller');
  hosts = new Registered('site host');
  rollouts = new Rollouts();
  runtime = new Runtime();
  build();
});

async function register(name: string, groups?: string[]) {
  const h = ref(name, groups);
  const env = newEvent({ type: Events.HostRegistered, site: SITE, entityId: h.hostId, service: 'inventory', data: { host: { id: h.hostId, siteId: SITE, name, groups: h.groups, labels: {}, hardwareProfile: '', version: 1, bmc: undefined, hardware: undefined } }, cause: ORIGIN });
  return svc.onHostRegistered(env, { appliedKey: key(env) });
}

function networkConfigured(name: string, groups?: string[]) {
  const h = ref(name, groups);
  return ev(Events.NetworkConfigured, h, { host: h, allocations: [{ siteId: SITE, hostId: h.hostId, network: 'internal', address: `10.1.0.${10 + name.length}` }], files: [] });
}

/** NetworkConfigured for a host, then this service's own facts fed back until nothing new appears. */
async function configured(name: string, groups?: string[]) {
  const env = networkConfigured(name, groups);
  const outcome = await svc.onNetworkConfigured(env, { appliedKey: key(env), lastAttempt: false });
  await feedBack();
  return { outcome, env };
}

const outbox = () => [...repo.store.outbox, ...rollouts.store.outbox];

/** Plays the relay and this service's own consumers (last delivery: `lastAttempt`). */
async function feedBack(lastAttempt = false) {
  const own = [Events.ServicesDeployed, Events.DeployFailed, Events.ServicesRemoved, Events.NodeDeploymentReleased, Events.ControlPlaneReleased].map((t) => t.type);
  for (;;) {
    const next = outbox().find((e) => !fed.has(e.id) && own.includes(e.type));
    if (!next) return;
    fed.add(next.id);
    if (next.type === Events.NodeDeploymentReleased.type) await svc.onReleased(next as never, { appliedKey: key(next), lastAttempt: false });
    else if (next.type === Events.ControlPlaneReleased.type) await svc.onControlPlaneReleased(next as Envelope<ControlPlaneReleased>, { appliedKey: key(next), lastAttempt });
    else await svc.onControlPlaneChanged(next as never, { appliedKey: key(next) });
  }
}

const state = async (name: string) => (await repo.get(ref(name).hostId))?.data;
const released = () => rollouts.store.eventsOfType(Events.ControlPlaneReleased.type) as Envelope<ControlPlaneReleased>[];
const siteEvents = () => rollouts.store.eventsOfType(Events.SiteServicesDeployed.type) as Envelope<SiteServicesDeployed>[];

describe('control plane: the controllers released together are deployed in one runtime call', () => {
  it('Given 3 controllers, when 2 are ready, then ctl-01 and ctl-02 deploy in one call, ctl-03 joins alone after, computes after the quorum', async () => {
    for (const c of ['ctl-01', 'ctl-02', 'ctl-03']) await register(c);
    await configured('cmp-01');
    await configured('ctl-01');
    expect(await state('ctl-01')).toMatchObject({
      state: 'waiting',
      waiting: { reason: 'ControlPlaneAssembling', message: 'waiting for the controllers: 2 of 3 controllers must be ready to deploy the control plane together, 1 is' },
    });
    expect(runtime.calls).toEqual([]);

    await configured('ctl-02');
    const [cp, ...more] = released();
    expect(more).toEqual([]);
    expect(cp?.subject).toBe('stackyard.dc1.deployment.site.dc1.control-plane-released');
    expect(cp?.data).toEqual({ siteId: SITE, controllers: [ref('ctl-01'), ref('ctl-02')], controllersReady: 2, controllersRequired: 2, controllersTotal: 3 });
    expect(runtime.calls).toEqual(['deploy ctl-01,ctl-02', 'deploy cmp-01']);
    expect(runtime.runs[0]?.containers['ctl-01']?.map((c) => c.name)).toContain('mariadb');

    await configured('ctl-03');
    expect(runtime.calls).toEqual(['deploy ctl-01,ctl-02', 'deploy cmp-01', 'deploy ctl-03']);
    for (const h of ['ctl-01', 'ctl-02', 'ctl-03', 'cmp-01']) expect((await state(h))?.state).toBe(`deployed`);
    const deployed = repo.store.eventsOfType(Events.ServicesDeployed.type).map((e) => e.subject.split('.')[4]);
    expect(deployed).toEqual(['dc1-ctl-01', 'dc1-ctl-02', 'dc1-cmp-01', 'dc1-ctl-03']);
    // The batch's members were never released one by one.
    expect(repo.store.eventsOfType(Events.NodeDeploymentReleased.type).map((e) => e.subject.split('.')[4])).toEqual(['dc1-cmp-01']);
  });

  it('Given ControlPlaneReleased and NetworkConfigured delivered again, then nothing runs twice', async () => {
    for (const c of ['ctl-01', 'ctl-02']) await register(c);
    const a = (await configured('ctl-01')).env;
    await configured('ctl-02');
    const [cp] = released();
    expect(await svc.onControlPlaneReleased(cp!, { appliedKey: key(cp!), lastAttempt: false })).toBe('duplicate');
    expect(await svc.onNetworkConfigured(a, { appliedKey: key(a), lastAttempt: false })).toBe('duplicate');
    expect(runtime.calls).toEqual(['deploy ctl-01,ctl-02']);
    expect(repo.store.eventsOfType(Events.ServicesDeployed.type)).toHaveLength(2);
  });

  it('Given a member redelivered while the batch is released but not run yet, then it is the batch’s: no second deploy', async () => {
    for (const c of ['ctl-01', 'ctl-02']) await register(c);
    const a = networkConfigured('ctl-01');
    await svc.onNetworkConfigured(a, { appliedKey: key(a), lastAttempt: false });
    const b = networkConfigured('ctl-02');
    await svc.onNetworkConfigured(b, { appliedKey: key(b), lastAttempt: false });
    expect(released()).toHaveLength(1);
    expect(await svc.onNetworkConfigured(a, { appliedKey: key(a), lastAttempt: false })).toBe('duplicate');
    expect(runtime.calls).toEqual([]);
    await feedBack();
    expect(runtime.calls).toEqual(['deploy ctl-01,ctl-02']);
  });

  it('Given two controllers completing the quorum at once (two replicas), then the control plane is released once', async () => {
    for (const c of ['ctl-01', 'ctl-02', 'ctl-03']) await register(c);
    await configured('ctl-01');
    const b = networkConfigured('ctl-02');
    const c = networkConfigured('ctl-03');
    await Promise.all([svc.onNetworkConfigured(b, { appliedKey: key(b), lastAttempt: false }), svc.onNetworkConfigured(c, { appliedKey: key(c), lastAttempt: false })]);
    await feedBack();
    expect(released()).toHaveLength(1);
    const runs = runtime.calls.filter((x) => x.includes(','));
    expect(runs).toHaveLength(1);
    // Every controller deployed exactly once, in the batch or joining after it.
    const each = runtime.calls.flatMap((x) => x.split(' ')[1]!.split(','));
    expect(each.sort()).toEqual(['ctl-01', 'ctl-02', 'ctl-03']);
  });

  it('Given a controller failing in the batch, then it gets DeployFailed with its reason, the others deploy, and an operator retry deploys it alone', async () => {
    for (const c of ['ctl-01', 'ctl-02', 'ctl-03']) await register(c);
    runtime.failing.set('ctl-02', new StepFailedError('KollaTaskFailed', 'ctl-02: failed in task "mariadb : Check MariaDB service": timeout', false));
    await configured('cmp-01');
    await configured('ctl-01');
    await configured('ctl-02');
    expect(runtime.calls).toEqual(['deploy ctl-01,ctl-02']);
    expect(await state('ctl-01')).toMatchObject({ state: 'deployed' });
    const failure = { step: 'services', reason: 'KollaTaskFailed', message: 'ctl-02: failed in task "mariadb : Check MariaDB service": timeout', retryable: false };
    expect(await state('ctl-02')).toMatchObject({ state: 'failed', lastFailure: failure });
    expect((await state('ctl-02'))?.waiting).toBeUndefined();
    expect((repo.store.eventsOfType(Events.DeployFailed.type) as Envelope<DeployFailed>[]).map((e) => e.data)).toEqual([{ host: ref('ctl-02'), failure }]);
    expect((await state('cmp-01'))?.state).toBe('waiting');

    runtime.failing.clear();
    const retry = ev(Events.NodeRetryRequested, ref('ctl-02'), { host: ref('ctl-02'), step: 'services', attempt: 1, requestedBy: 'alice' }, 'monitoring');
    expect(await svc.onRetryRequested(retry, { appliedKey: key(retry), lastAttempt: false })).toBe('applied');
    await feedBack();
    expect(runtime.calls).toEqual(['deploy ctl-01,ctl-02', 'deploy ctl-02', 'deploy cmp-01']);
  });

  it('Given a retryable host failure with deliveries left, then the ok members are written and the redelivery runs only the rest; on the last delivery it fails', async () => {
    for (const c of ['ctl-01', 'ctl-02']) await register(c);
    runtime.failing.set('ctl-02', new StepFailedError('HostUnreachable', 'ctl-02: unreachable in task "Gather facts": No route to host', true));
    await configured('ctl-01');
    const b = networkConfigured('ctl-02');
    await svc.onNetworkConfigured(b, { appliedKey: key(b), lastAttempt: false });
    const [cp] = released();
    fed.add(cp!.id);
    await expect(svc.onControlPlaneReleased(cp!, { appliedKey: key(cp!), lastAttempt: false })).rejects.toMatchObject({ reason: 'HostUnreachable' });
    expect((await state('ctl-01'))?.state).toBe('deployed');
    expect((await state('ctl-02'))?.state).toBe('waiting');

    await expect(svc.onControlPlaneReleased(cp!, { appliedKey: key(cp!), lastAttempt: false })).rejects.toMatchObject({ reason: 'HostUnreachable' });
    expect(await svc.onControlPlaneReleased(cp!, { appliedKey: key(cp!), lastAttempt: true })).toBe('applied');
    expect(runtime.calls).toEqual(['deploy ctl-01,ctl-02', 'deploy ctl-02', 'deploy ctl-02']);
    expect(await state('ctl-02')).toMatchObject({ state: 'failed', lastFailure: { reason: 'HostUnreachable', retryable: true } });
    expect(repo.store.eventsOfType(Events.ServicesDeployed.type)).toHaveLength(1);
  });

  it('Given a member aborted before the batch runs, then the batch runs without it', async () => {
    for (const c of ['ctl-01', 'ctl-02']) await register(c);
    await svc.onNetworkConfigured(networkConfigured('ctl-01'), { appliedKey: 'a', lastAttempt: false });
    await svc.onNetworkConfigured(networkConfigured('ctl-02'), { appliedKey: 'b', lastAttempt: false });
    const abort = ev(Events.NodeAbortRequested, ref('ctl-02'), { host: ref('ctl-02'), requestedBy: 'bob' }, 'monitoring');
    await svc.onAbortRequested(abort, { appliedKey: key(abort) });
    await feedBack();
    expect(runtime.calls).toEqual(['deploy ctl-01']);
    expect((await state('ctl-02'))?.state).toBe('removed');
  });

  it('Given DEPLOY_QUORUM all, then every controller is in the one call; with none, each deploys alone', async () => {
    build({ kind: 'all' });
    for (const c of ['ctl-01', 'ctl-02', 'ctl-03']) await register(c);
    for (const c of ['ctl-01', 'ctl-02', 'ctl-03']) await configured(c);
    expect(runtime.calls).toEqual(['deploy ctl-01,ctl-02,ctl-03']);

    repo = new Repo();
    rollouts = new Rollouts();
    runtime = new Runtime();
    build({ kind: 'none' });
    for (const c of ['ctl-01', 'ctl-02']) await configured(c);
    expect(runtime.calls).toEqual(['deploy ctl-01', 'deploy ctl-02']);
    expect(released()).toEqual([]);
  });

  it('Given a runtime that takes no site inputs (lab), then neither the batch nor a destroy generates them (no VIP needed); one that does gets them', async () => {
    const generated: string[] = [];
    const site = {
      inputsFor: async (siteId: string) => {
        generated.push(siteId);
        if (!runtime.usesInputs) throw new ValidationError('kolla_internal_vip_address', 'required');
        return { siteId, files: [{ path: 'globals.yml', content: '---\n' }], hosts: ['ctl-01', 'ctl-02'] };
      },
      recordApplied: async () => undefined,
    } as unknown as SiteOperations;
    svc = new DeploymentService(repo, runtime, site, { controllers, hosts, rollouts });
    for (const c of ['ctl-01', 'ctl-02']) await register(c);
    await configured('ctl-01');
    await configured('ctl-02');
    const env = ev(Events.NodeAbortRequested, ref('ctl-01'), { host: ref('ctl-01'), requestedBy: 'bob' }, 'monitoring');
    await svc.onAbortRequested(env, { appliedKey: key(env) });
    expect(generated).toEqual([]);
    expect(runtime.calls).toEqual(['deploy ctl-01,ctl-02', 'destroy ctl-01']);
    expect((await state('ctl-01'))?.state).toBe('removed');

    runtime.usesInputs = true;
    const again = ev(Events.NodeAbortRequested, ref('ctl-02'), { host: ref('ctl-02'), requestedBy: 'bob' }, 'monitoring');
    await svc.onAbortRequested(again, { appliedKey: key(again) });
    expect(generated).toEqual([SITE]);
    expect(runtime.runs.at(-1)?.inputs.files.map((f) => f.path)).toEqual(['globals.yml']);
  });

  it('rejects ControlPlaneReleased without a site id, naming site_id', async () => {
    const env = newEvent({ type: Events.ControlPlaneReleased, site: SITE, entityId: SITE, service: 'deployment', data: { siteId: '', controllers: [], controllersReady: 0, controllersRequired: 0, controllersTotal: 0 } });
    const e = await svc.onControlPlaneReleased(env, { appliedKey: 'x', lastAttempt: false }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('site_id');
  });
});

describe('SiteServicesDeployed: once per site and generation', () => {
  it('Given every registered node with roles deployed, then generation 1 once, with every node; redeliveries publish nothing more', async () => {
    for (const c of ['ctl-01', 'ctl-02', 'cmp-01', 'cmp-02']) await register(c);
    await register('bare-01', ['nothing-kolla']);
    await configured('ctl-01');
    await configured('ctl-02');
    await configured('cmp-01');
    expect(siteEvents()).toEqual([]); // cmp-02 registered, not deployed yet
    await configured('cmp-02');
    const [g1, ...more] = siteEvents();
    expect(more).toEqual([]);
    expect(g1?.subject).toBe('stackyard.dc1.deployment.site.dc1.services-deployed');
    expect(g1?.data).toEqual({ siteId: SITE, generation: 1, hosts: ['cmp-01', 'cmp-02', 'ctl-01', 'ctl-02'].map((n) => ref(n)), addedHostIds: ['dc1-ctl-01', 'dc1-ctl-02', 'dc1-cmp-01', 'dc1-cmp-02'].sort() });

    // Every deployed fact delivered again (redeliveries, another replica): nothing new.
    for (const e of repo.store.eventsOfType(Events.ServicesDeployed.type)) await svc.onControlPlaneChanged(e as never, { appliedKey: key(e) });
    expect(siteEvents()).toHaveLength(1);
    expect((await rollouts.get(SITE))?.data).toMatchObject({ generation: 1, deployedHostIds: ['dc1-cmp-01', 'dc1-cmp-02', 'dc1-ctl-01', 'dc1-ctl-02'] });
  });

  it('Given nodes added and deployed later, then generation 2 lists them as added; an aborted node neither blocks nor adds', async () => {
    for (const c of ['ctl-01', 'cmp-01']) await register(c);
    await configured('ctl-01');
    await configured('cmp-01');
    expect(siteEvents().map((e) => e.data.generation)).toEqual([1]);

    await register('cmp-02');
    await register('cmp-03');
    await configured('cmp-02');
    expect(siteEvents()).toHaveLength(1);
    const abort = ev(Events.NodeAbortRequested, ref('cmp-03'), { host: ref('cmp-03'), requestedBy: 'bob' }, 'monitoring');
    await svc.onAbortRequested(abort, { appliedKey: key(abort) });
    await feedBack();
    const [, g2, ...more] = siteEvents();
    expect(more).toEqual([]);
    expect(g2?.data).toMatchObject({ generation: 2, addedHostIds: ['dc1-cmp-02'] });
    expect(g2?.data.hosts.map((h) => h.name)).toEqual(['cmp-01', 'cmp-02', 'ctl-01']);
  });

  it('Given a failed node, then the site is not deployed until it is retried', async () => {
    for (const c of ['ctl-01', 'cmp-01']) await register(c);
    runtime.failing.set('cmp-01', new StepFailedError('ContainerStartFailed', 'nova_compute exited 1', false));
    await configured('ctl-01');
    await configured('cmp-01');
    expect(siteEvents()).toEqual([]);
    runtime.failing.clear();
    const retry = ev(Events.NodeRetryRequested, ref('cmp-01'), { host: ref('cmp-01'), step: 'services', attempt: 1, requestedBy: 'alice' }, 'monitoring');
    await svc.onRetryRequested(retry, { appliedKey: key(retry), lastAttempt: false });
    await feedBack();
    expect(siteEvents().map((e) => e.data.generation)).toEqual([1]);
  });

  it('Given a site without a controller, then no SiteServicesDeployed (it has no control plane)', async () => {
    await register('cmp-01');
    await configured('cmp-01');
    expect((await state('cmp-01'))?.state).toBe('deployed');
    expect(siteEvents()).toEqual([]);
  });

  it('Given two evaluations racing on the last node, then one generation', async () => {
    for (const c of ['ctl-01', 'cmp-01']) await register(c);
    await configured('ctl-01');
    await svc.onNetworkConfigured(networkConfigured('cmp-01'), { appliedKey: 'c', lastAttempt: false });
    const last = repo.store.eventsOfType(Events.ServicesDeployed.type).at(-1)!;
    const results = await Promise.all([svc.evaluateSite(SITE, last), svc.evaluateSite(SITE, last), svc.evaluateSite(SITE, last)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(siteEvents()).toHaveLength(1);
  });
});

describe('abort: the node’s containers destroyed through the runtime', () => {
  const abortOf = (name: string) => ev(Events.NodeAbortRequested, ref(name), { host: ref(name), requestedBy: 'bob' }, 'monitoring');

  it('Given a deployed node, then destroy limited to it with the confirmation, then ServicesRemoved with its containers', async () => {
    await configured('cmp-01');
    const containers = (await state('cmp-01'))!.containers;
    const env = abortOf('cmp-01');
    expect(await svc.onAbortRequested(env, { appliedKey: key(env) })).toBe('applied');
    expect(runtime.calls).toEqual(['deploy cmp-01', 'destroy cmp-01']);
    expect(runtime.runs[0]).toMatchObject({ action: 'destroy', limit: ['cmp-01'], confirm: true });
    expect(repo.store.eventsOfType(Events.ServicesRemoved.type).map((e) => e.data)).toEqual([{ host: ref('cmp-01'), removed: containers }]);
    expect(await svc.onAbortRequested(env, { appliedKey: key(env) })).toBe('duplicate');
    expect(runtime.calls).toHaveLength(2);
  });

  it('Given a failing destroy, then DeployFailed (step destroy) with the reason and no ServicesRemoved; retryable ones are redelivered first', async () => {
    await configured('cmp-01');
    const env = abortOf('cmp-01');
    runtime.failing.set('cmp-01', new StepFailedError('HostUnreachable', 'cmp-01: unreachable: No route to host', true));
    await expect(svc.onAbortRequested(env, { appliedKey: key(env), lastAttempt: false })).rejects.toMatchObject({ reason: 'HostUnreachable' });
    expect((await state('cmp-01'))?.state).toBe('deployed');
    runtime.failing.set('cmp-01', new StepFailedError('KollaTaskFailed', 'cmp-01: failed in task "destroy : Stopping containers": boom', false));
    expect(await svc.onAbortRequested(env, { appliedKey: key(env), lastAttempt: false })).toBe('applied');
    const failure = { step: 'destroy', reason: 'KollaTaskFailed', message: 'cmp-01: failed in task "destroy : Stopping containers": boom', retryable: false };
    expect(await state('cmp-01')).toMatchObject({ state: 'failed', lastFailure: failure });
    expect((repo.store.eventsOfType(Events.DeployFailed.type) as Envelope<DeployFailed>[]).map((e) => e.data.failure)).toEqual([failure]);
    expect(repo.store.eventsOfType(Events.ServicesRemoved.type)).toEqual([]);

    // A later abort request tries again.
    runtime.failing.clear();
    const again = abortOf('cmp-01');
    expect(await svc.onAbortRequested(again, { appliedKey: key(again) })).toBe('applied');
    expect((await state('cmp-01'))?.state).toBe('removed');
    expect(runtime.calls.filter((c) => c.startsWith('destroy'))).toHaveLength(3);
  });

  it('Given a node that never ran containers (waiting, or unknown), then nothing is destroyed', async () => {
    await register('ctl-01');
    await configured('cmp-01');
    expect((await state('cmp-01'))?.state).toBe('waiting');
    for (const n of ['cmp-01', 'cmp-09']) {
      const env = abortOf(n);
      await svc.onAbortRequested(env, { appliedKey: key(env) });
    }
    expect(runtime.calls).toEqual([]);
    expect(repo.store.eventsOfType(Events.ServicesRemoved.type)).toHaveLength(2);
  });
});
