import { describe, expect, it } from 'vitest';
import type { Failure, HostRef } from '@stackyard/proto/inventory/v1/inventory';
import { STEPS, apply, durationMs, emptyProgress, isReady, type Fact, type ProgressData, type StepName } from './progress';

const host: HostRef = { hostId: 'dc1-cmp-01', siteId: 'dc1', name: 'cmp-01', groups: ['compute'] };
type Observable = Exclude<StepName, 'ready'>;
const OBSERVABLE: Observable[] = ['registered', 'enrolled', 'inspected', 'provisioned', 'network-configured', 'services-deployed'];
const step = (s: Observable, at: number): Fact => ({ kind: 'step', step: s, at });
const failed = (failure: Failure, at: number): Fact => ({ kind: 'failure', failure, at });
const bmcTimeout: Failure = { step: 'inspect', reason: 'BmcTimeout', message: 'BMC timed out', retryable: true };

/** Applies facts in order; returns the final progress and after which facts the node became ready. */
function run(facts: Fact[], from: ProgressData = emptyProgress(host)) {
  let p = from;
  const readyAfter: number[] = [];
  facts.forEach((f, i) => {
    const r = apply(p, f);
    p = r.progress;
    if (r.becameReady) readyAfter.push(i);
  });
  return { progress: p, readyAfter };
}

describe('monitoring progress', () => {
  it('has the saga steps in order, ending with ready', () => {
    expect(STEPS).toEqual([...OBSERVABLE, 'ready']);
  });

  it('starts in progress with nothing observed', () => {
    expect(emptyProgress(host)).toEqual({ host, state: 'in-progress', steps: {}, lastFailure: undefined });
  });

  it('Given the facts in saga order, then the node becomes ready on services-deployed, once', () => {
    const { progress, readyAfter } = run(OBSERVABLE.map((s, i) => step(s, 1000 + i * 100)));
    expect(readyAfter).toEqual([5]);
    expect(progress.state).toBe('ready');
    expect(progress.steps).toEqual({
      registered: 1000,
      enrolled: 1100,
      inspected: 1200,
      provisioned: 1300,
      'network-configured': 1400,
      'services-deployed': 1500,
      ready: 1500,
    });
  });

  it('Given the facts out of order, then each is recorded and readiness comes with the last one observed', () => {
    const facts = [step('inspected', 3000), step('services-deployed', 6000), step('registered', 1000), step('network-configured', 5000), step('enrolled', 2000), step('provisioned', 4000)];
    const { progress, readyAfter } = run(facts);
    expect(readyAfter).toEqual([5]);
    expect(progress.state).toBe('ready');
    // ready is stamped with the latest fact time, not the arrival order
    expect(progress.steps.ready).toBe(6000);
    expect(progress.steps.registered).toBe(1000);
  });

  it.each(OBSERVABLE)('Given every step but %s, then the node is not ready', (missing) => {
    const { progress, readyAfter } = run(OBSERVABLE.filter((s) => s !== missing).map((s, i) => step(s, 1000 + i)));
    expect(readyAfter).toEqual([]);
    expect(progress.state).toBe('in-progress');
    expect(progress.steps[missing]).toBeUndefined();
    expect(progress.steps.ready).toBeUndefined();
    expect(isReady(progress)).toBe(false);
  });

  it('Given a failure, then the node is failed and keeps the failure', () => {
    const { progress } = run([step('registered', 1000), step('enrolled', 2000), failed(bmcTimeout, 2500)]);
    expect(progress.state).toBe('failed');
    expect(progress.lastFailure).toEqual(bmcTimeout);
    expect(progress.steps).toEqual({ registered: 1000, enrolled: 2000 });
  });

  it('Given a failure and then the retried step succeeding, then the node is back in progress and ends ready with no failure', () => {
    const afterFailure = run([step('registered', 1000), step('enrolled', 2000), failed(bmcTimeout, 2500)]).progress;

    const retried = apply(afterFailure, step('inspected', 3000));
    expect(retried.becameReady).toBe(false);
    expect(retried.progress.state).toBe('in-progress');
    // the failure stays visible until the saga moves on past the retried step
    expect(retried.progress.lastFailure).toEqual(bmcTimeout);

    const next = apply(retried.progress, step('provisioned', 4000));
    expect(next.progress.lastFailure).toBeUndefined();

    const { progress, readyAfter } = run([step('network-configured', 5000), step('services-deployed', 6000)], next.progress);
    expect(readyAfter).toEqual([1]);
    expect(progress.state).toBe('ready');
    expect(progress.lastFailure).toBeUndefined();
  });

  it('Given a ready node, then later facts (even a failure) change nothing and never make it ready again', () => {
    const ready = run(OBSERVABLE.map((s, i) => step(s, 1000 + i))).progress;
    for (const f of [failed(bmcTimeout, 9000), step('services-deployed', 9999), step('registered', 1)]) {
      const r = apply(ready, f);
      expect(r.becameReady).toBe(false);
      expect(r.progress).toBe(ready);
    }
  });

  it('does not mutate the progress it is given', () => {
    const p = emptyProgress(host);
    apply(p, step('registered', 1));
    apply(p, failed(bmcTimeout, 2));
    expect(p).toEqual(emptyProgress(host));
  });
});

describe('durationMs', () => {
  it('is the time from registered to ready', () => {
    const { progress } = run([
      step('registered', 10_000),
      step('enrolled', 12_000),
      step('inspected', 15_000),
      step('provisioned', 30_000),
      step('network-configured', 31_000),
      step('services-deployed', 40_500),
    ]);
    expect(durationMs(progress)).toBe(30_500);
  });

  it('measures to the latest fact even when registered arrives last', () => {
    const { progress } = run([...OBSERVABLE.slice(1).map((s, i) => step(s, 2000 + i)), step('registered', 1500)]);
    expect(progress.state).toBe('ready');
    expect(durationMs(progress)).toBe(2004 - 1500);
  });

  it('is 0 until the node is ready', () => {
    const { progress } = run([step('registered', 1000), step('enrolled', 5000)]);
    expect(durationMs(progress)).toBe(0);
  });

  it('is 0 without a registered time', () => {
    expect(durationMs({ ...emptyProgress(host), steps: { ready: 5000 } })).toBe(0);
  });
});
