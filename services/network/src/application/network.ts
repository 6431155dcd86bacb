import { NotFoundError, StepFailedError, ValidationError, isRetryable, isStackyardError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { Failure } from '@stackyard/proto/inventory/v1/inventory';
import type { NodeProvisioned } from '@stackyard/proto/provisioning/v1/events';
import { formatIp } from '../domain/ipv4';
import { lowestFree, validateNetwork, type NetworkData } from '../domain/network';
import { renderNetworkd, type Attachment } from '../domain/render';
import type { AllocationRepository, HostConfigRepository, NetworkApplier, NetworkRepository } from './ports';

export const SERVICE = 'network';

export class NetworkService {
  constructor(
    private readonly networks: NetworkRepository,
    private readonly allocations: AllocationRepository,
    private readonly configs: HostConfigRepository,
    private readonly applier: NetworkApplier,
    private readonly filePrefix: string,
  ) {}

  async defineNetwork(n: NetworkData): Promise<{ data: NetworkData; version: number }> {
    validateNetwork(n);
    const version = await this.networks.put(n);
    return { data: n, version };
  }

  async getNetwork(siteId: string, name: string) {
    const n = await this.networks.get(siteId, name);
    if (!n) throw new NotFoundError('network', `${siteId}/${name}`);
    return n;
  }

  listNetworks(siteId: string) {
    if (!siteId) throw new ValidationError('site_id', 'required');
    return this.networks.list(siteId);
  }

  async getHostConfig(hostId: string) {
    if (!hostId) throw new ValidationError('host_id', 'required');
    const c = await this.configs.get(hostId);
    if (!c) throw new NotFoundError('host network config', hostId);
    return c;
  }

  /** Allocates the lowest free address of a network to a host; concurrent callers never share one. */
  async allocate(n: NetworkData, hostId: string): Promise<string> {
    const { pool } = validateNetwork(n);
    const mine = await this.allocations.forHost(n.siteId, n.name, hostId);
    if (mine) return formatIp(mine.address);
    const skip = new Set<number>();
    for (;;) {
      const taken = await this.allocations.taken(n.siteId, n.name);
      const ip = lowestFree(pool, taken, skip);
      if (ip === undefined) {
        throw new StepFailedError('AddressPoolExhausted', `network ${n.name} of site ${n.siteId} has no free address in its pool`, false);
      }
      const r = await this.allocations.claim({ siteId: n.siteId, network: n.name, hostId, address: ip });
      if (r === 'claimed') return formatIp(ip);
      if (r === 'host-has-one') {
        const again = await this.allocations.forHost(n.siteId, n.name, hostId);
        if (again) return formatIp(again.address);
      }
      skip.add(ip);
    }
  }

  /** NodeProvisioned -> allocate, render, apply -> NetworkConfigured (or NetworkFailed, addresses released). */
  async onNodeProvisioned(env: Envelope<NodeProvisioned>, ctx: { appliedKey: string; lastAttempt: boolean }): Promise<'applied' | 'duplicate'> {
    const host = env.data.host;
    if (!host) throw new ValidationError('host', 'NodeProvisioned without host');
    const existing = await this.configs.get(host.hostId);
    if (existing?.data.state === 'configured') return 'duplicate';
    try {
      const nets = (await this.networks.list(host.siteId)).filter((n) => n.groups.some((g) => host.groups.includes(g)));
      if (nets.length === 0) {
        throw new StepFailedError('NoNetworkForHost', `no network of site ${host.siteId} is attached to groups ${host.groups.join(', ')}`, false);
      }
      const attachments: Attachment[] = [];
      for (const n of nets) attachments.push({ network: n, address: await this.allocate(n, host.hostId) });
      const files = renderNetworkd(host.name, attachments, env.data.nics, this.filePrefix);
      await this.applier.apply(host, files, attachments.map((a) => a.address));
      const allocations = attachments.map((a) => ({ network: a.network.name, address: a.address }));
      const event = newEvent({
        type: Events.NetworkConfigured,
        site: host.siteId,
        entityId: host.hostId,
        service: SERVICE,
        data: { host, allocations: allocations.map((a) => ({ siteId: host.siteId, hostId: host.hostId, ...a })), files },
        cause: env,
      });
      const w = await this.configs.save({ host, allocations, files, state: 'configured' }, existing?.version, [event], ctx.appliedKey);
      return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
    } catch (e) {
      if (isRetryable(e) && !ctx.lastAttempt) throw e;
      // Compensation: a host whose network step failed for good holds no addresses.
      await this.allocations.releaseHost(host.siteId, host.hostId);
      const failure: Failure = {
        step: 'network',
        reason: e instanceof ValidationError ? 'InvalidNetworkConfig' : isStackyardError(e) ? e.reason : 'NetworkApplyError',
        message: (e as Error).message,
        retryable: isRetryable(e),
      };
      const event = newEvent({ type: Events.NetworkFailed, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, failure }, cause: env });
      const w = await this.configs.save({ host, allocations: [], files: [], state: 'failed' }, existing?.version, [event], ctx.appliedKey);
      return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
    }
  }
}
