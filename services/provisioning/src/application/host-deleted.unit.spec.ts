import { describe, expect, it } from 'vitest';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { HostDeleted } from '@stackyard/proto/inventory/v1/events';
import type { NodeActionFinished } from '@stackyard/proto/provisioning/v1/events';
import { InMemoryAggregateStore } from '@stackyard/testing';
import { newNode, type NodeData } from '../domain/node';
import { HostDeletedHandler } from './host-deleted';
import type { NodeRepository, Write } from './ports';

class Nodes implements NodeRepository {
  readonly store = new InMemoryAggregateStore<NodeData>('node');
  get(id: string) {
    return this.store.get(id);
  }
  create(id: string, node: NodeData, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return this.store.create(id, node, { events, appliedKey });
  }
  update(id: string, node: NodeData, v: number, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return this.store.update(id, v, node, { events, appliedKey });
  }
  list() {
    return this.store.find();
  }
}

const ref = { hostId: 'dc1-cmp-01', siteId: 'dc1', name: 'cmp-01', groups: ['compute'] };
const deleted = (hostId = ref.hostId): Envelope<HostDeleted> =>
  newEvent({ type: Events.HostDeleted, site: 'dc1', entityId: hostId, service: 'inventory', data: { hostId, siteId: 'dc1', host: { id: hostId, siteId: 'dc1', name: 'cmp-01', groups: ['compute'], labels: {}, hardwareProfile: '', bmc: undefined, hardware: undefined, version: 3 } } });

describe('provisioning on HostDeleted', () => {
  it('Given a node with a pending operator action, then one write marks it deleted and finishes the action as failed (HostDeleted)', async () => {
    const nodes = new Nodes();
    const node: NodeData = { ...newNode(ref, 'lab', 'bmc-1', ''), state: 'active', pendingAction: { verb: 'undeploy', requestId: 'r1' } };
    await nodes.create(ref.hostId, node, [], 'k0');
    const handler = new HostDeletedHandler(nodes);
    const e = deleted();
    expect(await handler.onHostDeleted(e, { appliedKey: `provisioning-on-host-deleted~${e.id}` })).toBe('applied');
    const after = await nodes.get(ref.hostId);
    expect(after?.data).toMatchObject({ deleted: true, aborted: true, lastAction: { verb: 'undeploy', requestId: 'r1', failure: { reason: 'HostDeleted' } } });
    expect(after?.data.pendingAction).toBeUndefined();
    const finished = nodes.store.eventsOfType(Events.NodeActionFinished.type) as Envelope<NodeActionFinished>[];
    expect(finished.map((x) => [x.data.requestId, x.data.failure?.reason, x.causationId])).toEqual([['r1', 'HostDeleted', e.id]]);
    expect(await handler.onHostDeleted(e, { appliedKey: `provisioning-on-host-deleted~${e.id}` })).toBe('duplicate');
    expect(nodes.store.writes).toBe(2);
  });

  it('Given a node without pending work, then no event; an unknown host is ignored', async () => {
    const nodes = new Nodes();
    await nodes.create(ref.hostId, { ...newNode(ref, 'lab', 'bmc-1', ''), state: 'active' }, [], 'k0');
    const handler = new HostDeletedHandler(nodes);
    expect(await handler.onHostDeleted(deleted(), { appliedKey: 'k1' })).toBe('applied');
    expect(nodes.store.outbox).toEqual([]);
    expect(await handler.onHostDeleted(deleted('dc1-never'), { appliedKey: 'k2' })).toBe('ignored');
  });
});
