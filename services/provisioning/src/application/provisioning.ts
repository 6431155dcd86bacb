import { InvalidTransitionError, NotFoundError, StepFailedError, ValidationError, isRetryable, isStackyardError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { Failure, HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { HostRegistered } from '@stackyard/proto/inventory/v1/events';
import type { NodeActionRequested, NodeEnrolled } from '@stackyard/proto/provisioning/v1/events';
import type { NodeRetryRequested } from '@stackyard/proto/monitoring/v1/events';
import type { AddressesReleased, AdminAddressAllocated } from '@stackyard/proto/network/v1/events';
import {
  apply,
  completed,
  deprovisioned,
  failedAt,
  finishStep,
  newNode,
  next,
  startStep,
  STABLE_STATES,
  withStepFailed,
  type AdminNetwork,
  type NodeData,
  type Step,
  type Verb,
} from '../domain/node';
import { WorkLimiter, type WorkKind } from './limits';
import type { BareMetalDriver, CredentialStore, DeployRequest, DriverCall, NodeRepository, PowerAction, Write } from './ports';

export const POWER_ACTIONS = ['power on', 'power off', 'reboot'] as const;
export type NodeAction = Verb | (typeof POWER_ACTIONS)[number];
/** Verbs an operator may ask for (Ironic's names); abort, rebuild and clean are not offered yet. */
export const OPERATOR_VERBS: readonly Verb[] = ['manage', 'inspect', 'provide', 'deploy', 'undeploy'];

/** Per kind of driver work, how long it may take (Kayobe's waits: reference/kayobe.md §6.4-6.6). */
export type StepTimeouts = Readonly<Record<WorkKind, number>>;
export const DEFAULT_TIMEOUTS: StepTimeouts = {
  enroll: 5 * 60_000,
  inspect: 20 * 60_000,
  deploy: 30 * 60_000,
  deprovision: 15 * 60_000,
  power: 2 * 60_000,
};

export interface ProvisioningOptions {
  /** OS image deployed to every node (Kayobe: overcloud host image). */
  readonly image: string;
  /** Where drivers fetch an image given by name: `<base>/<image>`; an image URL is used as is. */
  readonly imageBaseUrl?: string;
  readonly credentials?: CredentialStore;
  readonly limiter?: WorkLimiter;
  readonly timeouts?: Partial<StepTimeouts>;
}

const NO_CREDENTIALS: CredentialStore = { resolve: async () => undefined };

export const SERVICE = 'provisioning';

export interface StepContext {
  readonly appliedKey: string;
  /** Last delivery: a retryable failure is recorded as a failure instead of being retried. */
  readonly lastAttempt: boolean;
}

export type StepOutcome = 'applied' | 'duplicate' | 'ignored';

/** Drives each node through enroll, inspect and deploy, one step per incoming fact. */
export class ProvisioningService {
  constructor(
    private readonly nodes: NodeRepository,
    private readonly drivers: ReadonlyMap<string, BareMetalDriver>,
    options: ProvisioningOptions,
  ) {
    this.image = options.image;
    this.imageUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(options.image) || !options.imageBaseUrl ? options.image : `${options.imageBaseUrl.replace(/\/+$/, '')}/${options.image}`;
    this.credentials = options.credentials ?? NO_CREDENTIALS;
    this.limiter = options.limiter ?? new WorkLimiter({ perKind: {}, perSite: Number.MAX_SAFE_INTEGER, perBmc: Number.MAX_SAFE_INTEGER });
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  }

  private readonly image: string;
  private readonly imageUrl: string;
  private readonly credentials: CredentialStore;
  readonly limiter: WorkLimiter;
  private readonly timeouts: StepTimeouts;

  /**
   * One driver call within the limits (kind, site, BMC) and its deadline. The signal tells the
   * driver to stop; a driver that does not stop in time is abandoned with a retryable Timeout.
   */
  private async withDriver<T>(node: NodeData, kind: WorkKind, run: (d: BareMetalDriver, call: DriverCall) => Promise<T>): Promise<T> {
    const driver = this.driverFor(node.driver);
    const release = await this.limiter.acquire(kind, node.host.siteId, node.bmcAddress, node.host.name);
    const ms = this.timeouts[kind];
    const ctrl = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      const credentials = driver.usesCredentials ? await this.credentials.resolve(node.credentialRef ?? '') : undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          ctrl.abort();
          reject(new StepFailedError('Timeout', `${kind} of ${node.host.name} did not finish within ${ms} ms`, true));
        }, ms);
      });
      return await Promise.race([run(driver, { credentials, signal: ctrl.signal }), deadline]);
    } finally {
      clearTimeout(timer);
      release();
    }
  }

  private driverFor(name: string): BareMetalDriver {
    const d = this.drivers.get(name);
    if (!d) throw new StepFailedError('UnknownDriver', `no bare-metal driver "${name}" is configured`, false);
    return d;
  }

  /** HostRegistered -> enroll (creates the node, verifies the BMC) -> NodeEnrolled. */
  async onHostRegistered(env: Envelope<HostRegistered>, ctx: StepContext): Promise<StepOutcome> {
    const host = env.data.host;
    if (!host?.bmc) throw new ValidationError('host.bmc', 'HostRegistered without a BMC');
    const ref: HostRef = { hostId: host.id, siteId: host.siteId, name: host.name, groups: host.groups };
    const existing = await this.nodes.get(host.id);
    // A host the inventory deleted and registers again starts afresh (its node's versions continue).
    const revive = existing?.data.deleted === true;
    if (existing && !revive && (completed(existing.data, 'enroll') || existing.data.aborted)) return 'duplicate';
    const node = existing && !revive ? existing.data : newNode(ref, host.bmc.driver, host.bmc.address, host.hardwareProfile, host.bmc.credentialRef);
    return this.enroll(env, ctx, node, existing?.version);
  }

  private enroll(env: Envelope, ctx: StepContext, node: NodeData, version: number | undefined): Promise<StepOutcome> {
    return this.runStep(env, ctx, node, version, 'enroll', async (n) => {
      await this.withDriver(n, 'enroll', (d, call) => d.enroll(startStep(n, 'enroll'), call));
      const done = { ...finishStep(n, 'enroll'), power: undefined };
      return { node: done, event: newEvent({ type: Events.NodeEnrolled, site: n.host.siteId, entityId: n.host.hostId, service: SERVICE, data: { host: n.host, driver: n.driver }, cause: env }) };
    });
  }

  /** NodeEnrolled -> inspect (hardware facts) -> NodeInspected. */
  async onNodeEnrolled(env: Envelope<NodeEnrolled>, ctx: StepContext): Promise<StepOutcome> {
    const cur = await this.load(env.data.host);
    if (cur.data.aborted) return 'ignored';
    if (completed(cur.data, 'inspect')) return 'duplicate';
    return this.inspect(env, ctx, cur.data, cur.version);
  }

  private inspect(env: Envelope, ctx: StepContext, node: NodeData, version: number): Promise<StepOutcome> {
    return this.runStep(env, ctx, node, version, 'inspect', async (n) => {
      const hardware = await this.withDriver(n, 'inspect', (d, call) => d.inspect(startStep(n, 'inspect'), call));
      const done = { ...finishStep(n, 'inspect'), hardware };
      return { node: done, event: newEvent({ type: Events.NodeInspected, site: n.host.siteId, entityId: n.host.hostId, service: SERVICE, data: { host: n.host, hardware }, cause: env }) };
    });
  }

  /**
   * AdminAddressAllocated (the network service's answer to NodeInspected) -> provide + deploy the OS
   * image with the admin address in the config drive -> NodeProvisioned. As in Kayobe, the admin IP
   * is allocated before provisioning (reference/kayobe.md §6.5).
   */
  async onAdminAddressAllocated(env: Envelope<AdminAddressAllocated>, ctx: StepContext): Promise<StepOutcome> {
    const cur = await this.load(env.data.host);
    if (cur.data.aborted) return 'ignored';
    if (completed(cur.data, 'deploy')) return 'duplicate';
    const d = env.data;
    const admin: AdminNetwork | undefined = d.address
      ? { network: d.network, address: d.address, prefixLength: d.prefixLength, gateway: d.gateway, mtu: d.mtu, vlan: d.vlan, nameservers: [...d.nameservers] }
      : undefined;
    return this.deploy(env, ctx, { ...cur.data, ...(admin ? { admin } : {}) }, cur.version);
  }

  private deploy(env: Envelope, ctx: StepContext, node: NodeData, version: number): Promise<StepOutcome> {
    return this.runStep(env, ctx, node, version, 'deploy', async (n) => {
      await this.withDriver(n, 'deploy', (d, call) => d.deploy(startStep(n, 'deploy'), this.deployRequest(n), call));
      const done = { ...finishStep(n, 'deploy'), power: 'on' as const };
      return {
        node: done,
        event: newEvent({
          type: Events.NodeProvisioned,
          site: n.host.siteId,
          entityId: n.host.hostId,
          service: SERVICE,
          data: { host: n.host, image: this.image, nics: n.hardware?.nics ?? [] },
          cause: env,
        }),
      };
    });
  }

  /**
   * Operator retry (NodeRetryRequested): runs the failed step again when it is one of this service's
   * steps and the node is in that step's failed state; anything else is not for us.
   */
  async onRetryRequested(env: Envelope<NodeRetryRequested>, ctx: StepContext): Promise<StepOutcome> {
    const step = env.data.step;
    if (step !== 'enroll' && step !== 'inspect' && step !== 'deploy') return 'ignored';
    const cur = await this.load(env.data.host);
    if (cur.data.aborted || !failedAt(cur.data, step)) return 'ignored';
    const runner = { enroll: this.enroll, inspect: this.inspect, deploy: this.deploy }[step];
    return runner.call(this, env, ctx, cur.data, cur.version);
  }

  /**
   * Compensation, last in reverse order (AddressesReleased): undeploys an active node and powers it
   * off, marks it aborted so that no later saga event acts on it, and publishes NodeDeprovisioned.
   * A node not created yet (aborted before its registration was handled) gets a tombstone.
   */
  async onAddressesReleased(env: Envelope<AddressesReleased>, ctx: StepContext): Promise<StepOutcome> {
    const ref = env.data.host;
    if (!ref) throw new ValidationError('host', 'AddressesReleased without host');
    const cur = await this.nodes.get(ref.hostId);
    if (cur?.data.aborted) return 'duplicate';
    const node = cur?.data ?? newNode(ref, '', '', '');
    if (cur && node.driver) await this.withDriver(node, 'deprovision', (d, call) => d.deprovision(node, call));
    const done = deprovisioned(node);
    const event = newEvent({ type: Events.NodeDeprovisioned, site: ref.siteId, entityId: ref.hostId, service: SERVICE, data: { host: ref, state: done.state }, cause: env });
    return outcome(await this.save(ref.hostId, done, cur?.version, event, ctx.appliedKey));
  }

  /**
   * Runs one step: the driver call, then one atomic write of the new state, the next fact and the
   * inbox record. A failure is recorded with a ProvisioningFailed event unless it is retryable and
   * deliveries remain, in which case it is thrown so that the event is redelivered with backoff.
   */
  private async runStep(
    cause: Envelope,
    ctx: StepContext,
    node: NodeData,
    version: number | undefined,
    step: Step,
    run: (n: NodeData) => Promise<{ node: NodeData; event: Envelope }>,
  ): Promise<StepOutcome> {
    let result: { node: NodeData; event: Envelope };
    try {
      result = await run(node);
    } catch (e) {
      if (isRetryable(e) && !ctx.lastAttempt) throw e;
      const failure: Failure = {
        step,
        reason: isStackyardError(e) ? e.reason : 'DriverError',
        message: (e as Error).message,
        retryable: isRetryable(e),
      };
      const failed = withStepFailed(node, step, failure);
      const event = newEvent({ type: Events.ProvisioningFailed, site: node.host.siteId, entityId: node.host.hostId, service: SERVICE, data: { host: node.host, failure }, cause });
      return outcome(await this.save(node.host.hostId, failed, version, event, ctx.appliedKey));
    }
    return outcome(await this.save(node.host.hostId, result.node, version, result.event, ctx.appliedKey));
  }

  private save(id: string, node: NodeData, version: number | undefined, event: Envelope, appliedKey: string): Promise<Write> {
    return version === undefined
      ? this.nodes.create(id, node, [event], appliedKey)
      : this.nodes.update(id, node, version, [event], appliedKey);
  }

  private async load(ref: HostRef | undefined): Promise<{ data: NodeData; version: number }> {
    if (!ref) throw new ValidationError('host', 'event without host');
    const n = await this.nodes.get(ref.hostId);
    if (!n) throw new NotFoundError('node', ref.hostId);
    return n;
  }

  /**
   * Config-drive network data, like Bifrost's host_vars from Kayobe (§6.5): the PXE NIC (the first
   * inspected one), the admin address with its prefix, gateway, MTU and VLAN when the network
   * service allocated one.
   */
  private deployRequest(n: NodeData): DeployRequest {
    const nic = n.hardware?.nics[0];
    if (!nic) return { image: this.imageUrl };
    const a = n.admin;
    return {
      image: this.imageUrl,
      network: {
        macAddress: nic.macAddress,
        nameservers: a?.nameservers ?? [],
        ...(a ? { address: a.address, prefixLength: a.prefixLength, ...(a.gateway ? { gateway: a.gateway } : {}), ...(a.mtu ? { mtu: a.mtu } : {}), ...(a.vlan ? { vlan: a.vlan } : {}) } : {}),
      },
    };
  }

  /**
   * Operator action (gRPC NodeAction): checked against Ironic's state machine now, carried out by
   * this service's consumer of the NodeActionRequested event it records with the request. One
   * action at a time per node; an aborted node takes none.
   */
  async requestAction(hostId: string, action: string, requestId: string): Promise<{ data: NodeData; version: number }> {
    if (!hostId) throw new ValidationError('host_id', 'required');
    if (!isNodeAction(action)) throw new ValidationError('action', `unknown action "${action}"; one of: ${[...OPERATOR_VERBS, ...POWER_ACTIONS].join(', ')}`);
    const cur = await this.getNode(hostId);
    const n = cur.data;
    if (n.aborted) throw new InvalidTransitionError('node', `${n.state} (aborted)`, action);
    if (n.pendingAction) throw new InvalidTransitionError('node', `${n.state} (${n.pendingAction.verb} under way)`, action);
    if (isPowerAction(action)) {
      if (!STABLE_STATES.includes(n.state) && !n.state.endsWith('failed')) throw new InvalidTransitionError('node', n.state, `${action} (power changes wait until the node rests in a stable or failed state)`);
    } else if (!next(n.state, action)) {
      apply(n, action); // throws the InvalidTransitionError that lists what is allowed
    }
    const updated: NodeData = { ...n, pendingAction: { verb: action, requestId } };
    const event = newEvent({ type: Events.NodeActionRequested, site: n.host.siteId, entityId: n.host.hostId, service: SERVICE, data: { host: n.host, action, requestId } });
    const w = await this.nodes.update(hostId, updated, cur.version, [event], `request|${requestId}`);
    return { data: updated, version: w.outcome === 'written' ? w.version : cur.version + 1 };
  }

  /** Carries out an operator action (NodeActionRequested) and records NodeActionFinished. */
  async onNodeActionRequested(env: Envelope<NodeActionRequested>, ctx: StepContext): Promise<StepOutcome> {
    const cur = await this.load(env.data.host);
    const n = cur.data;
    const action = env.data.action;
    if (n.pendingAction?.requestId !== env.data.requestId || !isNodeAction(action)) return 'duplicate';
    const events: Envelope[] = [];
    let after: NodeData;
    let failure: Failure | undefined;
    try {
      after = await this.perform(n, action, env, events);
    } catch (e) {
      if (isRetryable(e) && !ctx.lastAttempt) throw e;
      failure = { step: action, reason: isStackyardError(e) ? e.reason : 'DriverError', message: (e as Error).message, retryable: isRetryable(e) };
      after = { ...failedAction(n, action), lastFailure: failure };
      events.length = 0;
    }
    const done: NodeData = { ...after, pendingAction: undefined, lastAction: { verb: action, requestId: env.data.requestId, ...(failure ? { failure } : {}) } };
    events.push(
      newEvent({
        type: Events.NodeActionFinished,
        site: n.host.siteId,
        entityId: n.host.hostId,
        service: SERVICE,
        data: { host: n.host, action, requestId: env.data.requestId, state: done.state, failure, power: done.power ?? '' },
        cause: env,
      }),
    );
    return outcome(await this.nodes.update(n.host.hostId, done, cur.version, events, ctx.appliedKey));
  }

  /**
   * The driver work of one action and the node it leaves. When the action completes a saga step
   * the node had not completed (an operator deploying a node whose deploy failed, say), the step is
   * recorded and its fact published, so the saga carries on from there.
   */
  private async perform(n: NodeData, action: NodeAction, cause: Envelope, events: Envelope[]): Promise<NodeData> {
    const fact = (step: Step, node: NodeData): NodeData => {
      if (completed(n, step)) return node;
      const base = { site: n.host.siteId, entityId: n.host.hostId, service: SERVICE, cause };
      if (step === 'enroll') events.push(newEvent({ ...base, type: Events.NodeEnrolled, data: { host: n.host, driver: n.driver } }));
      if (step === 'inspect') events.push(newEvent({ ...base, type: Events.NodeInspected, data: { host: n.host, hardware: node.hardware } }));
      if (step === 'deploy') events.push(newEvent({ ...base, type: Events.NodeProvisioned, data: { host: n.host, image: this.image, nics: node.hardware?.nics ?? [] } }));
      return { ...node, steps: [...node.steps, step], lastFailure: undefined };
    };
    switch (action) {
      case 'manage':
        if (n.state !== 'enroll') return apply(n, 'manage');
        await this.withDriver(n, 'enroll', (d, call) => d.enroll(apply(n, 'manage'), call));
        return fact('enroll', apply(n, 'manage', 'done'));
      case 'inspect': {
        const hardware = await this.withDriver(n, 'inspect', (d, call) => d.inspect(apply(n, 'inspect'), call));
        return fact('inspect', { ...apply(n, 'inspect', 'done'), hardware });
      }
      case 'provide':
        return apply(n, 'provide', 'done');
      case 'deploy':
        await this.withDriver(n, 'deploy', (d, call) => d.deploy(apply(n, 'deploy'), this.deployRequest(n), call));
        return fact('deploy', { ...apply(n, 'deploy', 'done'), power: 'on' });
      case 'undeploy':
        await this.withDriver(n, 'deprovision', (d, call) => d.deprovision(apply(n, 'undeploy'), call));
        return { ...apply(n, 'undeploy', 'clean', 'done'), power: 'off', steps: n.steps.filter((s) => s !== 'deploy') };
      case 'power on':
      case 'power off':
      case 'reboot': {
        const target: PowerAction = action === 'power on' ? 'on' : action === 'power off' ? 'off' : 'reboot';
        await this.withDriver(n, 'power', (d, call) => d.power(n, target, call));
        return { ...n, power: target === 'off' ? 'off' : 'on' };
      }
      default:
        throw new ValidationError('action', `"${action}" is not offered`);
    }
  }

  /** What is running and waiting for the limits. */
  workQueue() {
    return this.limiter.snapshot();
  }

  async getNode(id: string): Promise<{ data: NodeData; version: number }> {
    if (!id) throw new ValidationError('host_id', 'required');
    const n = await this.nodes.get(id);
    if (!n || n.data.deleted) throw new NotFoundError('node', id);
    return n;
  }

  async listNodes(filter: { siteId?: string; state?: string }) {
    return (await this.nodes.list(filter)).filter((n) => !n.data.deleted);
  }
}

function isPowerAction(a: string): a is (typeof POWER_ACTIONS)[number] {
  return (POWER_ACTIONS as readonly string[]).includes(a);
}

function isNodeAction(a: string): a is NodeAction {
  return isPowerAction(a) || (OPERATOR_VERBS as readonly string[]).includes(a);
}

/** Where a failed action leaves the node: Ironic's `fail` from the verb's working state, if any. */
function failedAction(n: NodeData, action: NodeAction): NodeData {
  if (isPowerAction(action) || action === 'provide') return n;
  const working = apply(n, action);
  return next(working.state, 'fail') ? apply(working, 'fail') : n;
}

function outcome(w: Write): StepOutcome {
  return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
}
