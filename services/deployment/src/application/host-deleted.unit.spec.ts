import { describe, expect, it } from 'vitest';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { HostDeleted } from '@stackyard/proto/inventory/v1/events';
import { InMemoryAggregateStore } from '@stackyard/testing';
import { HostDeletedHandler } from './host-deleted';
import type { NodeDeploymentData, NodeDeploymentRepository, Write } from './ports';

class Nodes implements NodeDeploymentRepository {
  readonly store = new InMemoryAggregateStore<NodeDeploymentData>('node deployment');
  get(id: string) {
    return this.store.get(id);
  }
  save(d: NodeDeploymentData, v: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return v === undefined ? this.store.create(d.host.hostId, d, { events, appliedKey }) : this.store.update(d.host.hostId, v, d, { events, appliedKey });
  }
  async listBySite(siteId: string) {
    return (await this.store.find((d) => d.host.siteId === siteId)).map((r) => r.data);
  }
  async listDeployed() {
    return (await this.store.find((d) => d.state === 'deployed')).map((r) => ({ data: r.data, version: r.version }));
  }
}

const ref = { hostId: 'dc1-cmp-01', siteId: 'dc1', name: 'cmp-01', groups: ['compute'] };
const deleted = (hostId = ref.hostId): Envelope<HostDeleted> =>
  newEvent({ type: Events.HostDeleted, site: 'dc1', entityId: hostId, service: 'inventory', data: { hostId, siteId: 'dc1', host: { id: hostId, siteId: 'dc1', name: 'cmp-01', groups: ['compute'], labels: {}, hardwareProfile: '', bmc: undefined, hardware: undefined, version: 3 } } });

describe('deployment on HostDeleted', () => {
  it('Given a deployed node, then it is removed from what the health watch checks, once; an unknown host is ignored', async () => {
    const nodes = new Nodes();
    await nodes.save({ host: ref, state: 'deployed', containers: [{ service: 'nova', name: 'nova_compute', healthy: true }], lastFailure: undefined }, undefined, [], 'k0');
    const handler = new HostDeletedHandler(nodes);
    expect((await nodes.listDeployed()).length).toBe(1);
    const e = deleted();
    expect(await handler.onHostDeleted(e, { appliedKey: `deployment-on-host-deleted~${e.id}` })).toBe('applied');
    expect(await nodes.listDeployed()).toEqual([]);
    expect((await nodes.get(ref.hostId))?.data.state).toBe('removed');
    expect(await handler.onHostDeleted(e, { appliedKey: `deployment-on-host-deleted~${e.id}` })).toBe('duplicate');
    expect(nodes.store.outbox).toEqual([]);
    expect(await handler.onHostDeleted(deleted('dc1-never'), { appliedKey: 'k2' })).toBe('ignored');
  });
});
