import { describe, expect, it } from 'vitest';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { HostDeleted } from '@stackyard/proto/inventory/v1/events';
import { InMemoryAggregateStore } from '@stackyard/testing';
import type { Container } from '@stackyard/proto/deployment/v1/deployment';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { NetworkConfigured } from '@stackyard/proto/network/v1/events';
import type { PlannedContainer } from '../domain/catalogue';
import { DeploymentService } from './deployment';
import { HostDeletedHandler } from './host-deleted';
import type { ContainerRuntime, NodeDeploymentData, NodeDeploymentRepository, RuntimeRunResult, Write } from './ports';

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

  it('Given a deleted host registered again, then its new NetworkConfigured deploys it afresh; an aborted node stays removed', async () => {
    const nodes = new Nodes();
    const calls: string[] = [];
    const runtime: ContainerRuntime = {
      name: 'recording',
      usesInputs: false,
      health: async () => 'unsupported' as const,
      run: (): Promise<RuntimeRunResult> => Promise.reject(new Error('not used')),
      deploy: async (host: HostRef, containers: readonly PlannedContainer[]): Promise<Container[]> => {
        calls.push(host.hostId);
        return containers.map((c) => ({ service: c.service, name: c.name, healthy: true }));
      },
    };
    const svc = new DeploymentService(nodes, runtime);
    const configured = (host: HostRef): Envelope<NetworkConfigured> =>
      newEvent({ type: Events.NetworkConfigured, site: 'dc1', entityId: host.hostId, service: 'network', data: { host, allocations: [{ siteId: 'dc1', hostId: host.hostId, network: 'internal', address: '10.1.0.20' }], files: [] } });
    const key = (e: Envelope) => ({ appliedKey: `deployment-on-network-configured~${e.id}`, lastAttempt: false });

    const first = configured(ref);
    expect(await svc.onNetworkConfigured(first, key(first))).toBe('applied');
    const del = deleted();
    await new HostDeletedHandler(nodes).onHostDeleted(del, { appliedKey: `deployment-on-host-deleted~${del.id}` });
    expect((await nodes.get(ref.hostId))?.data).toMatchObject({ state: 'removed', deleted: true });

    const again = configured(ref);
    expect(await svc.onNetworkConfigured(again, key(again))).toBe('applied');
    expect(calls).toEqual([ref.hostId, ref.hostId]);
    const after = (await nodes.get(ref.hostId))!.data;
    expect(after.state).toBe('deployed');
    expect(after.deleted).toBeUndefined();
    expect(nodes.store.eventsOfType(Events.ServicesDeployed.type)).toHaveLength(2);

    // An abort's tombstone (not a deletion) still ignores later facts.
    const other = { ...ref, hostId: 'dc1-cmp-02', name: 'cmp-02' };
    await nodes.save({ host: other, state: 'removed', containers: [], lastFailure: undefined }, undefined, [], 'k-abort');
    const late = configured(other);
    expect(await svc.onNetworkConfigured(late, key(late))).toBe('duplicate');
    expect(calls).toHaveLength(2);
  });
});
