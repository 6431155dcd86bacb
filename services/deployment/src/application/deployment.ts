import { AlreadyExistsError, ConcurrencyError, NotFoundError, StepFailedError, ValidationError, isRetryable, isStackyardError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { Container } from '@stackyard/proto/deployment/v1/deployment';
import type { ControlPlaneReleased, DeployFailed, NodeDeploymentReleased, ServicesDeployed, ServicesRemoved } from '@stackyard/proto/deployment/v1/events';
import type { HostRegistered } from '@stackyard/proto/inventory/v1/events';
import type { Failure, HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { NetworkConfigured } from '@stackyard/proto/network/v1/events';
import type { NodeAbortRequested, NodeRetryRequested } from '@stackyard/proto/monitoring/v1/events';
import { placement } from '../domain/catalogue';
import { MAJORITY, controlPlaneRole, controllerGate, gate, type ControllerDecision, type ControllerView, type GateDecision, type QuorumPolicy, type QuorumStatus } from '../domain/quorum';
import { HostPrep, targetAddress } from './host-prep';
import type { SiteOperations } from './operations';
import type { Address, ContainerRuntime, DeploymentWait, NodeDeploymentData, NodeDeploymentRepository, SiteControllerRepository, SiteInputs, SiteRolloutRepository } from './ports';

export const SERVICE = 'deployment';

/** Quorum gating of the services step (`domain/quorum.ts`). Without it every node deploys on its own. */
export interface Gating {
  /** The site's registered controllers (from HostRegistered). */
  readonly controllers: SiteControllerRepository;
  readonly policy?: QuorumPolicy;
  /**
   * Per-site rollout state. With it, the control plane is deployed as one batch (ControlPlaneReleased)
   * and SiteServicesDeployed is published (with `hosts`); without it every controller deploys on its own.
   */
  readonly rollouts?: SiteRolloutRepository;
  /** Every registered host with Kolla roles (from HostRegistered), for SiteServicesDeployed. */
  readonly hosts?: SiteControllerRepository;
}

/** The gate's answer for one node, computes and controllers alike. */
type Decision =
  | { readonly kind: 'deploy'; readonly quorum?: QuorumStatus }
  | { readonly kind: 'wait'; readonly wait: DeploymentWait }
  | { readonly kind: 'in-batch' }
  | { readonly kind: 'release-control-plane'; readonly members: readonly string[]; readonly quorum: QuorumStatus };

type Ctx = { appliedKey: string; lastAttempt: boolean };
type Existing = { data: NodeDeploymentData; version: number };

/** How many times a re-evaluation of a waiting node re-reads after losing a write race. */
const REEVALUATE_ATTEMPTS = 5;

/** How often host preparation reads what changed in a site's node deployments, and the whole site (`siteNodes`). */
const SITE_VIEW_READ_MS = 5000;
const SITE_VIEW_FULL_MS = 60_000;

/** A site's node deployments as this replica last read them, by host id (`siteNodes`). */
interface SiteView {
  readonly nodes: Map<string, NodeDeploymentData>;
  readAt: number;
  fullAt: number;
  reading?: Promise<void>;
}

export class DeploymentService {
  private readonly policy: QuorumPolicy;

  constructor(
    private readonly deployments: NodeDeploymentRepository,
    private readonly runtime: ContainerRuntime,
    /** Generates and records the site's Kolla inputs, for runtimes that use them. */
    private readonly site?: SiteOperations,
    private readonly gating?: Gating,
    /** Host preparation before the services deploy; without it the services deploy comes right after NetworkConfigured. */
    private readonly hostPrep?: HostPrep,
  ) {
    this.policy = gating?.policy ?? MAJORITY;
  }

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
    let existing = await this.deployments.get(host.hostId);
    // A host the inventory deleted and then registered again: its new saga starts from nothing (host
    // prep included); the record keeps its version, and the first write of the new run clears `deleted`.
    if (existing?.data.state === 'removed' && existing.data.deleted) {
      existing = { version: existing.version, data: { host, state: 'failed', containers: [], lastFailure: undefined } };
    }
    const state = existing?.data.state;
    if (state === 'deployed' || state === 'removed' || state === 'released') return 'duplicate';
    // Waiting already (a redelivery, e.g. after a crash between the waiting write and its re-check).
    if (state === 'waiting') return this.reevaluate(host.hostId, env, '');
    const addresses: Address[] = env.data.allocations.map((a) => ({ network: a.network, address: a.address }));
    return this.proceed(host, addresses, env, ctx, existing);
  }

  /**
   * The step from host preparation on: prepares the host unless that is recorded as done (HostPrepared,
   * written without the inbox key: the final write of the step has it), then the quorum gate, then the
   * services deploy.
   */
  private async proceed(host: HostRef, addresses: Address[], env: Envelope, ctx: Ctx, existing: Existing | null): Promise<'applied' | 'duplicate'> {
    if (this.hostPrep && !existing?.data.hostPrep) {
      const p = await this.prepare(host, addresses, env, ctx, existing);
      if (p.outcome !== 'prepared') return p.outcome;
      existing = p.existing;
    }
    const state = existing?.data.state;
    if (this.gating && state !== 'deploying') {
      // This node counts as ready (it is about to be recorded so) for the controllers' gate.
      const decision = await this.decide(host, true);
      if (decision.kind === 'wait' || decision.kind === 'release-control-plane') {
        // A controller completing the quorum is recorded ready (no event) and the re-check below releases the batch.
        const wait = decision.kind === 'wait' ? decision.wait : assembled(decision.quorum);
        const events = decision.kind === 'wait' ? [newEvent({ type: Events.NodeDeploymentWaiting, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, wait }, cause: env })] : [];
        const w = await this.deployments.save(
          { host, state: 'waiting', containers: [], lastFailure: undefined, addresses, waiting: wait, ...prepOf(existing) },
          existing?.version,
          events,
          ctx.appliedKey,
        );
        if (w.outcome === 'duplicate') return 'duplicate';
        // A controller may have been deployed between the gate's read and this write, and its
        // re-evaluation may have missed this node: check again now that the node is recorded.
        await this.reevaluate(host.hostId, env, '');
        return 'applied';
      }
    }
    return this.deploy(host, addresses, env, ctx, existing);
  }

  /** HostRegistered: remembers the site's controllers (the quorum's total). Other hosts are not kept. */
  async onHostRegistered(env: Envelope<HostRegistered>, ctx: { appliedKey: string }): Promise<'applied' | 'duplicate' | 'ignored'> {
    const h = env.data.host;
    if (!h) throw new ValidationError('host', 'HostRegistered without host');
    if (!this.gating) return 'ignored';
    const role = controlPlaneRole(h.groups);
    const ref: HostRef = { hostId: h.id, siteId: h.siteId, name: h.name, groups: [...h.groups] };
    // Every host with roles, for SiteServicesDeployed (the site is complete when each of them is deployed).
    const known = this.gating.hosts && role !== 'none' ? await this.gating.hosts.record(ref, ctx.appliedKey) : 'ignored';
    if (role !== 'controller') return known;
    const r = await this.gating.controllers.record(ref, ctx.appliedKey);
    // One more controller only raises the bar; the waiting nodes' reasons show the new count.
    if (r === 'applied') await this.reevaluateSite(h.siteId, env, ctx.appliedKey);
    return r;
  }

  /**
   * A controller's services deployed, failed or removed (this service's own facts, consumed back): the
   * site's waiting nodes are re-evaluated; those the gate lets through are released, the others get
   * the current reason. Facts about other nodes are ignored.
   */
  async onControlPlaneChanged(env: Envelope<ServicesDeployed | DeployFailed | ServicesRemoved>, ctx: { appliedKey: string }): Promise<'applied' | 'ignored'> {
    const host = env.data.host;
    if (!this.gating || !host) return 'ignored';
    let outcome: 'applied' | 'ignored' = 'ignored';
    if (controlPlaneRole(host.groups) === 'controller') {
      await this.reevaluateSite(host.siteId, env, ctx.appliedKey);
      outcome = 'applied';
    }
    // A node deployed or removed may complete its site.
    if (env.type !== Events.DeployFailed.type && (await this.evaluateSite(host.siteId, env))) outcome = 'applied';
    return outcome;
  }

  /**
   * SiteServicesDeployed: when every node of the site with Kolla roles (registered, or known from its
   * NetworkConfigured) is deployed or removed (aborted), at least one controller is deployed, and some
   * deployed node is not in the last published generation: the next generation, with every deployed
   * node and those added. One version-checked write of the site's rollout with the event: concurrent
   * evaluations (replicas, redeliveries) write it once; the others find nothing new.
   */
  async evaluateSite(siteId: string, cause: Envelope): Promise<boolean> {
    const g = this.gating;
    if (!g?.rollouts || !g.hosts) return false;
    // No control plane (a site of computes only): never complete; skips the listings below. Read
    // first: site_controllers is small, while anyUnfinished filters every node deployment of the
    // site (in FerretDB's Go code, not PostgreSQL) for each node that finishes.
    if (!(await g.controllers.listBySite(siteId)).length) return false;
    if (this.deployments.anyUnfinished && (await this.deployments.anyUnfinished(siteId))) return false;
    const [registered, nodes] = await Promise.all([g.hosts.listBySite(siteId), this.deployments.listBySite(siteId)]);
    const byId = new Map(nodes.map((n) => [n.host.hostId, n]));
    const ids = new Set([...registered.map((h) => h.hostId), ...nodes.filter((n) => controlPlaneRole(n.host.groups) !== 'none').map((n) => n.host.hostId)]);
    const deployed: HostRef[] = [];
    for (const id of ids) {
      const n = byId.get(id);
      if (n?.state === 'removed') continue;
      if (n?.state !== 'deployed') return false;
      deployed.push(n.host);
    }
    if (!deployed.some((h) => controlPlaneRole(h.groups) === 'controller')) return false;
    deployed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let attempt = 1; ; attempt++) {
      const r = await g.rollouts.get(siteId);
      const before = new Set(r?.data.deployedHostIds ?? []);
      const added = deployed.filter((h) => !before.has(h.hostId)).map((h) => h.hostId);
      if (!added.length) return false;
      const generation = (r?.data.generation ?? 0) + 1;
      const event = newEvent({ type: Events.SiteServicesDeployed, site: siteId, entityId: siteId, service: SERVICE, data: { siteId, generation, hosts: deployed, addedHostIds: added }, cause });
      try {
        await g.rollouts.save({ siteId, controlPlane: r?.data.controlPlane ?? null, generation, deployedHostIds: deployed.map((h) => h.hostId) }, r?.version, [event]);
        return true;
      } catch (e) {
        if (!isConflict(e) || attempt >= REEVALUATE_ATTEMPTS) throw e;
      }
    }
  }

  /**
   * ControlPlaneReleased (this service's own fact): the released controllers still waiting are deployed
   * in one runtime call (`kolla-ansible deploy --limit ctl-01,ctl-02,ctl-03`). Per host: ok → deployed
   * (ServicesDeployed); failed → DeployFailed with its own reason, the others go on. A retryable host
   * failure with deliveries left stays waiting and the redelivery runs the batch again for the hosts
   * still waiting only; members written before (or aborted) are skipped, so a redelivery never runs a
   * host twice with effect.
   */
  async onControlPlaneReleased(env: Envelope<ControlPlaneReleased>, ctx: Ctx): Promise<'applied' | 'duplicate'> {
    const siteId = env.data.siteId;
    if (!siteId) throw new ValidationError('site_id', 'ControlPlaneReleased without site_id');
    const todo: Existing[] = [];
    for (const c of env.data.controllers) {
      const n = await this.deployments.get(c.hostId);
      if (n?.data.state === 'waiting') todo.push(n);
    }
    if (!todo.length) return 'duplicate';
    const names = todo.map((n) => n.data.host.name).sort();
    const outcomes = new Map<string, { containers: Container[] } | { error: unknown }>();
    let inputs: SiteInputs | undefined;
    try {
      // Runtimes that use site inputs (kolla-ansible) get them generated; the lab one gets the hosts only.
      if (this.site && this.runtime.usesInputs) inputs = await this.site.inputsFor(siteId);
      const containers = Object.fromEntries(todo.map((n) => [n.data.host.name, placement(n.data.host.groups)]));
      const run = await this.runtime.run({ action: 'deploy', inputs: inputs ?? { siteId, files: [], hosts: names }, limit: names, containers });
      for (const name of names) {
        const h = run.hosts.find((x) => x.host === name);
        const unhealthy = h?.containers.filter((c) => !c.healthy) ?? [];
        if (!h) outcomes.set(name, { error: new StepFailedError('RuntimeError', `${name}: the runtime reported no result for the host`, true) });
        else if (h.error) outcomes.set(name, { error: h.error });
        else if (unhealthy.length) outcomes.set(name, { error: new StepFailedError('ContainersUnhealthy', `unhealthy after deploy: ${unhealthy.map((c) => c.name).join(', ')}`, true) });
        else outcomes.set(name, { containers: [...h.containers] });
      }
    } catch (e) {
      // The run itself failed (no binary, bad inputs): every member shares the error.
      if (isRetryable(e) && !ctx.lastAttempt) throw e;
      for (const name of names) outcomes.set(name, { error: e });
    }
    let again: unknown;
    for (const n of todo) {
      const o = outcomes.get(n.data.host.name)!;
      if ('error' in o && isRetryable(o.error) && !ctx.lastAttempt) {
        again ??= o.error;
        continue;
      }
      await this.writeMember(n, o, env, ctx.appliedKey);
    }
    if (inputs && this.site && this.runtime.usesInputs && [...outcomes.values()].every((o) => 'containers' in o)) await this.site.recordApplied(inputs, 'deploy');
    if (again !== undefined) throw again;
    return 'applied';
  }

  /** One member's outcome of the control-plane batch, unless it left `waiting` meanwhile (aborted). */
  private async writeMember(n: Existing, o: { containers: Container[] } | { error: unknown }, env: Envelope, appliedKey: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const host = n.data.host;
      const addresses = n.data.addresses ?? [];
      const { waiting: _w, ...rest } = n.data;
      let data: NodeDeploymentData;
      let event: Envelope;
      if ('containers' in o) {
        data = { ...rest, state: 'deployed', containers: o.containers, lastFailure: undefined, addresses };
        event = newEvent({ type: Events.ServicesDeployed, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, containers: o.containers }, cause: env });
      } else {
        const failure = failureOf('services', o.error);
        data = { ...rest, state: 'failed', containers: [], lastFailure: failure, addresses };
        event = newEvent({ type: Events.DeployFailed, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, failure }, cause: env });
      }
      try {
        await this.deployments.save(data, n.version, [event], appliedKey);
        return;
      } catch (e) {
        if (!isConcurrencyError(e) || attempt >= REEVALUATE_ATTEMPTS) throw e;
        const fresh = await this.deployments.get(host.hostId);
        if (fresh?.data.state !== 'waiting') return;
        n = fresh;
      }
    }
  }

  /** NodeDeploymentReleased (this service's own fact): deploys the released node's containers. */
  async onReleased(env: Envelope<NodeDeploymentReleased>, ctx: Ctx): Promise<'applied' | 'duplicate'> {
    const host = env.data.host;
    if (!host) throw new ValidationError('host', 'NodeDeploymentReleased without host');
    const existing = await this.deployments.get(host.hostId);
    if (!existing || (existing.data.state !== 'released' && existing.data.state !== 'deploying')) return 'duplicate';
    return this.deploy(existing.data.host, existing.data.addresses ?? [], env, ctx, existing);
  }

  private readonly siteViews = new Map<string, SiteView>();

  /**
   * The site's node deployments for /etc/hosts, by host id: the whole site at the first read and
   * every minute, in between what changed since the previous read (`changedSince`), read at most
   * every 5 s per site by one caller at a time. A listing per node made host preparation
   * O(nodes²) at 1,000 nodes; a full listing every 5 s still read the whole site each time. Callers
   * add the node they prepare at once (it is in no read yet); a node removed later shows up as
   * `removed` in the next read and leaves /etc/hosts.
   */
  private async siteNodes(siteId: string): Promise<Map<string, NodeDeploymentData>> {
    let view = this.siteViews.get(siteId);
    if (!view) this.siteViews.set(siteId, (view = { nodes: new Map(), readAt: 0, fullAt: 0 }));
    const v = view;
    if (Date.now() - v.readAt >= SITE_VIEW_READ_MS) {
      v.reading ??= this.readSite(siteId, v).finally(() => {
        v.reading = undefined;
      });
      await v.reading;
    }
    return v.nodes;
  }

  private async readSite(siteId: string, view: SiteView): Promise<void> {
    const started = Date.now();
    const changes = this.deployments.changedSince;
    const full = !changes || started - view.fullAt >= SITE_VIEW_FULL_MS;
    // A second of overlap: a write that raced the previous read is read again.
    const rows = full ? await this.deployments.listBySite(siteId) : await changes.call(this.deployments, siteId, new Date(view.readAt - 1000));
    for (const n of rows) view.nodes.set(n.host.hostId, n);
    view.readAt = started;
    if (full) view.fullAt = started;
  }

  /**
   * The site's controllers as the gate sees them: registered (the small site_controllers store),
   * plus `self` when it is a controller whose registration was not consumed yet, not aborted. Each
   * controller's deployment is read by id: listing the site's deployments for every node made the
   * step O(nodes) (a full scan in FerretDB) and the saga O(nodes²) at 1,000 nodes.
   */
  private async controllersOf(siteId: string, self?: HostRef, selfReady = false): Promise<ControllerView[]> {
    if (!this.gating) return [];
    const byId = new Map<string, HostRef>();
    for (const h of await this.gating.controllers.listBySite(siteId)) byId.set(h.hostId, h);
    if (self && !byId.has(self.hostId) && controlPlaneRole(self.groups) === 'controller') {
      // A controller whose NetworkConfigured came before its HostRegistered was consumed: record it
      // now (idempotent), so that the site's other nodes count it too.
      await this.gating.controllers.record(self, `seen-by-deploy|${self.hostId}`);
      byId.set(self.hostId, self);
    }
    const out: ControllerView[] = [];
    for (const h of byId.values()) {
      const n = (await this.deployments.get(h.hostId))?.data;
      if (n?.state === 'removed') continue;
      if (n?.state === 'deployed') out.push({ name: h.name, state: 'deployed' });
      else if (n?.state === 'waiting' || (selfReady && h.hostId === self?.hostId)) out.push({ name: h.name, state: 'ready' });
      else if (n?.state === 'failed') out.push({ name: h.name, state: 'failed', reason: n.lastFailure?.reason ?? 'Failed' });
      else out.push({ name: h.name, state: 'pending' });
    }
    return out;
  }

  private async reevaluateSite(siteId: string, cause: Envelope, appliedKey: string): Promise<void> {
    const waiting = (await this.deployments.listBySite(siteId)).filter((n) => n.state === 'waiting');
    if (!waiting.length) return;
    const controllers = await this.controllersOf(siteId);
    for (const n of waiting) await this.reevaluate(n.host.hostId, cause, appliedKey, controllers);
  }

  /**
   * Re-evaluates one waiting node: released (NodeDeploymentReleased, in the same write) when the gate
   * opens, a new NodeDeploymentWaiting when the reason changed, nothing otherwise. A lost write race
   * re-reads the node and the site.
   */
  private async reevaluate(hostId: string, cause: Envelope, appliedKey: string, controllers?: ControllerView[]): Promise<'applied' | 'duplicate'> {
    for (let attempt = 1; ; attempt++) {
      const existing = await this.deployments.get(hostId);
      if (existing?.data.state !== 'waiting') return 'duplicate';
      const host = existing.data.host;
      const decision = await this.decide(host, false, controllers);
      try {
        return await this.applyDecision(existing, decision, cause, appliedKey);
      } catch (e) {
        if (!isConcurrencyError(e) || attempt >= REEVALUATE_ATTEMPTS) throw e;
        controllers = undefined;
      }
    }
  }

  /**
   * The gate for a node: computes (and other members) wait for the deployed controllers (`gate`);
   * controllers, with batching (`rollouts`), for each other (`controllerGate`). `selfReady`: count the
   * node as ready although it is not recorded yet.
   */
  private async decide(host: HostRef, selfReady: boolean, controllers?: ControllerView[]): Promise<Decision> {
    const role = controlPlaneRole(host.groups);
    if (role === 'controller' && this.gating?.rollouts) {
      const rollout = await this.gating.rollouts.get(host.siteId);
      const released = rollout?.data.controlPlane?.members.map((m) => m.name) ?? null;
      const views = released ? [] : await this.controllersOf(host.siteId, host, selfReady);
      const d = controllerGate(host.name, views, released, this.policy);
      if (d.action === 'deploy') return { kind: 'deploy' };
      if (d.action === 'in-batch') return { kind: 'in-batch' };
      if (d.action === 'release') return { kind: 'release-control-plane', members: d.members, quorum: d.quorum };
      return { kind: 'wait', wait: waitOf(d) };
    }
    const d = gate(host.groups, controllers ?? (await this.controllersOf(host.siteId, host)), this.policy);
    return d.action === 'deploy' ? { kind: 'deploy', ...(d.quorum ? { quorum: d.quorum } : {}) } : { kind: 'wait', wait: waitOf(d) };
  }

  /**
   * Releases the control plane: the site's rollout records the members and ControlPlaneReleased, in
   * one version-checked write (a lost race is a ConcurrencyError: the caller re-reads and finds the
   * batch released). The members stay `waiting` until the batch writes their outcomes.
   */
  private async releaseControlPlane(siteId: string, memberNames: readonly string[], q: QuorumStatus, cause: Envelope): Promise<void> {
    const rollouts = this.gating!.rollouts!;
    const r = await rollouts.get(siteId);
    if (r?.data.controlPlane) throw new ConcurrencyError('site rollout', siteId, r.version);
    const controllers: HostRef[] = [];
    for (const h of await this.gating!.controllers.listBySite(siteId)) if (memberNames.includes(h.name)) controllers.push(h);
    controllers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const data = { siteId, controllers, controllersReady: q.ready, controllersRequired: q.required, controllersTotal: q.total };
    const event = newEvent({ type: Events.ControlPlaneReleased, site: siteId, entityId: siteId, service: SERVICE, data, cause });
    try {
      await rollouts.save(
        { siteId, controlPlane: { members: controllers, releasedAt: new Date().toISOString() }, generation: r?.data.generation ?? 0, deployedHostIds: r?.data.deployedHostIds ?? [] },
        r?.version,
        [event],
      );
    } catch (e) {
      if (e instanceof AlreadyExistsError) throw new ConcurrencyError('site rollout', siteId, 0);
      throw e;
    }
  }

  private async applyDecision(existing: Existing, decision: Decision, cause: Envelope, appliedKey: string): Promise<'applied' | 'duplicate'> {
    const host = existing.data.host;
    if (decision.kind === 'in-batch') return 'duplicate';
    if (decision.kind === 'release-control-plane') {
      await this.releaseControlPlane(host.siteId, decision.members, decision.quorum, cause);
      return 'applied';
    }
    if (decision.kind === 'deploy') {
      const q = decision.quorum;
      const data = { host, controllersDeployed: q?.ready ?? 0, controllersRequired: q?.required ?? 0, controllersTotal: q?.total ?? 0 };
      const event = newEvent({ type: Events.NodeDeploymentReleased, site: host.siteId, entityId: host.hostId, service: SERVICE, data, cause });
      const { waiting: _w, ...rest } = existing.data;
      const w = await this.deployments.save({ ...rest, state: 'released' }, existing.version, [event], appliedKey);
      return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
    }
    const wait = decision.wait;
    const before = existing.data.waiting;
    if (before && before.reason === wait.reason && before.message === wait.message) return 'duplicate';
    const event = newEvent({ type: Events.NodeDeploymentWaiting, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, wait }, cause });
    const w = await this.deployments.save({ ...existing.data, waiting: wait }, existing.version, [event], appliedKey);
    return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
  }

  /**
   * Operator retry of a failed services step (NodeRetryRequested, step "services"): deploys again
   * from the failure record (host and addresses). Anything else is not for this service.
   */
  async onRetryRequested(env: Envelope<NodeRetryRequested>, ctx: { appliedKey: string; lastAttempt: boolean }): Promise<'applied' | 'duplicate' | 'ignored'> {
    const step = env.data.step;
    if ((step !== 'services' && step !== 'host-prep') || !env.data.host) return 'ignored';
    const existing = await this.deployments.get(env.data.host.hostId);
    if (!existing || existing.data.state !== 'failed') return 'ignored';
    // A host-prep failure: prepares the host again, then the gate and the services deploy as after NetworkConfigured.
    if (existing.data.lastFailure?.step === 'host-prep') {
      const { hostPrep: _p, ...data } = existing.data;
      return this.proceed(data.host, [...(data.addresses ?? [])], env, ctx, { data, version: existing.version });
    }
    if (step === 'host-prep') return 'ignored';
    return this.deploy(existing.data.host, existing.data.addresses ?? [], env, ctx, existing);
  }

  /**
   * Host preparation: the spec of the host's groups, /etc/hosts from the site's internal addresses,
   * planned against the host's state and applied. Success: `prepared` with the outcome and HostPrepared
   * (no inbox key). A final failure: `failed` with DeployFailed (step `host-prep`) and the inbox key.
   */
  private async prepare(
    host: HostRef,
    addresses: Address[],
    env: Envelope,
    ctx: Ctx,
    existing: Existing | null,
  ): Promise<{ outcome: 'prepared'; existing: Existing } | { outcome: 'applied' | 'duplicate' }> {
    const hostPrep = this.hostPrep!;
    let outcome;
    try {
      const site = await this.siteNodes(host.siteId);
      // This node counts at once for the nodes prepared after it (it is in no read yet).
      site.set(host.hostId, { host, state: 'prepared', containers: [], lastFailure: undefined, addresses });
      const nodes = [...site.values()].filter((n) => n.state !== 'removed');
      outcome = await hostPrep.run({ host, address: targetAddress(addresses) }, nodes);
    } catch (e) {
      if (isRetryable(e) && !ctx.lastAttempt) throw e;
      const failure: Failure = { step: 'host-prep', reason: isStackyardError(e) ? e.reason : 'RuntimeError', message: (e as Error).message, retryable: isRetryable(e) };
      const event = newEvent({ type: Events.DeployFailed, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, failure }, cause: env });
      const w = await this.deployments.save({ host, state: 'failed', containers: [], lastFailure: failure, addresses }, existing?.version, [event], ctx.appliedKey);
      return { outcome: w.outcome === 'duplicate' ? 'duplicate' : 'applied' };
    }
    const record = { changed: outcome.changed, unchangedCount: outcome.unchangedCount, at: new Date().toISOString() };
    const data: NodeDeploymentData = { host, state: 'prepared', containers: [], lastFailure: undefined, addresses, hostPrep: record };
    const event = newEvent({
      type: Events.HostPrepared,
      site: host.siteId,
      entityId: host.hostId,
      service: SERVICE,
      data: { host, changed: outcome.changed, unchangedCount: outcome.unchangedCount },
      cause: env,
    });
    const w = await this.deployments.save(data, existing?.version, [event], '');
    if (w.outcome === 'duplicate') return { outcome: 'duplicate' };
    return { outcome: 'prepared', existing: { data, version: w.version } };
  }

  private async deploy(
    host: HostRef,
    addresses: readonly Address[],
    env: Envelope,
    ctx: Ctx,
    existing: Existing | null,
  ): Promise<'applied' | 'duplicate'> {
    let version = existing?.version;
    if (this.runtime.usesInputs && existing?.data.state !== 'deploying') {
      // Site inputs list every node of the site: record this one first so that concurrent deploys
      // of other nodes generate an inventory with it. No event, no inbox key: the final write has them.
      const d = await this.deployments.save({ host, state: 'deploying', containers: [], lastFailure: undefined, addresses: [...addresses], ...prepOf(existing) }, version, [], '');
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
      w = await this.deployments.save({ host, state: 'deployed', containers, lastFailure: undefined, addresses, ...prepOf(existing) }, version, [event], ctx.appliedKey);
    } catch (e) {
      if (isRetryable(e) && !ctx.lastAttempt) throw e;
      const failure = failureOf('services', e);
      const event = newEvent({ type: Events.DeployFailed, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, failure }, cause: env });
      w = await this.deployments.save({ host, state: 'failed', containers: [], lastFailure: failure, addresses, ...prepOf(existing) }, version, [event], ctx.appliedKey);
    }
    return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
  }

  /**
   * Compensation, first in reverse order (NodeAbortRequested): the node's services are removed and a
   * tombstone keeps later facts from deploying them again; ServicesRemoved lets network release.
   */
  async onAbortRequested(env: Envelope<NodeAbortRequested>, ctx: { appliedKey: string; lastAttempt?: boolean }): Promise<'applied' | 'duplicate'> {
    const host = env.data.host;
    if (!host) throw new ValidationError('host', 'NodeAbortRequested without host');
    const existing = await this.deployments.get(host.hostId);
    if (existing?.data.state === 'removed') return 'duplicate';
    if (existing && ranContainers(existing.data)) {
      try {
        await this.destroy(existing.data);
      } catch (e) {
        // Reported, not swallowed: the node is failed at step `destroy` and no ServicesRemoved is
        // published, so the compensations stop here (its addresses stay allocated to the running containers).
        if (isRetryable(e) && !ctx.lastAttempt) throw e;
        const failure = failureOf('destroy', e);
        const event = newEvent({ type: Events.DeployFailed, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, failure }, cause: env });
        const w = await this.deployments.save({ ...existing.data, state: 'failed', lastFailure: failure }, existing.version, [event], ctx.appliedKey);
        return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
      }
    }
    const removed = [...(existing?.data.containers ?? [])];
    const event = newEvent({ type: Events.ServicesRemoved, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, removed }, cause: env });
    const w = await this.deployments.save({ host, state: 'removed', containers: [], lastFailure: undefined }, existing?.version, [event], ctx.appliedKey);
    return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
  }

  /**
   * Removes the node's containers through the runtime: `destroy` limited to the host, with the explicit
   * confirmation (kolla-ansible: `destroy --limit <host> --yes-i-really-really-mean-it`). The host's
   * failure (task failed, unreachable) is thrown.
   */
  private async destroy(d: NodeDeploymentData): Promise<void> {
    const name = d.host.name;
    const inputs = this.site && this.runtime.usesInputs ? await this.site.inputsFor(d.host.siteId) : { siteId: d.host.siteId, files: [], hosts: [name] };
    const r = await this.runtime.run({ action: 'destroy', inputs, limit: [name], containers: { [name]: [] }, confirm: true });
    const h = r.hosts.find((x) => x.host === name);
    if (!h) throw new StepFailedError('RuntimeError', `${name}: the runtime reported no destroy result for the host`, true);
    if (h.error) throw h.error;
  }
}

/**
 * Whether the runtime may have started containers on the node: deployed, deploying, or failed at the
 * services step (or at a previous destroy); not waiting, released or prepared, nor a host without roles.
 */
function ranContainers(d: NodeDeploymentData): boolean {
  if (placement(d.host.groups).length === 0) return false;
  if (d.state === 'deployed' || d.state === 'deploying') return true;
  return d.state === 'failed' && d.lastFailure?.step !== 'host-prep';
}

function failureOf(step: string, e: unknown): Failure {
  return { step, reason: isStackyardError(e) ? e.reason : 'RuntimeError', message: (e as Error).message, retryable: isRetryable(e) };
}

/** The wait recorded for a controller that completes the quorum (the re-check releases the batch at once). */
function assembled(q: QuorumStatus): DeploymentWait {
  return { reason: 'ControlPlaneAssembling', message: 'releasing the control plane', controllersDeployed: q.ready, controllersRequired: q.required, controllersTotal: q.total };
}

/** The recorded host preparation, carried over by the later writes of the node. */
function prepOf(existing: Existing | null): Pick<NodeDeploymentData, 'hostPrep'> {
  return existing?.data.hostPrep ? { hostPrep: existing.data.hostPrep } : {};
}

function waitOf(d: Extract<GateDecision, { action: 'wait' }> | Extract<ControllerDecision, { action: 'wait' }>): DeploymentWait {
  return { reason: d.reason, message: d.message, controllersDeployed: d.quorum.ready, controllersRequired: d.quorum.required, controllersTotal: d.quorum.total };
}

const isConcurrencyError = (e: unknown) => isStackyardError(e) && e.reason === 'ConcurrentModification';
const isConflict = (e: unknown) => isConcurrencyError(e) || e instanceof AlreadyExistsError;
