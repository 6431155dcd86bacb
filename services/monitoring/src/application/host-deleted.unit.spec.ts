import { describe, expect, it } from 'vitest';
import { NotFoundError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { HostDeleted } from '@stackyard/proto/inventory/v1/events';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import { InMemoryAggregateStore } from '@stackyard/testing';
import type { ProgressData } from '../domain/progress';
import { HostDeletedHandler } from './host-deleted';
import { MonitoringService } from './monitoring';
import type { ProgressRepository, Write } from './ports';

class Repo implements ProgressRepository {
  readonly store = new InMemoryAggregateStore<ProgressData>('node progress');
  get(id: string) {
    return this.store.get(id);
  }
  save(p: ProgressData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return version === undefined ? this.store.create(p.host.hostId, p, { events, appliedKey }) : this.store.update(p.host.hostId, version, p, { events, appliedKey });
  }
  async list() {
    return this.store.find();
  }
  async changedSince() {
    return [];
  }
}

const host: HostRef = { hostId: 'dc1-cmp-01', siteId: 'dc1', name: 'cmp-01', groups: ['compute'] };
const deleted = (hostId = host.hostId): Envelope<HostDeleted> =>
  newEvent({ type: Events.HostDeleted, site: 'dc1', entityId: hostId, service: 'inventory', data: { hostId, siteId: 'dc1', host: { id: hostId, siteId: 'dc1', name: 'cmp-01', groups: ['compute'], labels: {}, hardwareProfile: '', bmc: undefined, hardware: undefined, version: 3 } } });
const registered = () =>
  newEvent({ type: Events.HostRegistered, site: 'dc1', entityId: host.hostId, service: 'inventory', data: { host: { id: host.hostId, siteId: 'dc1', name: 'cmp-01', groups: ['compute'], labels: {}, hardwareProfile: '', bmc: undefined, hardware: undefined, version: 5 } } });

function world() {
  const repo = new Repo();
  return { repo, svc: new MonitoringService(repo), handler: new HostDeletedHandler(repo) };
}

describe('monitoring on HostDeleted', () => {
  it('Given a node in progress, then it is dropped from get and list, later facts change nothing, and a new registration starts it afresh', async () => {
    const { repo, svc, handler } = world();
    await svc.record(registered(), host, { kind: 'step', step: 'registered', at: 1 }, 'k1');
    await svc.record(registered(), host, { kind: 'step', step: 'enrolled', at: 2 }, 'k2');
    const e = deleted();
    expect(await handler.onHostDeleted(e, `monitoring-on-inventory-deleted~${e.id}`)).toBe('applied');
    expect(await handler.onHostDeleted(e, `monitoring-on-inventory-deleted~${e.id}`)).toBe('duplicate');
    await expect(svc.get(host.hostId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(svc.retry(host.hostId, 'op')).rejects.toBeInstanceOf(NotFoundError);
    await expect(svc.abort(host.hostId, 'op')).rejects.toBeInstanceOf(NotFoundError);
    expect(await svc.list('dc1')).toEqual([]);
    // A late fact for the deleted node: nothing written.
    expect(await svc.record(registered(), host, { kind: 'step', step: 'inspected', at: 3 }, 'k3')).toBe('duplicate');
    expect((await repo.get(host.hostId))?.version).toBe(3);
    // Registered again: a fresh projection.
    await svc.record(registered(), host, { kind: 'step', step: 'registered', at: 10 }, 'k4');
    const p = await svc.get(host.hostId);
    expect(p.data).toMatchObject({ state: 'in-progress', steps: { registered: 10 } });
    expect(p.data.steps.enrolled).toBeUndefined();
    expect(p.data.deleted).toBeUndefined();
  });

  it('a fact is dropped for a deleted node only on a fresh read: a stale cached tombstone (another replica saw the host registered again) is read again', async () => {
    class StaleCache extends Repo {
      stale: Awaited<ReturnType<Repo['get']>> = null;
      override async get(id: string, opts: { cached?: boolean } = {}) {
        return (opts.cached ? this.stale : null) ?? super.get(id);
      }
    }
    const repo = new StaleCache();
    const svc = new MonitoringService(repo);
    await svc.record(registered(), host, { kind: 'step', step: 'registered', at: 1 }, 'k1');
    const e = deleted();
    await new HostDeletedHandler(repo).onHostDeleted(e, `monitoring-on-inventory-deleted~${e.id}`);
    repo.stale = await repo.get(host.hostId);
    await svc.record(registered(), host, { kind: 'step', step: 'registered', at: 10 }, 'k2');
    expect(await svc.record(registered(), host, { kind: 'step', step: 'enrolled', at: 11 }, 'k3')).toBe('applied');
    expect((await svc.get(host.hostId)).data.steps).toMatchObject({ registered: 10, enrolled: 11 });
  });

  it('a host with no projection (recorded only) is ignored', async () => {
    const { repo, handler } = world();
    expect(await handler.onHostDeleted(deleted('dc1-never'), 'k')).toBe('ignored');
    expect(repo.store.writes).toBe(0);
  });
});
