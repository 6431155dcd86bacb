import { InvalidTransitionError } from '@stackyard/errors';
import type { Failure, HostRef } from '@stackyard/proto/inventory/v1/inventory';

/** The saga's steps, in order (DESIGN.md "The saga"). */
export const STEPS = ['registered', 'enrolled', 'inspected', 'provisioned', 'network-configured', 'services-deployed', 'ready'] as const;
export type StepName = (typeof STEPS)[number];

/** A container deployment's health watch found unhealthy (NodeHealthChanged). */
export interface UnhealthyContainer {
  readonly service: string;
  readonly name: string;
}

/** The latest health deployment reported for the node (NodeHealthChanged), whatever the node's state. */
export interface HealthRecord {
  readonly healthy: boolean;
  readonly unhealthyContainers: readonly UnhealthyContainer[];
  /** Unix ms of deployment's check (older facts than this are stale). */
  readonly checkedAt: number;
}

export interface ProgressData {
  readonly host: HostRef;
  /**
   * aborting: compensations running; aborted: services removed, addresses released, deprovisioned.
   * degraded: was ready, its containers are unhealthy (back to ready when healthy again).
   */
  readonly state: 'in-progress' | 'ready' | 'degraded' | 'failed' | 'aborting' | 'aborted';
  /** Unix ms at which each step's fact was observed (its ce-time). */
  readonly steps: Partial<Record<StepName, number>>;
  readonly lastFailure: Failure | undefined;
  /** Operator retries so far. */
  readonly retries?: number;
  /** Addresses per network, from NetworkConfigured (for scrape targets). */
  readonly addresses?: Readonly<Record<string, string>>;
  /** The latest health fact (recorded in every state; only ready and degraded nodes act on it). */
  readonly health?: HealthRecord;
  /** While degraded: when the check that found the node unhealthy ran (Unix ms). */
  readonly degradedSince?: number;
  /** The inventory deleted the host (HostDeleted): dropped from lists, watches and scrape targets. */
  readonly deleted?: boolean;
  /** The inventory version of the host `host` was last refreshed from (HostUpdated); older updates are ignored. */
  readonly hostVersion?: number;
}

export type Fact =
  | { readonly kind: 'step'; readonly step: Exclude<StepName, 'ready'>; readonly at: number; readonly addresses?: Readonly<Record<string, string>> }
  | { readonly kind: 'failure'; readonly failure: Failure; readonly at: number }
  /** The last compensation (NodeDeprovisioned) is done. */
  | { readonly kind: 'aborted'; readonly at: number }
  /** Deployment's health watch saw the node's container health change (NodeHealthChanged; `at` = checked_at). */
  | { readonly kind: 'health'; readonly healthy: boolean; readonly unhealthyContainers: readonly UnhealthyContainer[]; readonly at: number };

/** What a fact makes monitoring publish besides NodeReady: NodeDegraded or NodeRecovered. */
export type HealthSignal = { readonly kind: 'degraded'; readonly reasons: string[] } | { readonly kind: 'recovered'; readonly degradedForMs: number };

export interface Applied {
  readonly progress: ProgressData;
  readonly becameReady: boolean;
  readonly signal?: HealthSignal;
}

export function emptyProgress(host: HostRef): ProgressData {
  return { host, state: 'in-progress', steps: {}, lastFailure: undefined };
}

/**
 * Applies a fact. Facts may arrive out of order (each has its own consumer), so a step is simply
 * recorded; the readiness decision looks at all of them. A success after a failure (a retry) puts
 * the node back in progress.
 */
export function apply(p: ProgressData, fact: Fact): Applied {
  if (fact.kind === 'aborted') {
    const { degradedSince: _d, ...rest } = p;
    return { progress: { ...rest, state: 'aborted' }, becameReady: false };
  }
  if (fact.kind === 'health') return applyHealth(p, fact);
  // An aborted node's late facts (a step that was running) change nothing; nor do a ready (or degraded) node's.
  if (p.state === 'ready' || p.state === 'degraded' || p.state === 'aborting' || p.state === 'aborted') return { progress: p, becameReady: false };
  if (fact.kind === 'failure') {
    return { progress: { ...p, state: 'failed', lastFailure: fact.failure }, becameReady: false };
  }
  const steps = { ...p.steps, [fact.step]: fact.at };
  const next: ProgressData = {
    ...p,
    steps,
    state: 'in-progress',
    lastFailure: p.state === 'failed' ? p.lastFailure : undefined,
    ...(fact.addresses ? { addresses: fact.addresses } : {}),
  };
  if (isReady(next)) {
    const at = Math.max(...Object.values(steps));
    const ready: ProgressData = { ...next, state: 'ready', lastFailure: undefined, steps: { ...steps, ready: at } };
    // Health seen before the last step's fact (each fact has its own consumer): ready, and degraded at once.
    if (next.health && !next.health.healthy) {
      return { progress: { ...ready, state: 'degraded', degradedSince: next.health.checkedAt }, becameReady: true, signal: { kind: 'degraded', reasons: degradedReasons(next.health) } };
    }
    return { progress: ready, becameReady: true };
  }
  return { progress: next, becameReady: false };
}

/**
 * A health fact (NodeHealthChanged). It is recorded in every state (a stale one, checked before the
 * recorded one, is dropped); only a ready node that becomes unhealthy (degraded, NodeDegraded) and a
 * degraded node that is healthy again (ready, NodeRecovered) change state. In progress, failed,
 * aborting and aborted nodes keep their state.
 */
function applyHealth(p: ProgressData, fact: Extract<Fact, { kind: 'health' }>): Applied {
  if (p.health && fact.at < p.health.checkedAt) return { progress: p, becameReady: false };
  const health: HealthRecord = { healthy: fact.healthy, unhealthyContainers: fact.unhealthyContainers.map((c) => ({ service: c.service, name: c.name })), checkedAt: fact.at };
  const recorded: ProgressData = { ...p, health };
  if (p.state === 'ready' && !fact.healthy) {
    return { progress: { ...recorded, state: 'degraded', degradedSince: fact.at }, becameReady: false, signal: { kind: 'degraded', reasons: degradedReasons(health) } };
  }
  if (p.state === 'degraded' && fact.healthy) {
    const { degradedSince, ...rest } = recorded;
    return { progress: { ...rest, state: 'ready' }, becameReady: false, signal: { kind: 'recovered', degradedForMs: Math.max(0, fact.at - (degradedSince ?? fact.at)) } };
  }
  // Ready and healthy, degraded with another set of unhealthy containers, or not (or no longer) deployed.
  return { progress: recorded, becameReady: false };
}

/** One reason per unhealthy container: `<container> (<service>) unhealthy`. */
export function degradedReasons(h: HealthRecord | undefined): string[] {
  if (!h || h.healthy) return [];
  return h.unhealthyContainers.length ? h.unhealthyContainers.map((c) => `${c.name} (${c.service}) unhealthy`) : ['containers unhealthy'];
}

/** Ready: every step up to services-deployed observed (services healthy is checked by deployment, §7). */
export function isReady(p: ProgressData): boolean {
  return STEPS.slice(0, -1).every((s) => p.steps[s] !== undefined);
}

export function durationMs(p: ProgressData): number {
  const start = p.steps.registered;
  const end = p.steps.ready;
  return start !== undefined && end !== undefined ? end - start : 0;
}

/** The saga steps an operator can retry, by the `step` of a failure. */
export const RETRYABLE_STEPS = ['enroll', 'inspect', 'deploy', 'network', 'host-prep', 'services'] as const;
export type RetryableStep = (typeof RETRYABLE_STEPS)[number];

/**
 * An operator retry of a failed node: only a failed node, and only a step Stackyard knows, can be
 * retried. The node goes back in progress; its failure stays visible until the step succeeds.
 */
export function requestRetry(p: ProgressData): { progress: ProgressData; step: RetryableStep; attempt: number } {
  if (p.state !== 'failed' || !p.lastFailure) {
    throw new InvalidTransitionError(`node ${p.host.name}`, p.state, 'retry');
  }
  const step = p.lastFailure.step as RetryableStep;
  if (!(RETRYABLE_STEPS as readonly string[]).includes(step)) {
    throw new InvalidTransitionError(`node ${p.host.name}`, `failed at "${p.lastFailure.step}"`, 'retry');
  }
  const attempt = (p.retries ?? 0) + 1;
  return { progress: { ...p, state: 'in-progress', retries: attempt }, step, attempt };
}

/** An operator abort: any node not already aborting or aborted; its compensations then run. */
export function requestAbort(p: ProgressData): ProgressData {
  if (p.state === 'aborting' || p.state === 'aborted') throw new InvalidTransitionError(`node ${p.host.name}`, p.state, 'abort');
  return { ...p, state: 'aborting' };
}
