import { NotFoundError, StepFailedError, ValidationError, isRetryable, isStackyardError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { Failure, HostRef, Nic } from '@stackyard/proto/inventory/v1/inventory';
import type { NodeRetryRequested } from '@stackyard/proto/monitoring/v1/events';
import type { NodeInspected, NodeProvisioned } from '@stackyard/proto/provisioning/v1/events';
import type { ServicesRemoved } from '@stackyard/proto/deployment/v1/events';
import { exportAllocations, hostNameOf, planImport, type SiteAllocation } from '../domain/allocations';
import { formatIp } from '../domain/ipv4';
import { KayobeConfigError } from '../domain/kayobe/errors';
import { validateAllocations } from '../domain/kayobe/validate';
import { allocatesAddresses, fieldOf, kayobeAttrsOf, lowestFree, networkIssues, siteIssues, validateNetwork, type NetworkData, type NetworkIssue } from '../domain/network';
import { DEFAULT_NETWORK_ENGINE, renderHostNetwork, toKayobeHost, type Attachment, type NetworkEngine } from '../domain/render';
import { attachedNetworks, kollaHostVarsFor, siteRoles } from '../domain/roles';
import type { AllocationRecord, AllocationRepository, HostConfigRepository, NetworkApplier, NetworkRepository } from './ports';

export const SERVICE = 'network';

type StepCtx = { readonly appliedKey: string; readonly lastAttempt: boolean };

export interface NetworkServiceOptions {
  /** Kayobe's `networkd_prefix`. */
  readonly filePrefix: string;
  /** A host whose Kolla host variables Kayobe would refuse fails its step (else the problems are published). */
  readonly kollaStrict?: boolean;
  /** Renderer of host networks (default `networkd`). */
  readonly engine?: NetworkEngine;
}

export class NetworkService {
  private readonly opts: NetworkServiceOptions;

  constructor(
    private readonly networks: NetworkRepository,
    private readonly allocations: AllocationRepository,
    private readonly configs: HostConfigRepository,
    private readonly applier: NetworkApplier,
    opts: NetworkServiceOptions | string,
  ) {
    this.opts = typeof opts === 'string' ? { filePrefix: opts } : opts;
  }

  /**
   * Validates a network on its own (the first error throws, naming its field) and against the site's
   * other networks (shared devices, shared pool addresses, VIPs, route tables, roles), then creates
   * or replaces it. Warnings are returned; nothing is stored when there is an error.
   */
  async defineNetwork(n: NetworkData): Promise<{ data: NetworkData; version: number; warnings: NetworkIssue[] }> {
    validateNetwork(n);
    const others = (await this.networks.list(n.siteId)).filter((o) => o.name !== n.name);
    const issues = [...networkIssues(n), ...siteIssues(n, others)];
    const error = issues.find((i) => i.severity === 'error');
    if (error) throw new ValidationError(error.field, error.kayobeVariable ? `${error.message} (Kayobe: ${error.kayobeVariable})` : error.message);
    const version = await this.networks.put(n);
    return { data: n, version, warnings: issues.filter((i) => i.severity === 'warning') };
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

  /**
   * Every problem of a site: each network on its own (with its current allocations as `<net>_ips`),
   * against the others, and one address given twice across networks. Definitions stored before a
   * check existed show up here.
   */
  async validateSite(siteId: string): Promise<NetworkIssue[]> {
    if (!siteId) throw new ValidationError('site_id', 'required');
    const nets = await this.networks.list(siteId);
    const ips = ipsByNetwork(siteId, await this.allocations.listSite(siteId));
    const out: NetworkIssue[] = [];
    for (const n of nets) {
      try {
        validateNetwork(n);
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        out.push({ severity: 'error', field: e.field, message: e.message.slice(e.field.length + 2), network: n.name, kayobeVariable: '' });
      }
      out.push(...networkIssues(n, ips[n.name]), ...siteIssues(n, nets));
    }
    const attrs = Object.fromEntries(nets.map((n) => [n.name, kayobeAttrsOf(n, ips[n.name])]));
    for (const i of validateAllocations(attrs)) {
      const network = i.field.slice(0, -'_ips'.length);
      out.push({ ...i, field: fieldOf(network, i.field), network, kayobeVariable: i.field });
    }
    return out;
  }

  /** The site's allocations as Kayobe's network-allocation.yml. */
  async exportAllocations(siteId: string): Promise<string> {
    if (!siteId) throw new ValidationError('site_id', 'required');
    return exportAllocations(toSite(siteId, await this.allocations.listSite(siteId)));
  }

  /**
   * Pre-seeds allocations from a network-allocation.yml. The whole file is checked first (planImport);
   * then each entry is claimed through the unique indexes. If a claim loses a race, the entries this
   * call claimed are removed again and the conflict is reported: all or nothing.
   */
  async importAllocations(siteId: string, yaml: string): Promise<{ imported: AllocationRecord[]; unchanged: AllocationRecord[] }> {
    if (!siteId) throw new ValidationError('site_id', 'required');
    const nets = await this.networks.list(siteId);
    const plan = planImport(siteId, yaml, nets, toSite(siteId, await this.allocations.listSite(siteId)));
    const record = (a: SiteAllocation): AllocationRecord => ({ siteId, network: a.network, hostId: a.hostId, hostName: a.hostName, address: a.address });
    const done: AllocationRecord[] = [];
    for (const a of plan.insert) {
      const r = record(a);
      const outcome = await this.allocations.claim(r).catch(async (e: unknown) => {
        for (const d of done) await this.allocations.remove(d);
        throw e;
      });
      if (outcome !== 'claimed') {
        for (const d of done) await this.allocations.remove(d);
        const what = outcome === 'host-has-one' ? `${a.hostName} was given an address on ${a.network} meanwhile` : `${formatIp(a.address)} on ${a.network} was taken meanwhile`;
        throw new ValidationError(`yaml.${a.network}_ips.${a.hostName}`, `${what}; nothing was imported`);
      }
      done.push(r);
    }
    return { imported: done, unchanged: plan.unchanged.map(record) };
  }

  /** Allocates the lowest free address of a network to a host; concurrent callers never share one. */
  async allocate(n: NetworkData, hostId: string, hostName?: string): Promise<string> {
    const { pool } = validateNetwork(n);
    if (!pool) throw new ValidationError('network.cidr', `network ${n.name} allocates no addresses`);
    const mine = await this.allocations.forHost(n.siteId, n.name, hostId);
    if (mine) return formatIp(mine.address);
    const skip = new Set<number>();
    for (;;) {
      const taken = await this.allocations.taken(n.siteId, n.name);
      const ip = lowestFree(pool, taken, skip);
      if (ip === undefined) {
        throw new StepFailedError('AddressPoolExhausted', `network ${n.name} of site ${n.siteId} has no free address in its pool`, false);
      }
      const r = await this.allocations.claim({ siteId: n.siteId, network: n.name, hostId, address: ip, ...(hostName ? { hostName } : {}) });
      if (r === 'claimed') return formatIp(ip);
      if (r === 'host-has-one') {
        const again = await this.allocations.forHost(n.siteId, n.name, hostId);
        if (again) return formatIp(again.address);
      }
      skip.add(ip);
    }
  }

  /**
   * NodeInspected -> the admin address (Kayobe's admin_oc network, provision_oc by default) is
   * allocated before the OS is deployed, as Kayobe requires, and AdminAddressAllocated carries it
   * (with prefix, gateway, MTU and VLAN) to provisioning for the config drive. A site without an
   * admin network that gives this host an address publishes an empty address. A failure for good
   * is a network failure: the address is released and NetworkFailed published.
   */
  async onNodeInspected(env: Envelope<NodeInspected>, ctx: StepCtx): Promise<'applied' | 'duplicate'> {
    const host = env.data.host;
    if (!host) throw new ValidationError('host', 'NodeInspected without host');
    const existing = await this.configs.get(host.hostId);
    // A host deleted from the inventory and registered again starts afresh.
    if (existing && existing.data.state !== 'failed' && !existing.data.deleted) return 'duplicate';
    return this.reserveAdmin(host, env.data.hardware?.nics ?? [], env, ctx, existing?.version);
  }

  private async reserveAdmin(host: HostRef, nics: readonly Nic[], env: Envelope, ctx: StepCtx, version: number | undefined): Promise<'applied' | 'duplicate'> {
    try {
      const siteNets = await this.networks.list(host.siteId);
      const adminName = siteRoles(siteNets).admin_oc_net_name;
      const admin = attachedNetworks(siteNets, host.groups).find((n) => n.name === adminName && allocatesAddresses(n));
      const address = admin ? await this.allocate(admin, host.hostId, host.name) : '';
      const data = admin
        ? { host, network: admin.name, address, prefixLength: Number(admin.cidr.split('/')[1]), gateway: admin.gateway, mtu: admin.mtu, vlan: admin.vlan, nameservers: [], nics: [...nics] }
        : { host, network: '', address: '', prefixLength: 0, gateway: '', mtu: 0, vlan: 0, nameservers: [], nics: [...nics] };
      const event = newEvent({ type: Events.AdminAddressAllocated, site: host.siteId, entityId: host.hostId, service: SERVICE, data, cause: env });
      const allocations = admin ? [{ network: admin.name, address }] : [];
      const w = await this.configs.save({ host, allocations, files: [], state: 'reserved', nics }, version, [event], ctx.appliedKey);
      return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
    } catch (e) {
      if (isRetryable(e) && !ctx.lastAttempt) throw e;
      return this.fail(host, version, e, env, ctx.appliedKey, { at: 'admin-address', nics });
    }
  }

  /** Records a network step failed for good: the host's addresses are released, NetworkFailed published. */
  private async fail(host: HostRef, version: number | undefined, e: unknown, cause: Envelope, appliedKey: string, retry: { at: 'admin-address' | 'configure'; nics: readonly Nic[] }): Promise<'applied' | 'duplicate'> {
    await this.allocations.releaseHost(host.siteId, host.hostId);
    const failure: Failure = {
      step: 'network',
      reason: e instanceof ValidationError ? 'InvalidNetworkConfig' : isStackyardError(e) ? e.reason : 'NetworkApplyError',
      message: (e as Error).message,
      retryable: isRetryable(e),
    };
    const event = newEvent({ type: Events.NetworkFailed, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, failure }, cause });
    const w = await this.configs.save({ host, allocations: [], files: [], state: 'failed', failedAt: retry.at, nics: retry.nics }, version, [event], appliedKey);
    return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
  }

  /**
   * Operator retry of a failed network step (NodeRetryRequested, step "network"): runs the part that
   * failed again — the admin address before deploy, or the whole configuration after it — from what
   * the failure record kept (the host and its NICs). Anything else is not for this service.
   */
  async onRetryRequested(env: Envelope<NodeRetryRequested>, ctx: StepCtx): Promise<'applied' | 'duplicate' | 'ignored'> {
    if (env.data.step !== 'network' || !env.data.host) return 'ignored';
    const existing = await this.configs.get(env.data.host.hostId);
    if (!existing || existing.data.state !== 'failed') return 'ignored';
    const { host, nics = [], failedAt } = existing.data;
    return failedAt === 'admin-address'
      ? this.reserveAdmin(host, nics, env, ctx, existing.version)
      : this.configure(host, nics, env, ctx, existing.version);
  }

  /**
   * NodeProvisioned -> allocate (networks that take an address), render with every Kayobe attribute,
   * derive the Kolla host variables, apply -> NetworkConfigured (or NetworkFailed, addresses released).
   */
  async onNodeProvisioned(env: Envelope<NodeProvisioned>, ctx: StepCtx): Promise<'applied' | 'duplicate'> {
    const host = env.data.host;
    if (!host) throw new ValidationError('host', 'NodeProvisioned without host');
    const existing = await this.configs.get(host.hostId);
    if (existing?.data.state === 'configured') return 'duplicate';
    if (existing?.data.state === 'released') {
      // Aborted while this step ran: what it claimed before losing the race goes back too.
      await this.allocations.releaseHost(host.siteId, host.hostId);
      return 'duplicate';
    }
    return this.configure(host, env.data.nics, env, ctx, existing?.version);
  }

  private async configure(host: HostRef, nics: readonly Nic[], env: Envelope, ctx: StepCtx, version: number | undefined): Promise<'applied' | 'duplicate'> {
    try {
      const siteNets = await this.networks.list(host.siteId);
      const nets = attachedNetworks(siteNets, host.groups);
      if (nets.length === 0) {
        throw new StepFailedError('NoNetworkForHost', `no network of site ${host.siteId} is attached to groups ${host.groups.join(', ')}`, false);
      }
      const attachments: Attachment[] = [];
      for (const n of nets) attachments.push({ network: n, address: allocatesAddresses(n) ? await this.allocate(n, host.hostId, host.name) : undefined });
      const roles = siteRoles(siteNets);
      const opts = { networkdPrefix: this.opts.filePrefix, roles };
      const files = renderHostNetwork(this.opts.engine ?? DEFAULT_NETWORK_ENGINE, host.name, attachments, nics, opts);
      const kolla = this.kollaVars(host, attachments, nics, roles);
      const adminAddress = attachments.find((a) => a.network.name === roles.admin_oc_net_name)?.address;
      await this.applier.apply(host, files, attachments.flatMap((a) => (a.address ? [a.address] : [])), adminAddress);
      const allocations = attachments.flatMap((a) => (a.address ? [{ network: a.network.name, address: a.address }] : []));
      const event = newEvent({
        type: Events.NetworkConfigured,
        site: host.siteId,
        entityId: host.hostId,
        service: SERVICE,
        data: {
          host,
          allocations: allocations.map((a) => ({ siteId: host.siteId, hostId: host.hostId, ...a })),
          files,
          kolla: { vars: { ...kolla.vars }, problems: [...kolla.problems] },
        },
        cause: env,
      });
      const w = await this.configs.save({ host, allocations, files, state: 'configured', kolla, nics }, version, [event], ctx.appliedKey);
      return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
    } catch (e) {
      if (isRetryable(e) && !ctx.lastAttempt) throw e;
      // Compensation: a host whose network step failed for good holds no addresses.
      return this.fail(host, version, e, env, ctx.appliedKey, { at: 'configure', nics });
    }
  }

  /** Kolla-Ansible host variables (§3.8): Neutron enabled, Ironic and provider networks on compute not modelled. */
  private kollaVars(host: HostRef, attachments: readonly Attachment[], nics: readonly Nic[], roles: ReturnType<typeof siteRoles>) {
    const { host: kh, names } = toKayobeHost(host.name, attachments, nics, { networkdPrefix: this.opts.filePrefix, roles });
    const flags = { kollaEnableIronic: false, kollaEnableNeutron: true, kollaEnableNeutronProviderNetworks: false, groups: host.groups };
    const view = kollaHostVarsFor(kh, names, roles, flags);
    if (this.opts.kollaStrict && view.problems.length > 0) throw new KayobeConfigError('network_interfaces', view.problems.join('; '));
    return view;
  }

  /**
   * Compensation, second in reverse order (ServicesRemoved): the host's addresses are released and a
   * tombstone keeps a late NodeProvisioned from allocating again; AddressesReleased lets
   * provisioning deprovision.
   */
  async onServicesRemoved(env: Envelope<ServicesRemoved>, ctx: { appliedKey: string }): Promise<'applied' | 'duplicate'> {
    const host = env.data.host;
    if (!host) throw new ValidationError('host', 'ServicesRemoved without host');
    const existing = await this.configs.get(host.hostId);
    if (existing?.data.state === 'released') return 'duplicate';
    const held = await this.allocations.listHost(host.hostId);
    await this.allocations.releaseHost(host.siteId, host.hostId);
    const released = held.map((a) => ({ siteId: a.siteId, network: a.network, hostId: a.hostId, address: formatIp(a.address) }));
    const event = newEvent({ type: Events.AddressesReleased, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, released }, cause: env });
    const w = await this.configs.save({ host, allocations: [], files: [], state: 'released' }, existing?.version, [event], ctx.appliedKey);
    return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
  }
}

function toSite(siteId: string, rows: readonly AllocationRecord[]): SiteAllocation[] {
  return rows.map((r) => ({ network: r.network, hostId: r.hostId, hostName: hostNameOf(siteId, r), address: r.address }));
}

function ipsByNetwork(siteId: string, rows: readonly AllocationRecord[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const r of rows) (out[r.network] ??= {})[hostNameOf(siteId, r)] = formatIp(r.address);
  return out;
}
