import { beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, StepFailedError, ValidationError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import { InMemoryAggregateStore } from '@stackyard/testing';
import type { Container } from '@stackyard/proto/deployment/v1/deployment';
import type { DeployFailed, ServicesDeployed } from '@stackyard/proto/deployment/v1/events';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { NetworkConfigured } from '@stackyard/proto/network/v1/events';
import { placement, type PlannedContainer } from '../domain/catalogue';
import { DeploymentService } from './deployment';
import type { ContainerRuntime, NodeDeploymentData, NodeDeploymentRepository, RuntimeRunResult, Write } from './ports';

class FakeDeploymentRepository implements NodeDeploymentRepository {
  readonly store = new InMemoryAggregateStore<NodeDeploymentData>('node deployment');
  get(hostId: string) {
    return this.store.get(hostId);
  }
  async listBySite(siteId: string) {
    return (await this.store.find((d) => d.host.siteId === siteId)).map((r) => r.data);
  }
  async listDeployed() {
    return (await this.store.find((d) => d.state === 'deployed')).map((r) => ({ data: r.data, version: r.version }));
  }
  save(d: NodeDeploymentData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return version === undefined
      ? this.store.create(d.host.hostId, d, { events, appliedKey })
      : this.store.update(d.host.hostId, version, d, { events, appliedKey });
  }
}

/** A runtime like the lab one: every planned container comes up, unless told otherwise for one call. */
class FakeRuntime implements ContainerRuntime {
  readonly name = 'fake';
  readonly usesInputs = false;
  async health(): Promise<'unsupported'> {
    return 'unsupported';
  }
  run(): Promise<RuntimeRunResult> {
    throw new Error('not used by the saga');
  }
  readonly calls: { hostId: string; containers: readonly PlannedContainer[]; addresses: readonly string[] }[] = [];
  readonly failures: unknown[] = [];
  readonly unhealthy: string[][] = [];
  async deploy(host: HostRef, containers: readonly PlannedContainer[], addresses: readonly string[]): Promise<Container[]> {
    this.calls.push({ hostId: host.hostId, containers, addresses });
    const e = this.failures.shift();
    if (e !== undefined) throw e;
    const sick = this.unhealthy.shift() ?? [];
    return containers.map((c) => ({ service: c.service, name: c.name, healthy: !sick.includes(c.name) }));
  }
}

const HOST: HostRef = { hostId: 'dc1-cmp-01', siteId: 'dc1', name: 'cmp-01', groups: ['compute'] };
const ORIGIN = { id: 'origin', correlationId: 'corr-dc1' };
const ADDRESSES = [
  { network: 'provision_oc', address: '10.0.0.20' },
  { network: 'internal', address: '10.1.0.20' },
];

function configured(): Envelope<NetworkConfigured> {
  return newEvent({
    type: Events.NetworkConfigured,
    site: 'dc1',
    entityId: HOST.hostId,
    service: 'network',
    data: {
      host: HOST,
      allocations: [
        { siteId: 'dc1', hostId: HOST.hostId, network: 'provision_oc', address: '10.0.0.20' },
        { siteId: 'dc1', hostId: HOST.hostId, network: 'internal', address: '10.1.0.20' },
      ],
      files: [],
    },
    cause: ORIGIN,
  });
}

const ctx = (env: Envelope, lastAttempt = false) => ({ appliedKey: `deployment-on-network-configured~${env.id}`, lastAttempt });

let repo: FakeDeploymentRepository;
let runtime: FakeRuntime;
let svc: DeploymentService;

beforeEach(() => {
  repo = new FakeDeploymentRepository();
  runtime = new FakeRuntime();
  svc = new DeploymentService(repo, runtime);
});

describe('DeploymentService.onNetworkConfigured', () => {
  it('Given NetworkConfigured, then it deploys the placed containers on the host addresses and emits ServicesDeployed', async () => {
    const env = configured();

    expect(await svc.onNetworkConfigured(env, ctx(env))).toBe('applied');

    expect(runtime.calls).toEqual([{ hostId: 'dc1-cmp-01', containers: placement(['compute']), addresses: ['10.0.0.20', '10.1.0.20'] }]);
    const [event, ...more] = repo.store.outbox as Envelope<ServicesDeployed>[];
    expect(more).toEqual([]);
    expect(event?.type).toBe('stackyard.deployment.v1.ServicesDeployed');
    expect(event?.subject).toBe('stackyard.dc1.deployment.node.dc1-cmp-01.deployed');
    expect(event?.source).toBe('/stackyard/dc1/deployment');
    expect(event?.causationId).toBe(env.id);
    expect(event?.correlationId).toBe('corr-dc1');
    const containers = placement(['compute']).map((c) => ({ ...c, healthy: true }));
    expect(event?.data).toEqual({ host: HOST, containers });
    expect((await svc.get('dc1-cmp-01')).data).toEqual({ host: HOST, state: 'deployed', containers, lastFailure: undefined, addresses: ADDRESSES });
  });

  it('Given a deployed node, when NetworkConfigured is delivered again, then it is a duplicate and nothing runs', async () => {
    const env = configured();
    await svc.onNetworkConfigured(env, ctx(env));

    expect(await svc.onNetworkConfigured(env, ctx(env))).toBe('duplicate');

    expect(runtime.calls).toHaveLength(1);
    expect(repo.store.outbox).toHaveLength(1);
    expect((await repo.get('dc1-cmp-01'))?.version).toBe(1);
  });

  it('Given the same event delivered twice at once, then exactly one delivery applies', async () => {
    const env = configured();
    const outcomes = await Promise.all([svc.onNetworkConfigured(env, ctx(env)), svc.onNetworkConfigured(env, ctx(env))]);
    expect(outcomes.sort()).toEqual(['applied', 'duplicate']);
    expect(repo.store.eventsOfType(Events.ServicesDeployed.type)).toHaveLength(1);
  });

  it('Given the runtime fails for good, then DeployFailed is recorded with the reason and the node is failed', async () => {
    runtime.failures.push(new StepFailedError('ContainerStartFailed', 'nova_compute exited 1', false));
    const env = configured();

    expect(await svc.onNetworkConfigured(env, ctx(env))).toBe('applied');

    const [event] = repo.store.outbox as Envelope<DeployFailed>[];
    expect(event?.type).toBe('stackyard.deployment.v1.DeployFailed');
    expect(event?.subject).toBe('stackyard.dc1.deployment.node.dc1-cmp-01.deploy-failed');
    expect(event?.causationId).toBe(env.id);
    expect(event?.correlationId).toBe('corr-dc1');
    const failure = { step: 'services', reason: 'ContainerStartFailed', message: 'nova_compute exited 1', retryable: false };
    expect(event?.data).toEqual({ host: HOST, failure });
    expect((await repo.get('dc1-cmp-01'))?.data).toEqual({ host: HOST, state: 'failed', containers: [], lastFailure: failure, addresses: ADDRESSES });
  });

  it('Given unhealthy containers with deliveries left, then it throws a retryable ContainersUnhealthy and writes nothing', async () => {
    runtime.unhealthy.push(['nova_compute', 'nova_libvirt']);
    const env = configured();

    const e = await svc.onNetworkConfigured(env, ctx(env)).catch((x: unknown) => x);

    expect(e).toBeInstanceOf(StepFailedError);
    expect(e).toMatchObject({ reason: 'ContainersUnhealthy', retryable: true });
    expect((e as Error).message).toBe('unhealthy after deploy: nova_libvirt, nova_compute');
    expect(repo.store.outbox).toEqual([]);
    expect(await repo.get('dc1-cmp-01')).toBeNull();
  });

  it('Given unhealthy containers on the last delivery, then DeployFailed records a retryable ContainersUnhealthy', async () => {
    runtime.unhealthy.push(['nova_compute']);
    const env = configured();

    expect(await svc.onNetworkConfigured(env, ctx(env, true))).toBe('applied');

    const event = repo.store.outbox[0] as Envelope<DeployFailed>;
    expect(event.data.failure).toEqual({ step: 'services', reason: 'ContainersUnhealthy', message: 'unhealthy after deploy: nova_compute', retryable: true });
  });

  it('Given a runtime crash (plain Error) on the last delivery, then the reason is RuntimeError', async () => {
    runtime.failures.push(new Error('kolla-ansible: exit 2'));
    const env = configured();
    expect(await svc.onNetworkConfigured(env, ctx(env, true))).toBe('applied');
    expect((repo.store.outbox[0] as Envelope<DeployFailed>).data.failure).toEqual({ step: 'services', reason: 'RuntimeError', message: 'kolla-ansible: exit 2', retryable: true });
  });

  it('Given a failed node, when a new NetworkConfigured arrives (a retry), then it deploys and replaces the failure', async () => {
    runtime.failures.push(new StepFailedError('ContainerStartFailed', 'boom', false));
    const first = configured();
    await svc.onNetworkConfigured(first, ctx(first));
    const retry = configured();

    expect(await svc.onNetworkConfigured(retry, ctx(retry))).toBe('applied');

    expect(repo.store.outbox.map((e) => e.type)).toEqual([Events.DeployFailed.type, Events.ServicesDeployed.type]);
    expect((await repo.get('dc1-cmp-01'))).toMatchObject({ version: 2, data: { state: 'deployed', lastFailure: undefined } });
  });

  it('rejects NetworkConfigured without a host, naming host', async () => {
    const env = newEvent({ type: Events.NetworkConfigured, site: 'dc1', entityId: 'x', service: 'network', data: { host: undefined, allocations: [], files: [] } });
    const e = await svc.onNetworkConfigured(env, ctx(env)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('host');
    expect(runtime.calls).toEqual([]);
  });
});

describe('DeploymentService.get', () => {
  it('names host_id when empty and reports an unknown node as NotFound', async () => {
    await expect(svc.get('')).rejects.toThrow(/^host_id: required$/);
    await expect(svc.get('dc1-nope')).rejects.toBeInstanceOf(NotFoundError);
  });
});
