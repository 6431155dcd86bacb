import { describe, expect, it } from 'vitest';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { HostDeleted } from '@stackyard/proto/inventory/v1/events';
import { InMemoryAggregateStore } from '@stackyard/testing';
import { HostDeletedHandler } from './host-deleted';
import type { AllocationRecord, AllocationRepository, HostConfigData, HostConfigRepository, Write } from './ports';

/** Only what the handler uses: listHost and releaseHost over rows. */
class Allocations implements Pick<AllocationRepository, 'listHost' | 'releaseHost'> {
  rows: AllocationRecord[] = [];
  async listHost(hostId: string) {
    return this.rows.filter((r) => r.hostId === hostId);
  }
  async releaseHost(siteId: string, hostId: string) {
    const before = this.rows.length;
    this.rows = this.rows.filter((r) => !(r.siteId === siteId && r.hostId === hostId));
    return before - this.rows.length;
  }
}

class Configs implements HostConfigRepository {
  readonly store = new InMemoryAggregateStore<HostConfigData>('host network config');
  get(hostId: string) {
    return this.store.get(hostId);
  }
  async listSite(siteId: string) {
    return (await this.store.find((d) => d.host.siteId === siteId)).map((r) => r.data);
  }
  save(cfg: HostConfigData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return version === undefined ? this.store.create(cfg.host.hostId, cfg, { events, appliedKey }) : this.store.update(cfg.host.hostId, version, cfg, { events, appliedKey });
  }
}

const ref = { hostId: 'dc1-cmp-01', siteId: 'dc1', name: 'cmp-01', groups: ['compute'] };
const deleted = (hostId = ref.hostId): Envelope<HostDeleted> =>
  newEvent({ type: Events.HostDeleted, site: 'dc1', entityId: hostId, service: 'inventory', data: { hostId, siteId: 'dc1', host: { id: hostId, siteId: 'dc1', name: 'cmp-01', groups: ['compute'], labels: {}, hardwareProfile: '', bmc: undefined, hardware: undefined, version: 4 } } });
const alloc = (hostId: string, network: string, address: number): AllocationRecord => ({ siteId: 'dc1', network, hostId, address }) as AllocationRecord;

function world() {
  const allocations = new Allocations();
  const configs = new Configs();
  const handler = new HostDeletedHandler(allocations as unknown as AllocationRepository, configs);
  return { allocations, configs, handler };
}

describe('network on HostDeleted', () => {
  it('Given a configured host with two addresses, then both are released and its config becomes a released tombstone, with no event', async () => {
    const { allocations, configs, handler } = world();
    allocations.rows = [alloc(ref.hostId, 'internal', 10), alloc(ref.hostId, 'provision_oc', 11), alloc('dc1-other', 'internal', 12)];
    await configs.save({ host: ref, allocations: [{ network: 'internal', address: '10.0.0.10' }], files: [], state: 'configured' }, undefined, [], 'k0');
    const e = deleted();
    expect(await handler.onHostDeleted(e, { appliedKey: `network-on-host-deleted~${e.id}` })).toBe('applied');
    expect(allocations.rows.map((r) => r.hostId)).toEqual(['dc1-other']);
    const cfg = await configs.get(ref.hostId);
    expect(cfg).toMatchObject({ version: 2, data: { state: 'released', deleted: true, allocations: [], files: [] } });
    expect(configs.store.outbox).toEqual([]);
    // The same event again: nothing more.
    expect(await handler.onHostDeleted(e, { appliedKey: `network-on-host-deleted~${e.id}` })).toBe('duplicate');
    expect((await configs.get(ref.hostId))?.version).toBe(2);
  });

  it('Given a crash after the release (allocations gone, no tombstone), the redelivery writes the tombstone', async () => {
    const { allocations, configs, handler } = world();
    await configs.save({ host: ref, allocations: [], files: [], state: 'configured' }, undefined, [], 'k0');
    expect(await handler.onHostDeleted(deleted(), { appliedKey: 'k1' })).toBe('applied');
    expect(allocations.rows).toEqual([]);
    expect((await configs.get(ref.hostId))?.data.deleted).toBe(true);
  });

  it('Given imported allocations only (no config), they are released too; a host the network never saw is ignored', async () => {
    const { allocations, configs, handler } = world();
    allocations.rows = [alloc(ref.hostId, 'internal', 10)];
    expect(await handler.onHostDeleted(deleted(), { appliedKey: 'k1' })).toBe('applied');
    expect(allocations.rows).toEqual([]);
    expect((await configs.get(ref.hostId))?.data).toMatchObject({ host: { hostId: ref.hostId, name: 'cmp-01' }, deleted: true });
    expect(await handler.onHostDeleted(deleted('dc1-never'), { appliedKey: 'k2' })).toBe('ignored');
    expect(await configs.get('dc1-never')).toBeNull();
  });
});
