import { describe, expect, it } from 'vitest';
import type { Failure, HostRef } from '@stackyard/proto/inventory/v1/inventory';
import { apply, degradedReasons, emptyProgress, requestAbort, requestRetry, type Fact, type ProgressData, type StepName } from './progress';

// The readiness rules after ready: NodeHealthChanged facts move a node between ready and degraded.

const host: HostRef = { hostId: 'dc1-cmp-01', siteId: 'dc1', name: 'cmp-01', groups: ['compute'] };
const OBSERVABLE: Exclude<StepName, 'ready'>[] = ['registered', 'enrolled', 'inspected', 'provisioned', 'network-configured', 'services-deployed'];
const step = (s: Exclude<StepName, 'ready'>, at: number): Fact => ({ kind: 'step', step: s, at });
const NOVA = { service: 'nova', name: 'nova_compute' };
const CRON = { service: 'common', name: 'cron' };
const unhealthy = (at: number, containers = [NOVA]): Fact => ({ kind: 'health', healthy: false, unhealthyContainers: containers, at });
const healthy = (at: number): Fact => ({ kind: 'health', healthy: true, unhealthyContainers: [], at });
const failure: Failure = { step: 'inspect', reason: 'BmcTimeout', message: 'BMC timed out', retryable: true };

function fold(facts: Fact[], from: ProgressData = emptyProgress(host)): ProgressData {
  return facts.reduce((p, f) => apply(p, f).progress, from);
}
const ready = (): ProgressData => fold(OBSERVABLE.map((s, i) => step(s, 1000 + i)));

describe('health after ready', () => {
  it('Given a ready node, when it becomes unhealthy, then it is degraded since the check, with NodeDegraded and its reasons', () => {
    const r = apply(ready(), unhealthy(10_000, [NOVA, CRON]));
    expect(r.progress.state).toBe('degraded');
    expect(r.progress.degradedSince).toBe(10_000);
    expect(r.becameReady).toBe(false);
    expect(r.signal).toEqual({ kind: 'degraded', reasons: ['nova_compute (nova) unhealthy', 'cron (common) unhealthy'] });
    expect(r.progress.health).toEqual({ healthy: false, unhealthyContainers: [NOVA, CRON], checkedAt: 10_000 });
    // the saga steps are untouched
    expect(r.progress.steps).toEqual(ready().steps);
  });

  it('Given a ready node, when a check says healthy, then it stays ready with no event (health recorded)', () => {
    const r = apply(ready(), healthy(10_000));
    expect(r.progress.state).toBe('ready');
    expect(r.signal).toBeUndefined();
    expect(r.progress.health?.checkedAt).toBe(10_000);
  });

  it('Given a degraded node, when it is healthy again, then it is ready with NodeRecovered and how long it was degraded (not NodeReady)', () => {
    const degraded = fold([unhealthy(10_000)], ready());
    const r = apply(degraded, healthy(55_000));
    expect(r.progress.state).toBe('ready');
    expect(r.progress.degradedSince).toBeUndefined();
    expect(r.becameReady).toBe(false);
    expect(r.signal).toEqual({ kind: 'recovered', degradedForMs: 45_000 });
    expect(r.progress.steps.ready).toBe(ready().steps.ready);
  });

  it('Given a degraded node, when other containers are unhealthy, then it stays degraded since the first check, reasons updated, no new event', () => {
    const degraded = fold([unhealthy(10_000, [NOVA])], ready());
    const r = apply(degraded, unhealthy(20_000, [NOVA, CRON]));
    expect(r.progress.state).toBe('degraded');
    expect(r.progress.degradedSince).toBe(10_000);
    expect(r.signal).toBeUndefined();
    expect(degradedReasons(r.progress.health)).toEqual(['nova_compute (nova) unhealthy', 'cron (common) unhealthy']);
  });

  it('Given a degraded node, then saga facts (a late step, a failure) change nothing', () => {
    const degraded = fold([unhealthy(10_000)], ready());
    for (const f of [step('services-deployed', 20_000), { kind: 'failure', failure, at: 20_000 } as Fact]) {
      const r = apply(degraded, f);
      expect(r.progress).toBe(degraded);
      expect(r.becameReady).toBe(false);
      expect(r.signal).toBeUndefined();
    }
  });

  it('Given a degraded node, when it is aborted, then it is aborted (no longer degraded)', () => {
    const degraded = fold([unhealthy(10_000)], ready());
    expect(requestAbort(degraded).state).toBe('aborting');
    const r = apply(requestAbort(degraded), { kind: 'aborted', at: 30_000 });
    expect(r.progress.state).toBe('aborted');
    expect(r.progress.degradedSince).toBeUndefined();
    expect(() => requestRetry(degraded)).toThrow(/degraded/);
  });

  it.each([
    ['in-progress', () => fold([step('registered', 1), step('enrolled', 2)])],
    ['failed', () => fold([step('registered', 1), { kind: 'failure', failure, at: 2 }])],
    ['aborting', () => requestAbort(fold([step('registered', 1)]))],
    ['aborted', () => fold([step('registered', 1), { kind: 'aborted', at: 2 }])],
  ] as const)('Given a %s node, then health changes are recorded but its state is unchanged and nothing is published', (state, given) => {
    const p = given();
    expect(p.state).toBe(state);
    const sick = apply(p, unhealthy(10_000));
    expect(sick.progress.state).toBe(state);
    expect(sick.signal).toBeUndefined();
    expect(sick.progress.health).toEqual({ healthy: false, unhealthyContainers: [NOVA], checkedAt: 10_000 });
    const well = apply(sick.progress, healthy(20_000));
    expect(well.progress.state).toBe(state);
    expect(well.signal).toBeUndefined();
    expect(well.progress.health?.healthy).toBe(true);
  });

  it('Given a health fact older than the recorded one (redelivered late), then it is dropped', () => {
    const degraded = fold([unhealthy(10_000), healthy(20_000)], ready());
    expect(degraded.state).toBe('ready');
    const r = apply(degraded, unhealthy(15_000));
    expect(r.progress).toBe(degraded);
    expect(r.signal).toBeUndefined();
  });

  it('Given an unhealthy fact before services-deployed (facts out of order), then the node becomes ready and degraded at once', () => {
    const early = fold([...OBSERVABLE.slice(0, 5).map((s, i) => step(s, 1000 + i)), unhealthy(9_000)]);
    expect(early.state).toBe('in-progress');
    const r = apply(early, step('services-deployed', 8_000));
    expect(r.becameReady).toBe(true);
    expect(r.progress.state).toBe('degraded');
    expect(r.progress.degradedSince).toBe(9_000);
    expect(r.signal).toEqual({ kind: 'degraded', reasons: ['nova_compute (nova) unhealthy'] });
  });

  it('Given a healthy fact before services-deployed, then the node simply becomes ready', () => {
    const early = fold([...OBSERVABLE.slice(0, 5).map((s, i) => step(s, 1000 + i)), healthy(9_000)]);
    const r = apply(early, step('services-deployed', 8_000));
    expect(r.progress.state).toBe('ready');
    expect(r.signal).toBeUndefined();
  });

  it('names a reason even when no container is listed', () => {
    expect(degradedReasons({ healthy: false, unhealthyContainers: [], checkedAt: 1 })).toEqual(['containers unhealthy']);
    expect(degradedReasons({ healthy: true, unhealthyContainers: [], checkedAt: 1 })).toEqual([]);
    expect(degradedReasons(undefined)).toEqual([]);
  });
});
