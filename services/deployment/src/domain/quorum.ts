import { DEFAULT_LAYOUT, kollaGroupsOf, type KollaLayout } from './kolla/placement';

/**
 * Quorum gating of the services step (Kolla-Ansible's order, reference/kayobe.md §5.1: mariadb,
 * loadbalancer, memcached, rabbitmq, keystone ... run on the control plane before nova-compute and
 * the other services that use them).
 *
 * - Control-plane hosts do not wait for deployed controllers: hosts in Kolla's `control` group (Kayobe
 *   `controllers`; the **controllers** counted for quorum; with batching they wait for each other to be
 *   ready and deploy together, `controllerGate` below) and in `network` (loadbalancer, neutron agents),
 *   which deploy as soon as their network is configured.
 * - Every other overcloud host (compute, storage, monitoring-only...) waits until enough of its
 *   site's controllers are **deployed**: by default a strict majority of the controllers the site
 *   has registered (and not aborted).
 * - A site with no controller at all does not gate (standalone compute nodes, and a controller
 *   registered after a compute reached this step does not hold that compute back).
 * - Hosts in no mapped group run nothing and never wait.
 */
export type QuorumPolicy =
  | { readonly kind: 'majority' }
  | { readonly kind: 'at-least'; readonly count: number }
  | { readonly kind: 'all' }
  /** No gating: every node deploys on its own as soon as its network is configured. */
  | { readonly kind: 'none' };

export const MAJORITY: QuorumPolicy = { kind: 'majority' };

/** Parses `majority`, `all`, `none` or a number (at least that many controllers). */
export function parseQuorumPolicy(text: string): QuorumPolicy {
  const t = text.trim().toLowerCase();
  if (t === 'majority' || t === '') return MAJORITY;
  if (t === 'all') return { kind: 'all' };
  if (t === 'none') return { kind: 'none' };
  if (/^\d+$/.test(t) && Number(t) >= 1) return { kind: 'at-least', count: Number(t) };
  throw new RangeError(`quorum policy must be "majority", "all", "none" or a positive number, got ${JSON.stringify(text)}`);
}

/** How many deployed controllers the policy needs out of `total` (never more than `total`, at least 1; 0 with `none`). */
export function requiredControllers(total: number, policy: QuorumPolicy = MAJORITY): number {
  if (policy.kind === 'none') return 0;
  if (total <= 0) return 1;
  switch (policy.kind) {
    case 'majority':
      return Math.floor(total / 2) + 1;
    case 'all':
      return total;
    case 'at-least':
      return Math.min(Math.max(1, policy.count), total);
  }
}

export interface QuorumStatus {
  readonly total: number;
  /** Controllers deployed. */
  readonly ready: number;
  readonly required: number;
  readonly reached: boolean;
}

/** `ready` (deployed) controllers out of `total` known on the site. No controllers is no quorum. */
export function quorum(ready: number, total: number, policy: QuorumPolicy = MAJORITY): QuorumStatus {
  const required = requiredControllers(total, policy);
  return { total, ready, required, reached: total > 0 && ready >= required };
}

/**
 * A host's part in the control plane, from its Kayobe groups through the Kolla top-level map:
 * `controller` (Kolla `control`), `control-plane` (Kolla `network`), `member` (any other overcloud
 * group: waits for the control plane) or `none` (no overcloud group: nothing to deploy).
 */
export type ControlPlaneRole = 'controller' | 'control-plane' | 'member' | 'none';

export function controlPlaneRole(kayobeGroups: readonly string[], layout: KollaLayout = DEFAULT_LAYOUT): ControlPlaneRole {
  const kolla = kollaGroupsOf(kayobeGroups, layout);
  if (kolla.has('control')) return 'controller';
  if (kolla.has('network')) return 'control-plane';
  return kolla.size > 0 ? 'member' : 'none';
}

/** One controller of the site as the deployment service knows it. */
export interface ControllerView {
  readonly name: string;
  /**
   * pending: registered, not deployed yet (network not configured, or deploying). ready: network
   * configured and host prepared, waiting for the other controllers (control-plane batching).
   */
  readonly state: 'pending' | 'ready' | 'deployed' | 'failed';
  /** The failure reason of a failed controller. */
  readonly reason?: string;
}

export type WaitReason = 'ControlPlaneQuorum' | 'ControlPlaneFailed' | 'ControlPlaneAssembling';

export type GateDecision =
  | { readonly action: 'deploy'; readonly why: 'control-plane' | 'no-containers' | 'not-gated' | 'no-controllers' | 'quorum'; readonly quorum?: QuorumStatus }
  | { readonly action: 'wait'; readonly reason: WaitReason; readonly message: string; readonly quorum: QuorumStatus };

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * Whether a host whose network is configured may deploy its containers now, given its site's
 * controllers (registered, not aborted). A waiting host is re-evaluated whenever a controller of its
 * site is deployed, fails or is removed. `ControlPlaneFailed` when so many controllers failed that
 * the quorum cannot be reached without an operator retry of one of them.
 */
export function gate(kayobeGroups: readonly string[], controllers: readonly ControllerView[], policy: QuorumPolicy = MAJORITY, layout?: KollaLayout): GateDecision {
  const role = controlPlaneRole(kayobeGroups, layout);
  if (role === 'controller' || role === 'control-plane') return { action: 'deploy', why: 'control-plane' };
  if (role === 'none') return { action: 'deploy', why: 'no-containers' };
  if (policy.kind === 'none') return { action: 'deploy', why: 'not-gated' };
  if (controllers.length === 0) return { action: 'deploy', why: 'no-controllers' };
  const deployed = controllers.filter((c) => c.state === 'deployed').length;
  const q = quorum(deployed, controllers.length, policy);
  if (q.reached) return { action: 'deploy', why: 'quorum', quorum: q };
  const failed = controllers.filter((c) => c.state === 'failed').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const need = `${q.required} of ${plural(q.total, 'controller', 'controllers')} must be deployed, ${deployed} ${deployed === 1 ? 'is' : 'are'}`;
  const failedText = failed.map((c) => `${c.name} (${c.reason || 'failed'})`).join(', ');
  if (q.total - failed.length < q.required) {
    return {
      action: 'wait',
      reason: 'ControlPlaneFailed',
      message: `control plane cannot reach quorum: ${need}; failed: ${failedText}; retry a failed controller`,
      quorum: q,
    };
  }
  return { action: 'wait', reason: 'ControlPlaneQuorum', message: `waiting for the control plane: ${need}${failed.length ? `; failed: ${failedText}` : ''}`, quorum: q };
}

export type ControllerDecision =
  /** Deploy this controller on its own: the control plane was released already (it joins), or no gating. */
  | { readonly action: 'deploy'; readonly why: 'joins' | 'not-gated' }
  /** This controller is part of the released control plane: the batch deploys it. */
  | { readonly action: 'in-batch' }
  /** Enough controllers are ready: release them (this one among them) as one batch. */
  | { readonly action: 'release'; readonly members: readonly string[]; readonly quorum: QuorumStatus }
  | { readonly action: 'wait'; readonly reason: WaitReason; readonly message: string; readonly quorum: QuorumStatus };

/**
 * Control-plane batching (Kayobe deploys the control plane once over all controllers): a controller
 * whose network is configured waits, `ready`, until the policy's number of the site's controllers
 * (registered, not aborted) are ready; then every ready controller is released together (one runtime
 * call). Once released (`released` holds its members' names), a member is the batch's; any other
 * controller (late, retried) deploys on its own and joins. A controller already deployed also means
 * the control plane exists. `none`: every controller deploys on its own.
 */
export function controllerGate(
  self: string,
  controllers: readonly ControllerView[],
  released: readonly string[] | null,
  policy: QuorumPolicy = MAJORITY,
): ControllerDecision {
  if (policy.kind === 'none') return { action: 'deploy', why: 'not-gated' };
  if (released) return released.includes(self) ? { action: 'in-batch' } : { action: 'deploy', why: 'joins' };
  if (controllers.some((c) => c.state === 'deployed')) return { action: 'deploy', why: 'joins' };
  const ready = controllers.filter((c) => c.state === 'ready').map((c) => c.name).sort();
  const q = quorum(ready.length, controllers.length, policy);
  if (q.reached) return { action: 'release', members: ready, quorum: q };
  const failed = controllers.filter((c) => c.state === 'failed').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const need = `${q.required} of ${plural(q.total, 'controller', 'controllers')} must be ready to deploy the control plane together, ${ready.length} ${ready.length === 1 ? 'is' : 'are'}`;
  const failedText = failed.map((c) => `${c.name} (${c.reason || 'failed'})`).join(', ');
  if (q.total - failed.length < q.required) {
    return { action: 'wait', reason: 'ControlPlaneFailed', message: `control plane cannot reach quorum: ${need}; failed: ${failedText}; retry a failed controller`, quorum: q };
  }
  return { action: 'wait', reason: 'ControlPlaneAssembling', message: `waiting for the controllers: ${need}${failed.length ? `; failed: ${failedText}` : ''}`, quorum: q };
}
