import { InvalidTransitionError } from '@stackyard/errors';
import type { Failure, HostRef } from '@stackyard/proto/inventory/v1/inventory';

/** The saga's steps, in order (DESIGN.md "The saga"). */
export const STEPS = ['registered', 'enrolled', 'inspected', 'provisioned', 'network-configured', 'services-deployed', 'ready'] as const;
export type StepName = (typeof STEPS)[number];

export interface ProgressData {
  readonly host: HostRef;
  /** aborting: compensations running; aborted: services removed, addresses released, deprovisioned. */
  readonly state: 'in-progress' | 'ready' | 'failed' | 'aborting' | 'aborted';
  /** Unix ms at which each step's fact was observed (its ce-time). */
  readonly steps: Partial<Record<StepName, number>>;
  readonly lastFailure: Failure | undefined;
  /** Operator retries so far. */
  readonly retries?: number;
  /** Addresses per network, from NetworkConfigured (for scrape targets). */
  readonly addresses?: Readonly<Record<string, string>>;
}

export type Fact =
  | { readonly kind: 'step'; readonly step: Exclude<StepName, 'ready'>; readonly at: number; readonly addresses?: Readonly<Record<string, string>> }
  | { readonly kind: 'failure'; readonly failure: Failure; readonly at: number }
  /** The last compensation (NodeDeprovisioned) is done. */
  | { readonly kind: 'aborted'; readonly at: number };

export function emptyProgress(host: HostRef): ProgressData {
  return { host, state: 'in-progress', steps: {}, lastFailure: undefined };
}

/**
 * Applies a fact. Facts may arrive out of order (each has its own consumer), so a step is simply
 * recorded; the readiness decision looks at all of them. A success after a failure (a retry) puts
 * the node back in progress.
 */
export function apply(p: ProgressData, fact: Fact): { progress: ProgressData; becameReady: boolean } {
  if (fact.kind === 'aborted') return { progress: { ...p, state: 'aborted' }, becameReady: false };
  // An aborted node's late facts (a step that was running) change nothing.
  if (p.state === 'ready' || p.state === 'aborting' || p.state === 'aborted') return { progress: p, becameReady: false };
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
    return { progress: { ...next, state: 'ready', lastFailure: undefined, steps: { ...steps, ready: at } }, becameReady: true };
  }
  return { progress: next, becameReady: false };
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
export const RETRYABLE_STEPS = ['enroll', 'inspect', 'deploy', 'network', 'services'] as const;
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
