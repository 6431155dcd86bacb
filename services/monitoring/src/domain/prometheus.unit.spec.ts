import { describe, expect, it } from 'vitest';
import { alertRules, scrapeTargets } from './prometheus';
import type { ProgressData } from './progress';

const node = (name: string, state: ProgressData['state'], addresses?: Record<string, string>): ProgressData => ({
  host: { hostId: `s1-${name}`, siteId: 's1', name, groups: ['compute'] },
  state,
  steps: {},
  lastFailure: undefined,
  ...(addresses ? { addresses } : {}),
});

describe('Prometheus scrape targets', () => {
  it('lists the exporters of ready nodes on their internal address, sorted', () => {
    const groups = scrapeTargets([
      node('b', 'ready', { internal: '10.1.0.11', provision_oc: '10.0.0.11' }),
      node('a', 'ready', { internal: '10.1.0.10' }),
      node('c', 'in-progress', { internal: '10.1.0.12' }),
      node('d', 'failed', { internal: '10.1.0.13' }),
    ]);
    expect(groups).toEqual([
      { targets: ['10.1.0.10:9100'], labels: { job: 'node', site: 's1', host: 'a', groups: 'compute' } },
      { targets: ['10.1.0.10:18080'], labels: { job: 'cadvisor', site: 's1', host: 'a', groups: 'compute' } },
      { targets: ['10.1.0.11:9100'], labels: { job: 'node', site: 's1', host: 'b', groups: 'compute' } },
      { targets: ['10.1.0.11:18080'], labels: { job: 'cadvisor', site: 's1', host: 'b', groups: 'compute' } },
    ]);
  });
  it('falls back to the first network by name when there is no internal network, and skips nodes without addresses', () => {
    const groups = scrapeTargets([node('a', 'ready', { storage: '10.2.0.5', admin: '10.3.0.5' }), node('b', 'ready')]);
    expect(groups.map((g) => g.targets[0])).toEqual(['10.3.0.5:9100', '10.3.0.5:18080']);
  });
  it('has alert rules for the cloud and for the platform', () => {
    const rules = alertRules();
    expect(rules).toContain('alert: NodeExporterDown');
    expect(rules).toContain('stackyard_events_handled_total{outcome="terminated"}');
  });
});
