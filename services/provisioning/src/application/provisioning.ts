import { NotFoundError, StepFailedError, ValidationError, isRetryable, isStackyardError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { Failure, HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { HostRegistered } from '@stackyard/proto/inventory/v1/events';
import type { NodeEnrolled, NodeInspected } from '@stackyard/proto/provisioning/v1/events';
import type { NodeRetryRequested } from '@stackyard/proto/monitoring/v1/events';
import type { AddressesReleased } from '@stackyard/proto/network/v1/events';
import { completed, deprovisioned, failedState, newNode, transition, withStepFailed, type NodeData, type Step } from '../domain/node';
import type { BareMetalDriver, NodeRepository, Write } from './ports';

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
    private readonly image: string,
  ) {}

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
    if (existing && (completed(existing.data, 'enroll') || existing.data.aborted)) return 'duplicate';
    const node = existing?.data ?? newNode(ref, host.bmc.driver, host.bmc.address, host.hardwareProfile);
    return this.enroll(env, ctx, node, existing?.version);
  }

  private enroll(env: Envelope, ctx: StepContext, node: NodeData, version: number | undefined): Promise<StepOutcome> {
    return this.runStep(env, ctx, node, version, 'enroll', async (n) => {
      // A retry after a recorded failure goes back to enroll first (enroll failed --retry--> enroll).
      const enrolling = n.state === 'enroll failed' ? transition(n, 'enroll') : n;
      await this.driverFor(n.driver).enroll(enrolling);
      const done = { ...transition(enrolling, 'manageable'), steps: [...n.steps, 'enroll' as const], lastFailure: undefined };
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
      const inspecting = transition(n, 'inspecting');
      const hardware = await this.driverFor(n.driver).inspect(inspecting);
      const done = { ...transition(inspecting, 'manageable'), hardware, steps: [...n.steps, 'inspect' as const], lastFailure: undefined };
      return { node: done, event: newEvent({ type: Events.NodeInspected, site: n.host.siteId, entityId: n.host.hostId, service: SERVICE, data: { host: n.host, hardware }, cause: env }) };
    });
  }

  /** NodeInspected -> provide + deploy the OS image -> NodeProvisioned. */
  async onNodeInspected(env: Envelope<NodeInspected>, ctx: StepContext): Promise<StepOutcome> {
    const cur = await this.load(env.data.host);
    if (cur.data.aborted) return 'ignored';
    if (completed(cur.data, 'deploy')) return 'duplicate';
    return this.deploy(env, ctx, cur.data, cur.version);
  }

  private deploy(env: Envelope, ctx: StepContext, node: NodeData, version: number): Promise<StepOutcome> {
    return this.runStep(env, ctx, node, version, 'deploy', async (n) => {
      const deploying = n.state === 'manageable' ? transition(n, 'available', 'deploying') : transition(n, 'deploying');
      await this.driverFor(n.driver).deploy(deploying, this.image);
      const done = { ...transition(deploying, 'active'), steps: [...n.steps, 'deploy' as const], lastFailure: undefined };
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
    if (cur.data.aborted || cur.data.state !== failedState(step)) return 'ignored';
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
    if (cur && node.driver) await this.driverFor(node.driver).deprovision(node);
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

  async getNode(id: string): Promise<{ data: NodeData; version: number }> {
    if (!id) throw new ValidationError('host_id', 'required');
    const n = await this.nodes.get(id);
    if (!n) throw new NotFoundError('node', id);
    return n;
  }

  listNodes(filter: { siteId?: string; state?: string }) {
    return this.nodes.list(filter);
  }
}

function outcome(w: Write): StepOutcome {
  return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
}
