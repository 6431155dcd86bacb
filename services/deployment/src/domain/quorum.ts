/**
 * When the control plane may be deployed, and when a compute (or other non-controller) node may join.
 * The control plane (mariadb galera, rabbitmq, the APIs behind keepalived) is deployed once, on all the
 * controllers that are ready, and only when enough of them are: by default a strict majority of the
 * site's controllers. Nodes without a controller role wait for the control plane.
 */
export type QuorumPolicy = { readonly kind: 'majority' } | { readonly kind: 'at-least'; readonly count: number } | { readonly kind: 'all' };

export const MAJORITY: QuorumPolicy = { kind: 'majority' };

/** Parses `majority`, `all` or a number (at least that many controllers). */
export function parseQuorumPolicy(text: string): QuorumPolicy {
  const t = text.trim().toLowerCase();
  if (t === 'majority' || t === '') return MAJORITY;
  if (t === 'all') return { kind: 'all' };
  if (/^\d+$/.test(t) && Number(t) >= 1) return { kind: 'at-least', count: Number(t) };
  throw new RangeError(`quorum policy must be "majority", "all" or a positive number, got ${JSON.stringify(text)}`);
}

/** How many ready controllers the policy needs out of `total` (never more than `total`, at least 1). */
export function requiredControllers(total: number, policy: QuorumPolicy = MAJORITY): number {
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
  readonly ready: number;
  readonly required: number;
  readonly reached: boolean;
}

/** `ready` controllers (network configured) out of `total` expected on the site. */
export function quorum(ready: number, total: number, policy: QuorumPolicy = MAJORITY): QuorumStatus {
  const required = requiredControllers(total, policy);
  return { total, ready, required, reached: total > 0 && ready >= required };
}

export interface SiteDeploymentView {
  /** Host ids of every controller the site expects (registered with a controller role). */
  readonly controllers: readonly string[];
  /** Host ids whose network is configured (ready for containers). */
  readonly networkReady: ReadonlySet<string>;
  /** Whether the control plane has been deployed (it is deployed once). */
  readonly controlPlaneDeployed: boolean;
}

export type GateDecision =
  | { readonly action: 'deploy-control-plane'; readonly hosts: readonly string[]; readonly quorum: QuorumStatus }
  | { readonly action: 'deploy-node' }
  | { readonly action: 'wait'; readonly reason: 'ControlPlaneQuorum' | 'ControlPlaneNotDeployed'; readonly quorum: QuorumStatus };

/**
 * What to do when `hostId` has its network configured. Controllers wait for quorum, then the control
 * plane is deployed on every ready controller at once; a controller arriving after that joins like any
 * node. Other nodes wait until the control plane is deployed.
 */
export function gate(hostId: string, isController: boolean, site: SiteDeploymentView, policy: QuorumPolicy = MAJORITY): GateDecision {
  // The host asking is ready by definition (its network was just configured).
  const ready = site.controllers.filter((c) => c === hostId || site.networkReady.has(c));
  const q = quorum(ready.length, site.controllers.length, policy);
  if (site.controlPlaneDeployed) return { action: 'deploy-node' };
  if (!isController) return { action: 'wait', reason: 'ControlPlaneNotDeployed', quorum: q };
  if (!q.reached) return { action: 'wait', reason: 'ControlPlaneQuorum', quorum: q };
  return { action: 'deploy-control-plane', hosts: [...ready].sort(), quorum: q };
}
