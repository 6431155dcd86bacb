import { describe, expect, it } from 'vitest';
import { Events, type Envelope } from '@stackyard/events';
import { InMemoryAggregateStore } from '@stackyard/testing';
import type { Container } from '@stackyard/proto/deployment/v1/deployment';
import type { NodeHealthChanged } from '@stackyard/proto/deployment/v1/events';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import { LabRuntime } from '../adapters/lab/lab-runtime';
import { HealthWatch } from './health-watch';
import type { ContainerRuntime, NodeDeploymentData, NodeDeploymentRepository, RuntimeRunResult, Write } from './ports';

class Repo implements NodeDeploymentRepository {
  readonly store = new InMemoryAggregateStore<NodeDeploymentData>('node deployment');
  /** Runs once before the next save (to let another writer in first). */
  beforeSave: (() => Promise<void>) | undefined;
  get(id: string) {
    return this.store.get(id);
  }
  async listBySite(siteId: string) {
    return (await this.store.find((d) => d.host.siteId === siteId)).map((r) => r.data);
  }
  async listDeployed() {
    return (await this.store.find((d) => d.state === 'deployed')).map((r) => ({ data: r.data, version: r.version }));
  }
  async save(d: NodeDeploymentData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    const hook = this.beforeSave;
    this.beforeSave = undefined;
    if (hook) await hook();
    const opts = { events, ...(appliedKey ? { appliedKey } : {}) };
    return version === undefined ? this.store.create(d.host.hostId, d, opts) : this.store.update(d.host.hostId, version, d, opts);
  }
}

const ref = (name: string): HostRef => ({ hostId: `dc1-${name}`, siteId: 'dc1', name, groups: ['compute'] });
const CONTAINERS: Container[] = [
  { service: 'nova', name: 'nova_compute', healthy: true },
  { service: 'common', name: 'cron', healthy: true },
];
const NOW = new Date('2025-03-04T05:06:07.089Z');

async function deployed(repo: Repo, name: string, state: NodeDeploymentData['state'] = 'deployed') {
  await repo.store.create(`dc1-${name}`, { host: ref(name), state, containers: CONTAINERS, lastFailure: undefined });
}
const changes = (repo: Repo) => repo.store.eventsOfType(Events.NodeHealthChanged.type) as Envelope<NodeHealthChanged>[];

function setup(names: string[] = ['cmp-01', 'cmp-02']) {
  const repo = new Repo();
  const runtime = new LabRuntime(0);
  const watch = new HealthWatch(repo, runtime, { concurrency: 2, log: { warn: () => undefined, debug: () => undefined }, now: () => NOW });
  return { repo, runtime, watch, ready: Promise.all(names.map((n) => deployed(repo, n))) };
}

describe('health watch of deployed nodes', () => {
  it('Given healthy deployed nodes, then a round checks them and writes nothing', async () => {
    const { repo, watch, ready } = setup();
    await ready;
    expect(await watch.checkOnce()).toEqual({ checked: 2, changed: 0, conflicts: 0, errors: 0, unsupported: false });
    expect(changes(repo)).toEqual([]);
    expect((await repo.get('dc1-cmp-01'))!.version).toBe(1);
  });

  it('Given a node turning unhealthy, then NodeHealthChanged once (with its unhealthy containers), none while it stays so, and one when healthy again', async () => {
    const { repo, runtime, watch, ready } = setup();
    await ready;
    runtime.markUnhealthy('cmp-01', ['nova_compute']);
    expect(await watch.checkOnce()).toMatchObject({ checked: 2, changed: 1 });
    const [sick] = changes(repo);
    expect(sick!.subject).toBe('stackyard.dc1.deployment.node.dc1-cmp-01.health-changed');
    expect(sick!.data).toEqual({ host: ref('cmp-01'), healthy: false, unhealthyContainers: [{ service: 'nova', name: 'nova_compute', healthy: false }], checkedAtMs: NOW.getTime() });
    const stored = (await repo.get('dc1-cmp-01'))!;
    expect(stored.data.health).toEqual({ healthy: false, unhealthyContainers: [{ service: 'nova', name: 'nova_compute', healthy: false }], checkedAt: NOW.toISOString() });
    expect(stored.data.state).toBe('deployed');

    // unchanged: no event, no write
    expect(await watch.checkOnce()).toMatchObject({ changed: 0 });
    expect(await watch.checkOnce()).toMatchObject({ changed: 0 });
    expect(changes(repo)).toHaveLength(1);
    expect((await repo.get('dc1-cmp-01'))!.version).toBe(stored.version);

    // another container too: a change of the unhealthy set is a change
    runtime.markUnhealthy('cmp-01', ['cron']);
    expect(await watch.checkOnce()).toMatchObject({ changed: 1 });
    expect(changes(repo)[1]!.data.unhealthyContainers.map((c) => c.name)).toEqual(['nova_compute', 'cron']);

    runtime.markHealthy('cmp-01');
    expect(await watch.checkOnce()).toMatchObject({ changed: 1 });
    expect(changes(repo)[2]!.data).toMatchObject({ healthy: true, unhealthyContainers: [] });
    expect(await watch.checkOnce()).toMatchObject({ changed: 0 });
    expect(changes(repo)).toHaveLength(3);
  });

  it('checks only deployed nodes (not waiting, failed or removed ones)', async () => {
    const { repo, runtime, watch } = setup([]);
    await deployed(repo, 'cmp-01', 'failed');
    await deployed(repo, 'cmp-02', 'removed');
    await deployed(repo, 'cmp-03', 'waiting');
    runtime.markUnhealthy('cmp-01');
    runtime.markUnhealthy('cmp-02');
    runtime.markUnhealthy('cmp-03');
    expect(await watch.checkOnce()).toMatchObject({ checked: 0, changed: 0 });
    expect(changes(repo)).toEqual([]);
  });

  it('Given two replicas seeing the same change, then one writes it and the other loses the version check and skips', async () => {
    const { repo, runtime, watch, ready } = setup(['cmp-01']);
    await ready;
    const other = new HealthWatch(repo, runtime, { concurrency: 1, log: { warn: () => undefined, debug: () => undefined }, now: () => NOW });
    runtime.markUnhealthy('cmp-01');
    // the other replica writes between this replica's read and its write
    let theirs: Awaited<ReturnType<HealthWatch['checkOnce']>> | undefined;
    repo.beforeSave = async () => {
      theirs = await other.checkOnce();
    };
    const ours = await watch.checkOnce();
    expect(theirs).toMatchObject({ changed: 1, conflicts: 0 });
    expect(ours).toMatchObject({ checked: 1, changed: 0, conflicts: 1, errors: 0 });
    expect(changes(repo)).toHaveLength(1);
    expect((await repo.get('dc1-cmp-01'))!.version).toBe(2);
  });

  it('Given an abort between the check and the write, then the write loses the version check and nothing is published', async () => {
    const { repo, runtime, watch, ready } = setup(['cmp-01']);
    await ready;
    runtime.markUnhealthy('cmp-01');
    repo.beforeSave = async () => {
      const cur = (await repo.get('dc1-cmp-01'))!;
      await repo.store.update('dc1-cmp-01', cur.version, { ...cur.data, state: 'removed', containers: [] });
    };
    expect(await watch.checkOnce()).toMatchObject({ conflicts: 1, changed: 0 });
    expect(changes(repo)).toEqual([]);
  });

  it('LAB_UNHEALTHY_HOSTS: a listed host (or one of its containers) is unhealthy from the first check', async () => {
    const runtime = new LabRuntime(0, [], ['cmp-01', 'cmp-02:cron']);
    expect((await runtime.health(ref('cmp-01'), CONTAINERS)).map((c) => c.healthy)).toEqual([false, false]);
    expect((await runtime.health(ref('cmp-02'), CONTAINERS)).map((c) => c.healthy)).toEqual([true, false]);
    expect((await runtime.health(ref('cmp-03'), CONTAINERS)).map((c) => c.healthy)).toEqual([true, true]);
  });

  it('Given a runtime that cannot check health, then the watch skips it with one warning', async () => {
    const repo = new Repo();
    await deployed(repo, 'cmp-01');
    let calls = 0;
    const runtime: ContainerRuntime = {
      name: 'kolla-ansible',
      usesInputs: true,
      deploy: () => Promise.reject(new Error('not used')),
      run: (): Promise<RuntimeRunResult> => Promise.reject(new Error('not used')),
      health: async () => {
        calls++;
        return 'unsupported';
      },
    };
    const warnings: string[] = [];
    const watch = new HealthWatch(repo, runtime, { concurrency: 4, log: { warn: (_o, m) => void warnings.push(m ?? ''), debug: () => undefined } });
    expect(await watch.checkOnce()).toMatchObject({ unsupported: true, checked: 0 });
    expect(await watch.checkOnce()).toMatchObject({ unsupported: true, checked: 0 });
    expect(calls).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('kolla-ansible runtime cannot check container health');
    expect(changes(repo)).toEqual([]);
  });

  it('checks at most `concurrency` nodes at once, and runs rounds on its interval until stopped', async () => {
    const repo = new Repo();
    for (const n of ['a', 'b', 'c', 'd', 'e']) await deployed(repo, n);
    let inFlight = 0;
    let peak = 0;
    let rounds = 0;
    const lab = new LabRuntime(0);
    const runtime: ContainerRuntime = {
      name: 'slow',
      usesInputs: false,
      deploy: () => Promise.reject(new Error('not used')),
      run: (): Promise<RuntimeRunResult> => Promise.reject(new Error('not used')),
      health: async (h, c) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        if (h.name === 'a') rounds++;
        return lab.health(h, c);
      },
    };
    const watch = new HealthWatch(repo, runtime, { concurrency: 2, log: { warn: () => undefined, debug: () => undefined } });
    expect(await watch.checkOnce()).toMatchObject({ checked: 5 });
    expect(peak).toBe(2);
    watch.start(10);
    await expect.poll(() => rounds, { timeout: 2000 }).toBeGreaterThanOrEqual(3);
    await watch.stop();
    const after = rounds;
    await new Promise((r) => setTimeout(r, 50));
    expect(rounds).toBe(after);
  });
});
