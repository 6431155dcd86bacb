import { NotFoundError, StepFailedError, ValidationError, isRetryable, isStackyardError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { Failure, HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { NetworkConfigured } from '@stackyard/proto/network/v1/events';
import type { NodeAbortRequested, NodeRetryRequested } from '@stackyard/proto/monitoring/v1/events';
import { placement } from '../domain/catalogue';
import type { SiteOperations } from './operations';
import type { Address, ContainerRuntime, NodeDeploymentData, NodeDeploymentRepository, SiteInputs } from './ports';

export const SERVICE = 'deployment';

export class DeploymentService {
  constructor(
    private readonly deployments: NodeDeploymentRepository,
    private readonly runtime: ContainerRuntime,
    /** Generates and records the site's Kolla inputs, for runtimes that use them. */
    private readonly site?: SiteOperations,
  ) {}

  async get(hostId: string) {
    if (!hostId) throw new ValidationError('host_id', 'required');
    const d = await this.deployments.get(hostId);
    if (!d) throw new NotFoundError('node deployment', hostId);
    return d;
  }

  /** NetworkConfigured -> deploy the node's Kolla containers -> ServicesDeployed (or DeployFailed). */
  async onNetworkConfigured(env: Envelope<NetworkConfigured>, ctx: { appliedKey: string; lastAttempt: boolean }): Promise<'applied' | 'duplicate'> {
    const host = env.data.host;
    if (!host) throw new ValidationError('host', 'NetworkConfigured without host');
    const existing = await this.deployments.get(host.hostId);
    if (existing?.data.state === 'deployed' || existing?.data.state === 'removed') return 'duplicate';
    const addresses: Address[] = env.data.allocations.map((a) => ({ network: a.network, address: a.address }));
    return this.deploy(host, addresses, env, ctx, existing);
  }

  /**
   * Operator retry of a failed services step (NodeRetryRequested, step "services"): deploys again
   * from the failure record (host and addresses). Anything else is not for this service.
   */
  async onRetryRequested(env: Envelope<NodeRetryRequested>, ctx: { appliedKey: string; lastAttempt: boolean }): Promise<'applied' | 'duplicate' | 'ignored'> {
    if (env.data.step !== 'services' || !env.data.host) return 'ignored';
    const existing = await this.deployments.get(env.data.host.hostId);
    if (!existing || existing.data.state !== 'failed') return 'ignored';
    return this.deploy(existing.data.host, existing.data.addresses ?? [], env, ctx, existing);
  }

  private async deploy(
    host: HostRef,
    addresses: readonly Address[],
    env: Envelope,
    ctx: { appliedKey: string; lastAttempt: boolean },
    existing: { data: NodeDeploymentData; version: number } | null,
  ): Promise<'applied' | 'duplicate'> {
    let version = existing?.version;
    if (this.runtime.usesInputs && existing?.data.state !== 'deploying') {
      // Site inputs list every node of the site: record this one first so that concurrent deploys
      // of other nodes generate an inventory with it. No event, no inbox key: the final write has them.
      const d = await this.deployments.save({ host, state: 'deploying', containers: [], lastFailure: undefined, addresses: [...addresses] }, version, [], '');
      if (d.outcome === 'written') version = d.version;
    }
    let w;
    try {
      const planned = placement(host.groups);
      let inputs: SiteInputs | undefined;
      if (this.runtime.usesInputs && this.site) inputs = await this.site.inputsFor(host.siteId, { host, addresses });
      const containers = await this.runtime.deploy(host, planned, addresses.map((a) => a.address), inputs);
      const unhealthy = containers.filter((c) => !c.healthy);
      if (unhealthy.length) {
        throw new StepFailedError('ContainersUnhealthy', `unhealthy after deploy: ${unhealthy.map((c) => c.name).join(', ')}`, true);
      }
      if (inputs && this.site) await this.site.recordApplied(inputs, 'deploy');
      const event = newEvent({ type: Events.ServicesDeployed, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, containers }, cause: env });
      w = await this.deployments.save({ host, state: 'deployed', containers, lastFailure: undefined, addresses }, version, [event], ctx.appliedKey);
    } catch (e) {
      if (isRetryable(e) && !ctx.lastAttempt) throw e;
      const failure: Failure = {
        step: 'services',
        reason: isStackyardError(e) ? e.reason : 'RuntimeError',
        message: (e as Error).message,
        retryable: isRetryable(e),
      };
      const event = newEvent({ type: Events.DeployFailed, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, failure }, cause: env });
      w = await this.deployments.save({ host, state: 'failed', containers: [], lastFailure: failure, addresses }, version, [event], ctx.appliedKey);
    }
    return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
  }

  /**
   * Compensation, first in reverse order (NodeAbortRequested): the node's services are removed and a
   * tombstone keeps later facts from deploying them again; ServicesRemoved lets network release.
   */
  async onAbortRequested(env: Envelope<NodeAbortRequested>, ctx: { appliedKey: string }): Promise<'applied' | 'duplicate'> {
    const host = env.data.host;
    if (!host) throw new ValidationError('host', 'NodeAbortRequested without host');
    const existing = await this.deployments.get(host.hostId);
    if (existing?.data.state === 'removed') return 'duplicate';
    const removed = [...(existing?.data.containers ?? [])];
    const event = newEvent({ type: Events.ServicesRemoved, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, removed }, cause: env });
    const w = await this.deployments.save({ host, state: 'removed', containers: [], lastFailure: undefined }, existing?.version, [event], ctx.appliedKey);
    return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
  }
}
