import { beforeEach, describe, expect, it } from 'vitest';
import { ConcurrencyError, InvalidTransitionError, NotFoundError, StepFailedError, ValidationError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import { InMemoryAggregateStore } from '@stackyard/testing';
import type { HostRegistered } from '@stackyard/proto/inventory/v1/events';
import type { AdminAddressAllocated } from '@stackyard/proto/network/v1/events';
import type { HardwareFacts, Host } from '@stackyard/proto/inventory/v1/inventory';
import type { NodeActionFinished, NodeActionRequested, NodeEnrolled, NodeInspected, NodeProvisioned, ProvisioningFailed } from '@stackyard/proto/provisioning/v1/events';
import type { NodeData, Step } from '../domain/node';
import type { BareMetalDriver, DeployRequest, NodeRepository, PowerAction, PowerState, Write } from './ports';
import { ProvisioningService, type StepContext } from './provisioning';

/** NodeRepository over the in-memory aggregate store, shaped like MongoNodeRepository. */
class FakeNodeRepository implements NodeRepository {
  readonly store = new InMemoryAggregateStore<NodeData>('node');
  get(id: string) {
    return this.store.get(id);
  }
  create(id: string, node: NodeData, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return this.store.create(id, node, { events, appliedKey });
  }
  update(id: string, node: NodeData, expectedVersion: number, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return this.store.update(id, expectedVersion, node, { events, appliedKey });
  }
  list(filter: { siteId?: string; state?: string }) {
    return this.store.find((n) => (!filter.siteId || n.host.siteId === filter.siteId) && (!filter.state || n.state === filter.state));
  }
}

const HARDWARE: HardwareFacts = {
  cpuCount: 32,
  cpuModel: 'Intel Xeon Gold 6330',
  memoryMib: 262_144,
  disks: [{ name: 'sda', sizeGib: 480, rotational: false }],
  nics: [
    { name: 'eno1', macAddress: '52:54:00:aa:bb:01', speedMbps: 25_000, lldpSwitch: 'tor-1', lldpPort: 'Ethernet1' },
    { name: 'eno2', macAddress: '52:54:00:aa:bb:02', speedMbps: 25_000, lldpSwitch: 'tor-2', lldpPort: 'Ethernet1' },
  ],
};

/** A driver like the lab one, idempotent, with failures scripted per step (consumed one per call). */
class FakeDriver implements BareMetalDriver {
  readonly calls: { step: Step; hostId: string; state: string; image?: string }[] = [];
  readonly requests: DeployRequest[] = [];
  readonly failures: Record<Step, unknown[]> = { enroll: [], inspect: [], deploy: [] };
  constructor(readonly name = 'lab') {}
  private maybeFail(step: Step): void {
    const e = this.failures[step].shift();
    if (e !== undefined) throw e;
  }
  async enroll(node: NodeData): Promise<void> {
    this.calls.push({ step: 'enroll', hostId: node.host.hostId, state: node.state });
    this.maybeFail('enroll');
  }
  async inspect(node: NodeData): Promise<HardwareFacts> {
    this.calls.push({ step: 'inspect', hostId: node.host.hostId, state: node.state });
    this.maybeFail('inspect');
    return structuredClone(HARDWARE);
  }
  async deploy(node: NodeData, request: DeployRequest): Promise<void> {
    this.calls.push({ step: 'deploy', hostId: node.host.hostId, state: node.state, image: request.image });
    this.requests.push(request);
    this.maybeFail('deploy');
  }
  readonly deprovisioned: string[] = [];
  async deprovision(node: NodeData): Promise<void> {
    this.deprovisioned.push(node.host.hostId);
  }
  readonly powered: string[] = [];
  async power(node: NodeData, action: PowerAction): Promise<void> {
    this.powered.push(`${node.host.hostId}:${action}`);
  }
  async powerState(): Promise<PowerState> {
    return 'unknown';
  }
}

const IMAGE = 'ubuntu-noble-22.04.qcow2';
const HOST: Host = {
  id: 'dc1-ctl-01',
  siteId: 'dc1',
  name: 'ctl-01',
  groups: ['controllers', 'network'],
  bmc: { address: '10.9.0.11', driver: 'lab', credentialRef: 'vault:bmc/ctl-01' },
  labels: {},
  hardwareProfile: 'controller-std',
  hardware: undefined,
  version: 1,
};
const REF = { hostId: 'dc1-ctl-01', siteId: 'dc1', name: 'ctl-01', groups: ['controllers', 'network'] };
const NOW = new Date('2025-01-02T03:04:05.000Z');
/** The request that started the saga upstream: its correlation id must flow through every step. */
const ORIGIN = { id: '0190f0a0-0000-7000-8000-000000000001', correlationId: 'corr-deploy-dc1' };

function registered(host: Host = HOST): Envelope<HostRegistered> {
  return newEvent({ type: Events.HostRegistered, site: host.siteId, entityId: host.id, service: 'inventory', data: { host }, cause: ORIGIN, now: NOW });
}

function ctx(env: Envelope, lastAttempt = false, consumer = 'provisioning-test'): StepContext {
  return { appliedKey: `${consumer}~${env.id}`, lastAttempt };
}

let nodes: FakeNodeRepository;
let driver: FakeDriver;
let svc: ProvisioningService;

beforeEach(() => {
  nodes = new FakeNodeRepository();
  driver = new FakeDriver();
  svc = new ProvisioningService(nodes, new Map<string, BareMetalDriver>([['lab', driver]]), { image: IMAGE });
});

/** What the network service answers to NodeInspected: the admin address, for the config drive. */
function admin(inspected: Envelope<NodeInspected>, address = '10.0.0.11'): Envelope<AdminAddressAllocated> {
  return newEvent({
    type: Events.AdminAddressAllocated,
    site: 'dc1',
    entityId: inspected.entityId,
    service: 'network',
    data: { host: inspected.data.host, network: address ? 'provision_oc' : '', address, prefixLength: address ? 24 : 0, gateway: address ? '10.0.0.1' : '', mtu: address ? 1500 : 0, vlan: 0, nameservers: [], nics: inspected.data.hardware?.nics ?? [] },
    cause: inspected,
  });
}

/** Runs the three steps, each on the fact the previous one emitted, and returns those facts. */
async function runSaga() {
  const reg = registered();
  expect(await svc.onHostRegistered(reg, ctx(reg))).toBe('applied');
  const enrolled = nodes.store.outbox.at(-1) as Envelope<NodeEnrolled>;
  expect(await svc.onNodeEnrolled(enrolled, ctx(enrolled))).toBe('applied');
  const inspected = nodes.store.outbox.at(-1) as Envelope<NodeInspected>;
  const allocated = admin(inspected);
  expect(await svc.onAdminAddressAllocated(allocated, ctx(allocated))).toBe('applied');
  const provisioned = nodes.store.outbox.at(-1) as Envelope<NodeProvisioned>;
  return { reg, enrolled, inspected, allocated, provisioned };
}

describe('ProvisioningService happy path', () => {
  it('Given HostRegistered, when each step runs on the previous fact, then NodeEnrolled, NodeInspected and NodeProvisioned follow', async () => {
    const { enrolled, inspected, provisioned } = await runSaga();

    expect(nodes.store.outbox.map((e) => e.type)).toEqual([
      'stackyard.provisioning.v1.NodeEnrolled',
      'stackyard.provisioning.v1.NodeInspected',
      'stackyard.provisioning.v1.NodeProvisioned',
    ]);
    expect(enrolled.subject).toBe('stackyard.dc1.provisioning.node.dc1-ctl-01.enrolled');
    expect(inspected.subject).toBe('stackyard.dc1.provisioning.node.dc1-ctl-01.inspected');
    expect(provisioned.subject).toBe('stackyard.dc1.provisioning.node.dc1-ctl-01.provisioned');
    for (const e of [enrolled, inspected, provisioned]) {
      expect(e.source).toBe('/stackyard/dc1/provisioning');
      expect(e.entityId).toBe('dc1-ctl-01');
      expect(e.site).toBe('dc1');
    }
  });

  it('chains causation to the incoming ce-id and inherits the correlation id at every step', async () => {
    const { reg, enrolled, inspected, allocated, provisioned } = await runSaga();
    expect(reg.correlationId).toBe(ORIGIN.correlationId);
    expect(enrolled.causationId).toBe(reg.id);
    expect(inspected.causationId).toBe(enrolled.id);
    expect(provisioned.causationId).toBe(allocated.id);
    for (const e of [enrolled, inspected, provisioned]) expect(e.correlationId).toBe(ORIGIN.correlationId);
    expect(new Set([reg.id, enrolled.id, inspected.id, provisioned.id]).size).toBe(4);
  });

  it('carries the host, driver, hardware, image and NICs in the facts', async () => {
    const { enrolled, inspected, provisioned } = await runSaga();
    expect(enrolled.data).toEqual({ host: REF, driver: 'lab' });
    expect(inspected.data).toEqual({ host: REF, hardware: HARDWARE });
    expect(provisioned.data).toEqual({ host: REF, image: IMAGE, nics: HARDWARE.nics });
  });

  it('leaves the node active with every step recorded and no failure, one version per step', async () => {
    await runSaga();
    const n = await nodes.get('dc1-ctl-01');
    expect(n?.version).toBe(3);
    expect(n?.data).toMatchObject({ state: 'active', steps: ['enroll', 'inspect', 'deploy'], hardware: HARDWARE, lastFailure: undefined, driver: 'lab', bmcAddress: '10.9.0.11' });
  });

  it('calls the driver once per step, in the working state of each step, with the configured image', async () => {
    await runSaga();
    expect(driver.calls).toEqual([
      { step: 'enroll', hostId: 'dc1-ctl-01', state: 'verifying' },
      { step: 'inspect', hostId: 'dc1-ctl-01', state: 'inspecting' },
      { step: 'deploy', hostId: 'dc1-ctl-01', state: 'deploying', image: IMAGE },
    ]);
  });
});

describe('ProvisioningService config drive', () => {
  it('deploys with the admin address the network service allocated, on the PXE NIC, like Bifrost (Kayobe §6.5)', async () => {
    await runSaga();
    expect(driver.requests).toEqual([
      { image: IMAGE, network: { macAddress: '52:54:00:aa:bb:01', address: '10.0.0.11', prefixLength: 24, gateway: '10.0.0.1', mtu: 1500, nameservers: [] } },
    ]);
    expect((await nodes.get('dc1-ctl-01'))?.data.admin).toMatchObject({ network: 'provision_oc', address: '10.0.0.11' });
  });

  it('deploys with the PXE NIC only when the site has no admin network', async () => {
    const reg = registered();
    await svc.onHostRegistered(reg, ctx(reg));
    const enrolled = nodes.store.outbox.at(-1) as Envelope<NodeEnrolled>;
    await svc.onNodeEnrolled(enrolled, ctx(enrolled));
    const allocated = admin(nodes.store.outbox.at(-1) as Envelope<NodeInspected>, '');
    expect(await svc.onAdminAddressAllocated(allocated, ctx(allocated))).toBe('applied');
    expect(driver.requests).toEqual([{ image: IMAGE, network: { macAddress: '52:54:00:aa:bb:01', nameservers: [] } }]);
  });

  it('resolves an image name against PROVISION_IMAGE_BASE_URL, and keeps an image URL as it is', async () => {
    svc = new ProvisioningService(nodes, new Map<string, BareMetalDriver>([['lab', driver]]), { image: IMAGE, imageBaseUrl: 'http://images.example/os/' });
    await runSaga();
    expect(driver.requests[0]?.image).toBe(`http://images.example/os/${IMAGE}`);
  });
});

describe('ProvisioningService redelivery', () => {
  it('Given every step done, when each incoming fact is delivered again, then each is a duplicate and nothing is emitted', async () => {
    const { reg, enrolled, allocated } = await runSaga();
    const before = { events: nodes.store.outbox.length, calls: driver.calls.length, version: (await nodes.get('dc1-ctl-01'))?.version };

    expect(await svc.onHostRegistered(reg, ctx(reg))).toBe('duplicate');
    expect(await svc.onNodeEnrolled(enrolled, ctx(enrolled))).toBe('duplicate');
    expect(await svc.onAdminAddressAllocated(allocated, ctx(allocated))).toBe('duplicate');

    expect(nodes.store.outbox).toHaveLength(before.events);
    expect(driver.calls).toHaveLength(before.calls);
    expect((await nodes.get('dc1-ctl-01'))?.version).toBe(before.version);
  });

  it('Given the same NodeEnrolled delivered twice at once, then exactly one delivery applies and the other is a duplicate', async () => {
    const reg = registered();
    await svc.onHostRegistered(reg, ctx(reg));
    const enrolled = nodes.store.outbox[0] as Envelope<NodeEnrolled>;

    const outcomes = await Promise.all([svc.onNodeEnrolled(enrolled, ctx(enrolled)), svc.onNodeEnrolled(enrolled, ctx(enrolled))]);

    expect(outcomes.sort()).toEqual(['applied', 'duplicate']);
    expect(nodes.store.eventsOfType(Events.NodeInspected.type)).toHaveLength(1);
    expect((await nodes.get('dc1-ctl-01'))?.version).toBe(2);
  });

  it('Given two different events racing for the same step, then one applies and the other gets a retryable ConcurrencyError, a duplicate on redelivery', async () => {
    const reg = registered();
    await svc.onHostRegistered(reg, ctx(reg));
    const enrolled = nodes.store.outbox[0] as Envelope<NodeEnrolled>;
    const republished = newEvent({ type: Events.NodeEnrolled, site: 'dc1', entityId: 'dc1-ctl-01', service: 'provisioning', data: enrolled.data, cause: reg });

    const results = await Promise.allSettled([svc.onNodeEnrolled(enrolled, ctx(enrolled)), svc.onNodeEnrolled(republished, ctx(republished))]);

    expect(results[0]).toEqual({ status: 'fulfilled', value: 'applied' });
    expect(results[1]?.status).toBe('rejected');
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
    expect(await svc.onNodeEnrolled(republished, ctx(republished))).toBe('duplicate');
    expect(nodes.store.eventsOfType(Events.NodeInspected.type)).toHaveLength(1);
  });

  it('Given a failure was recorded for an event, when that event is redelivered (ack lost), then it is a duplicate and no second failure is emitted', async () => {
    const reg = registered();
    driver.failures.enroll.push(new StepFailedError('BmcError', 'BMC rejected the credentials', false));
    expect(await svc.onHostRegistered(reg, ctx(reg))).toBe('applied');

    expect(await svc.onHostRegistered(reg, ctx(reg))).toBe('duplicate');
    expect(nodes.store.outbox.map((e) => e.type)).toEqual(['stackyard.provisioning.v1.ProvisioningFailed']);
    expect((await nodes.get('dc1-ctl-01'))?.data.state).toBe('enroll');
  });
});

describe('ProvisioningService step failures', () => {
  /** Runs the saga up to `step` and makes the driver fail it once with `error`. */
  async function failAt(step: Step, error: unknown, lastAttempt = false) {
    driver.failures[step].push(error);
    const reg = registered();
    if (step === 'enroll') return { incoming: reg as Envelope, outcome: svc.onHostRegistered(reg, ctx(reg, lastAttempt)) };
    await svc.onHostRegistered(reg, ctx(reg));
    const enrolled = nodes.store.outbox.at(-1) as Envelope<NodeEnrolled>;
    if (step === 'inspect') return { incoming: enrolled as Envelope, outcome: svc.onNodeEnrolled(enrolled, ctx(enrolled, lastAttempt)) };
    await svc.onNodeEnrolled(enrolled, ctx(enrolled));
    const allocated = admin(nodes.store.outbox.at(-1) as Envelope<NodeInspected>);
    return { incoming: allocated as Envelope, outcome: svc.onAdminAddressAllocated(allocated, ctx(allocated, lastAttempt)) };
  }

  it.each<[Step, string, string]>([
    ['enroll', 'BmcError', 'enroll'],
    ['inspect', 'InspectionFailed', 'inspect failed'],
    ['deploy', 'DeployImageFailed', 'deploy failed'],
  ])('Given a non-retryable %s failure (%s), then ProvisioningFailed is recorded and the node is "%s"', async (step, reason, state) => {
    const { incoming, outcome } = await failAt(step, new StepFailedError(reason, `${step} went wrong`, false));
    expect(await outcome).toBe('applied');

    const failed = nodes.store.outbox.at(-1) as Envelope<ProvisioningFailed>;
    expect(failed.type).toBe('stackyard.provisioning.v1.ProvisioningFailed');
    expect(failed.subject).toBe('stackyard.dc1.provisioning.node.dc1-ctl-01.provisioning-failed');
    expect(failed.causationId).toBe(incoming.id);
    expect(failed.correlationId).toBe(ORIGIN.correlationId);
    const expectedFailure = { step, reason, message: `${step} went wrong`, retryable: false };
    expect(failed.data).toEqual({ host: REF, failure: expectedFailure });

    const n = await nodes.get('dc1-ctl-01');
    expect(n?.data.state).toBe(state);
    expect(n?.data.lastFailure).toEqual(expectedFailure);
    expect(n?.data.steps).not.toContain(step);
  });

  it.each<Step>(['enroll', 'inspect', 'deploy'])(
    'Given a retryable %s failure with deliveries left, then the error is thrown for redelivery and nothing is written',
    async (step) => {
      const timeout = new StepFailedError('BmcTimeout', 'BMC timed out', true);
      const { outcome } = await failAt(step, timeout, false);
      const before = { events: nodes.store.outbox.length, node: await nodes.get('dc1-ctl-01') };

      await expect(outcome).rejects.toBe(timeout);

      expect(nodes.store.outbox).toHaveLength(before.events);
      expect(nodes.store.eventsOfType(Events.ProvisioningFailed.type)).toHaveLength(0);
      expect(await nodes.get('dc1-ctl-01')).toEqual(before.node);
    },
  );

  it.each<[Step, string]>([
    ['enroll', 'enroll'],
    ['inspect', 'inspect failed'],
    ['deploy', 'deploy failed'],
  ])('Given a retryable %s failure on the last delivery, then it is recorded as a retryable failure', async (step, state) => {
    const { outcome } = await failAt(step, new StepFailedError('BmcTimeout', 'BMC timed out', true), true);
    expect(await outcome).toBe('applied');
    const failed = nodes.store.eventsOfType(Events.ProvisioningFailed.type);
    expect(failed).toHaveLength(1);
    expect((failed[0] as Envelope<ProvisioningFailed>).data.failure).toEqual({ step, reason: 'BmcTimeout', message: 'BMC timed out', retryable: true });
    expect((await nodes.get('dc1-ctl-01'))?.data.state).toBe(state);
  });

  it('Given a driver crash (plain Error), then it is retried, and on the last delivery recorded as DriverError', async () => {
    const crash = new Error('socket hang up');
    const first = await failAt('inspect', crash, false);
    await expect(first.outcome).rejects.toBe(crash);

    driver.failures.inspect.push(new Error('socket hang up'));
    const enrolled = nodes.store.outbox.at(-1) as Envelope<NodeEnrolled>;
    expect(await svc.onNodeEnrolled(enrolled, ctx(enrolled, true))).toBe('applied');
    const failed = nodes.store.eventsOfType(Events.ProvisioningFailed.type)[0] as Envelope<ProvisioningFailed>;
    expect(failed.data.failure).toEqual({ step: 'inspect', reason: 'DriverError', message: 'socket hang up', retryable: true });
  });

  it('Given a host whose BMC driver is not configured, then enrolment fails for good with UnknownDriver and the node is created failed', async () => {
    const reg = registered({ ...HOST, bmc: { address: '10.9.0.11', driver: 'ipmi', credentialRef: '' } });

    expect(await svc.onHostRegistered(reg, ctx(reg))).toBe('applied');

    expect(driver.calls).toEqual([]);
    const failed = nodes.store.outbox.at(-1) as Envelope<ProvisioningFailed>;
    expect(failed.type).toBe(Events.ProvisioningFailed.type);
    expect(failed.data.failure).toMatchObject({ step: 'enroll', reason: 'UnknownDriver', retryable: false });
    expect(failed.data.failure?.message).toContain('"ipmi"');
    const n = await nodes.get('dc1-ctl-01');
    expect(n).toMatchObject({ version: 1, data: { state: 'enroll', driver: 'ipmi' } });
  });
});

describe('ProvisioningService retry of a failed step', () => {
  /** A fresh trigger (new ce-id) for a step, as an operator retry would publish it. */
  function runTrigger(step: Step): Promise<string> {
    if (step === 'enroll') {
      const reg = registered();
      return svc.onHostRegistered(reg, ctx(reg));
    }
    if (step === 'inspect') {
      const e = newEvent({ type: Events.NodeEnrolled, site: 'dc1', entityId: 'dc1-ctl-01', service: 'provisioning', data: { host: REF, driver: 'lab' } });
      return svc.onNodeEnrolled(e, ctx(e));
    }
    const e = admin(newEvent({ type: Events.NodeInspected, site: 'dc1', entityId: 'dc1-ctl-01', service: 'provisioning', data: { host: REF, hardware: HARDWARE } }));
    return svc.onAdminAddressAllocated(e, ctx(e));
  }

  it.each<[Step, string, string]>([
    ['enroll', 'manageable', Events.NodeEnrolled.type],
    ['inspect', 'manageable', Events.NodeInspected.type],
    ['deploy', 'active', Events.NodeProvisioned.type],
  ])('Given %s failed for good, when its trigger is published again, then the step runs and the node is "%s"', async (step, state, next) => {
    driver.failures[step].push(new StepFailedError('BmcError', 'transient hardware fault', false));
    for (const s of ['enroll', 'inspect', 'deploy'] as const) {
      expect(await runTrigger(s)).toBe('applied');
      if (s === step) break;
    }
    expect(nodes.store.outbox.at(-1)?.type).toBe(Events.ProvisioningFailed.type);

    expect(await runTrigger(step)).toBe('applied');

    const after = (await nodes.get('dc1-ctl-01'))!.data;
    expect(after.state).toBe(state);
    expect(after.steps).toContain(step);
    expect(after.lastFailure).toBeUndefined();
    expect(nodes.store.outbox.at(-1)?.type).toBe(next);
  });
});

describe('ProvisioningService bad input', () => {
  it('rejects HostRegistered without a BMC, naming host.bmc', async () => {
    const reg = registered({ ...HOST, bmc: undefined });
    const e = await svc.onHostRegistered(reg, ctx(reg)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('host.bmc');
    expect((e as ValidationError).message).toMatch(/^host\.bmc: /);
    expect(nodes.store.writes).toBe(0);
  });

  it('rejects a step event without a host, naming host', async () => {
    const env = newEvent({ type: Events.NodeEnrolled, site: 'dc1', entityId: 'dc1-ctl-01', service: 'provisioning', data: { host: undefined, driver: 'lab' } });
    const e = await svc.onNodeEnrolled(env, ctx(env)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('host');
  });

  it('reports a step event for an unknown node as NotFound', async () => {
    const env = newEvent({ type: Events.NodeEnrolled, site: 'dc1', entityId: 'dc1-nope', service: 'provisioning', data: { host: { ...REF, hostId: 'dc1-nope' }, driver: 'lab' } });
    await expect(svc.onNodeEnrolled(env, ctx(env))).rejects.toBeInstanceOf(NotFoundError);
    await expect(svc.onAdminAddressAllocated(env as unknown as Envelope<AdminAddressAllocated>, ctx(env))).rejects.toThrow('node "dc1-nope" not found');
  });
});

describe('ProvisioningService queries', () => {
  it('gets a node by id, and names host_id when it is empty', async () => {
    await runSaga();
    expect((await svc.getNode('dc1-ctl-01')).data.state).toBe('active');
    const e = await svc.getNode('').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('host_id');
    await expect(svc.getNode('dc1-missing')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists nodes by site and state', async () => {
    await runSaga();
    const other = registered({ ...HOST, id: 'dc2-cmp-01', siteId: 'dc2', name: 'cmp-01' });
    await svc.onHostRegistered(other, ctx(other));
    expect((await svc.listNodes({})).map((n) => n.data.host.hostId)).toEqual(['dc1-ctl-01', 'dc2-cmp-01']);
    expect((await svc.listNodes({ siteId: 'dc2' })).map((n) => n.data.host.hostId)).toEqual(['dc2-cmp-01']);
    expect((await svc.listNodes({ state: 'active' })).map((n) => n.data.host.hostId)).toEqual(['dc1-ctl-01']);
    expect(await svc.listNodes({ siteId: 'dc2', state: 'active' })).toEqual([]);
  });
});

describe('ProvisioningService operator actions (Ironic verbs and power)', () => {
  async function requested(action: string) {
    const n = await svc.requestAction('dc1-ctl-01', action, `req-${action}`);
    const env = nodes.store.outbox.at(-1) as Envelope<NodeActionRequested>;
    expect(env.type).toBe(Events.NodeActionRequested.type);
    expect(env.data).toEqual({ host: REF, action, requestId: `req-${action}` });
    return { n, env };
  }

  it('Given an active node, when undeploy is requested and carried out, then it is deprovisioned to available, powered off, and NodeActionFinished says so', async () => {
    await runSaga();
    const { n, env } = await requested('undeploy');
    expect(n.data.pendingAction).toEqual({ verb: 'undeploy', requestId: 'req-undeploy' });

    expect(await svc.onNodeActionRequested(env, ctx(env))).toBe('applied');

    const after = (await nodes.get('dc1-ctl-01'))!.data;
    expect(after).toMatchObject({ state: 'available', power: 'off', steps: ['enroll', 'inspect'] });
    expect(after.pendingAction).toBeUndefined();
    expect(driver.deprovisioned).toEqual(['dc1-ctl-01']);
    const fin = nodes.store.outbox.at(-1) as Envelope<NodeActionFinished>;
    expect(fin.type).toBe(Events.NodeActionFinished.type);
    expect(fin.causationId).toBe(env.id);
    expect(fin.data).toMatchObject({ action: 'undeploy', requestId: 'req-undeploy', state: 'available', power: 'off', failure: undefined });
    // Redelivery of the same request does nothing more.
    expect(await svc.onNodeActionRequested(env, ctx(env))).toBe('duplicate');
    expect(driver.deprovisioned).toHaveLength(1);
  });

  it('Given an undeployed node, when deploy is requested, then the driver deploys it again and NodeProvisioned restarts the rest of the saga', async () => {
    await runSaga();
    await svc.onNodeActionRequested((await requested('undeploy')).env, ctx(nodes.store.outbox.at(-1)!));
    const { env } = await requested('deploy');
    expect(await svc.onNodeActionRequested(env, ctx(env))).toBe('applied');
    expect((await nodes.get('dc1-ctl-01'))!.data).toMatchObject({ state: 'active', power: 'on', steps: ['enroll', 'inspect', 'deploy'] });
    expect(nodes.store.outbox.slice(-2).map((e) => e.type)).toEqual([Events.NodeProvisioned.type, Events.NodeActionFinished.type]);
  });

  it('Given a node whose inspection failed, when inspect is requested, then the step completes and NodeInspected carries the saga on', async () => {
    driver.failures.inspect.push(new StepFailedError('InspectionFailed', 'IPA did not call back', false));
    const reg = registered();
    await svc.onHostRegistered(reg, ctx(reg));
    const enrolled = nodes.store.outbox.at(-1) as Envelope<NodeEnrolled>;
    await svc.onNodeEnrolled(enrolled, ctx(enrolled));
    expect((await nodes.get('dc1-ctl-01'))!.data.state).toBe('inspect failed');

    const { env } = await requested('inspect');
    expect(await svc.onNodeActionRequested(env, ctx(env))).toBe('applied');
    expect((await nodes.get('dc1-ctl-01'))!.data).toMatchObject({ state: 'manageable', hardware: HARDWARE, lastFailure: undefined });
    expect(nodes.store.outbox.slice(-2).map((e) => e.type)).toEqual([Events.NodeInspected.type, Events.NodeActionFinished.type]);
  });

  it('Given the driver fails a requested deploy for good, then the node is deploy failed with the reason and NodeActionFinished carries the failure', async () => {
    await runSaga();
    await svc.onNodeActionRequested((await requested('undeploy')).env, ctx(nodes.store.outbox.at(-1)!));
    driver.failures.deploy.push(new StepFailedError('DeployFailed', 'image checksum mismatch', false));
    const { env } = await requested('deploy');
    expect(await svc.onNodeActionRequested(env, ctx(env))).toBe('applied');
    const after = (await nodes.get('dc1-ctl-01'))!.data;
    expect(after.state).toBe('deploy failed');
    expect(after.lastFailure).toEqual({ step: 'deploy', reason: 'DeployFailed', message: 'image checksum mismatch', retryable: false });
    expect(after.pendingAction).toBeUndefined();
    const fin = nodes.store.outbox.at(-1) as Envelope<NodeActionFinished>;
    expect(fin.data.failure).toMatchObject({ reason: 'DeployFailed' });
    expect(nodes.store.eventsOfType(Events.NodeProvisioned.type)).toHaveLength(1);
  });

  it('powers a node off and on through the driver, and records the power state', async () => {
    await runSaga();
    for (const action of ['power off', 'power on', 'reboot'] as const) {
      const { env } = await requested(action);
      expect(await svc.onNodeActionRequested(env, ctx(env))).toBe('applied');
    }
    expect(driver.powered).toEqual(['dc1-ctl-01:off', 'dc1-ctl-01:on', 'dc1-ctl-01:reboot']);
    expect((await nodes.get('dc1-ctl-01'))!.data).toMatchObject({ state: 'active', power: 'on' });
  });

  it.each<[string, string, RegExp]>([
    ['deploy', 'active', /active.*deploy.*allowed: rebuild, undeploy/],
    ['inspect', 'active', /allowed/],
    ['manage', 'active', /allowed/],
    ['provide', 'active', /allowed/],
  ])('rejects %s on an %s node with FAILED_PRECONDITION (InvalidTransition), writing nothing', async (action, _state, msg) => {
    await runSaga();
    const before = { writes: nodes.store.writes, events: nodes.store.outbox.length };
    const e = await svc.requestAction('dc1-ctl-01', action, 'r1').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidTransitionError);
    expect((e as Error).message).toMatch(msg);
    expect(nodes.store.writes).toBe(before.writes);
    expect(nodes.store.outbox).toHaveLength(before.events);
  });

  it('rejects a second action while one is under way, and any action on an aborted node', async () => {
    await runSaga();
    await requested('power off');
    await expect(svc.requestAction('dc1-ctl-01', 'power on', 'r2')).rejects.toThrow(/power off under way/);
    const released = newEvent({ type: Events.AddressesReleased, site: 'dc1', entityId: 'dc1-ctl-01', service: 'network', data: { host: REF, released: [] } });
    await svc.onAddressesReleased(released, ctx(released));
    await expect(svc.requestAction('dc1-ctl-01', 'undeploy', 'r3')).rejects.toThrow(/aborted/);
  });

  it.each<[string, string, string]>([
    ['', 'undeploy', 'host_id'],
    ['dc1-ctl-01', '', 'action'],
    ['dc1-ctl-01', 'rebuild', 'action'],
    ['dc1-ctl-01', 'explode', 'action'],
  ])('rejects host_id=%j action=%j naming %s', async (hostId, action, field) => {
    await runSaga();
    const e = await svc.requestAction(hostId, action, 'r').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe(field);
  });

  it('reports an action on an unknown node as NotFound', async () => {
    await expect(svc.requestAction('dc1-nope', 'undeploy', 'r')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('ProvisioningService deadlines and credentials', () => {
  it('Given a driver call that outlives its deadline, then it is aborted with a retryable Timeout naming the step and host', async () => {
    let signalled = false;
    const slow: BareMetalDriver = {
      ...driver,
      name: 'lab',
      enroll: (_n, call) =>
        new Promise<void>((resolve) => {
          call.signal.addEventListener('abort', () => {
            signalled = true;
          });
          setTimeout(resolve, 5_000).unref();
        }),
      inspect: async () => HARDWARE,
      deploy: async () => undefined,
      deprovision: async () => undefined,
      power: async () => undefined,
      powerState: async () => 'on',
    };
    svc = new ProvisioningService(nodes, new Map([['lab', slow]]), { image: IMAGE, timeouts: { enroll: 50 } });
    const reg = registered();
    const e = await svc.onHostRegistered(reg, ctx(reg)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StepFailedError);
    expect(e).toMatchObject({ reason: 'Timeout', retryable: true });
    expect((e as Error).message).toBe('enroll of ctl-01 did not finish within 50 ms');
    expect(signalled).toBe(true);
    expect(await svc.onHostRegistered(reg, ctx(reg, true))).toBe('applied');
    expect((await nodes.get('dc1-ctl-01'))!.data.lastFailure).toMatchObject({ step: 'enroll', reason: 'Timeout', retryable: true });
  });

  it('resolves credentials only for drivers that use them, and passes them to the call', async () => {
    const seen: unknown[] = [];
    const withCreds: BareMetalDriver = { ...driver, name: 'lab', usesCredentials: true, enroll: async (_n, call) => void seen.push(call.credentials), inspect: async () => HARDWARE, deploy: async () => undefined, deprovision: async () => undefined, power: async () => undefined, powerState: async () => 'on' };
    const resolved: string[] = [];
    svc = new ProvisioningService(nodes, new Map([['lab', withCreds]]), {
      image: IMAGE,
      credentials: { resolve: async (ref) => (resolved.push(ref), { username: 'admin', password: 's3cret' }) },
    });
    const reg = registered();
    await svc.onHostRegistered(reg, ctx(reg));
    expect(resolved).toEqual(['vault:bmc/ctl-01']);
    expect(seen).toEqual([{ username: 'admin', password: 's3cret' }]);
    expect(JSON.stringify(await nodes.get('dc1-ctl-01'))).not.toContain('s3cret');
  });
});
