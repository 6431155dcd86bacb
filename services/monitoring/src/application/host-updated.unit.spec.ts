import { describe, expect, it } from 'vitest';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { HostUpdated } from '@stackyard/proto/inventory/v1/events';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import { InMemoryAggregateStore } from '@stackyard/testing';
import { emptyProgress, type ProgressData } from '../domain/progress';
import { HostUpdatedHandler } from './host-updated';
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
const updated = (version: number, groups: string[], changedFields = ['groups']): Envelope<HostUpdated> =>
  newEvent({
    type: Events.HostUpdated,
    site: 'dc1',
    entityId: host.hostId,
    service: 'inventory',
    data: { host: { id: host.hostId, siteId: 'dc1', name: 'cmp-01', groups, labels: {}, hardwareProfile: '', bmc: undefined, hardware: undefined, version }, changedFields },
  });

describe('monitoring on HostUpdated', () => {
  it('Given a node, when its groups change, then its projection shows them (state and steps kept); an older update or another field changes nothing', async () => {
    const repo = new Repo();
    await repo.save({ ...emptyProgress(host), steps: { registered: 1 } }, undefined, [], 'k0');
    const handler = new HostUpdatedHandler(repo);
    expect(await handler.onHostUpdated(updated(3, ['compute', 'monitoring']), 'k1')).toBe('applied');
    expect((await repo.get(host.hostId))?.data).toMatchObject({ host: { groups: ['compute', 'monitoring'] }, hostVersion: 3, state: 'in-progress', steps: { registered: 1 } });
    expect(await handler.onHostUpdated(updated(2, ['storage']), 'k2')).toBe('duplicate');
    expect(await handler.onHostUpdated(updated(4, ['storage'], ['labels']), 'k3')).toBe('ignored');
    expect((await repo.get(host.hostId))?.data.host.groups).toEqual(['compute', 'monitoring']);
    expect(repo.store.writes).toBe(2);
  });

  it('a host without a projection, or a dropped one, is ignored', async () => {
    const repo = new Repo();
    const handler = new HostUpdatedHandler(repo);
    expect(await handler.onHostUpdated(updated(2, ['storage']), 'k1')).toBe('ignored');
    await repo.save({ ...emptyProgress(host), deleted: true }, undefined, [], 'k0');
    expect(await handler.onHostUpdated(updated(2, ['storage']), 'k2')).toBe('ignored');
  });
});
