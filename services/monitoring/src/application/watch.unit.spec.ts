import { describe, expect, it } from 'vitest';
import type { Envelope } from '@stackyard/events';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import { emptyProgress, type ProgressData } from '../domain/progress';
import { MonitoringService } from './monitoring';
import type { ProgressRepository, Write } from './ports';

type Row = { data: ProgressData; version: number; updatedAt: Date };

/** Rows written by "another replica" (put here directly); records every `changedSince` asked. */
class OtherReplicaRepo implements ProgressRepository {
  readonly rows = new Map<string, Row>();
  readonly asked: Date[] = [];
  async get(id: string) {
    return this.rows.get(id) ?? null;
  }
  async save(_p: ProgressData, _v: number | undefined, _e: readonly Envelope[], _k: string): Promise<Write> {
    throw new Error('not written by this replica');
  }
  async list() {
    return [...this.rows.values()];
  }
  async changedSince(siteId: string, since: Date) {
    this.asked.push(since);
    return [...this.rows.values()].filter((r) => r.data.host.siteId === siteId && r.updatedAt >= since);
  }
  put(hostId: string, version: number) {
    const host: HostRef = { hostId, siteId: 'dc1', name: hostId, groups: ['compute'] };
    this.rows.set(hostId, { data: emptyProgress(host), version, updatedAt: new Date() });
  }
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('MonitoringService.watch: what other replicas wrote', () => {
  it('reads everything first, then what changed since the previous read (a second of overlap), and everything again every fullEveryMs', async () => {
    const repo = new OtherReplicaRepo();
    repo.put('a', 1);
    const sent: [string, number][] = [];
    const ac = new AbortController();
    const watchStart = Date.now();
    const done = new MonitoringService(repo).watch('dc1', ac.signal, (r) => sent.push([r.data.host.hostId, r.version]), 20, 150);
    await until(() => sent.length === 1);
    repo.put('b', 1);
    repo.put('a', 2);
    await until(() => sent.length === 3);
    await until(() => repo.asked.filter((d) => d.getTime() === 0).length >= 2);
    ac.abort();
    await done;

    // Each row once per version, whatever the re-reads returned again.
    expect([...sent].sort()).toEqual([['a', 1], ['a', 2], ['b', 1]]);
    const [first, ...rest] = repo.asked;
    expect(first!.getTime()).toBe(0);
    // Between full reads, each asks from a second before the previous one started: never from the start.
    const incremental = rest.filter((d) => d.getTime() !== 0);
    expect(incremental.length).toBeGreaterThan(2);
    for (const d of incremental) expect(d.getTime()).toBeGreaterThanOrEqual(watchStart - 1000);
    // The full re-read comes back after fullEveryMs, not at every round.
    expect(repo.asked.filter((d) => d.getTime() === 0).length).toBeLessThan(repo.asked.length / 2);
  });

  it('refuses a watch without a site, naming the field', async () => {
    const svc = new MonitoringService(new OtherReplicaRepo());
    await expect(svc.watch('', new AbortController().signal, () => undefined)).rejects.toThrow(/site_id/);
  });
});
