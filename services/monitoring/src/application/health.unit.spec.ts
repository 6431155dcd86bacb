import { describe, expect, it } from 'vitest';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import { InMemoryAggregateStore } from '@stackyard/testing';
import type { NodeHealthChanged } from '@stackyard/proto/deployment/v1/events';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { toProto } from '../adapters/grpc/handlers';
import { nodeView } from '../adapters/http/dashboard';
import type { ProgressData, StepName } from '../domain/progress';
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
const STEPS: Exclude<StepName, 'ready'>[] = ['registered', 'enrolled', 'inspected', 'provisioned', 'network-configured', 'services-deployed'];
const ORIGIN = { id: 'origin', correlationId: 'corr' };

function health(healthy: boolean, at: number): Envelope<NodeHealthChanged> {
  const unhealthyContainers = healthy ? [] : [{ service: 'nova', name: 'nova_compute', healthy: false }];
  return newEvent({ type: Events.NodeHealthChanged, site: 'dc1', entityId: host.hostId, service: 'deployment', data: { host, healthy, unhealthyContainers, checkedAtMs: at }, cause: ORIGIN });
}

async function readyNode(svc: MonitoringService) {
  for (const [i, s] of STEPS.entries()) {
    const env = newEvent({ type: Events.ServicesDeployed, site: 'dc1', entityId: host.hostId, service: 'x', data: { host, containers: [] }, cause: ORIGIN });
    await svc.record(env, host, { kind: 'step', step: s, at: 1000 + i }, `step-${s}`);
  }
}

async function feed(svc: MonitoringService, env: Envelope<NodeHealthChanged>) {
  const d = env.data;
  return svc.record(env, d.host, { kind: 'health', healthy: d.healthy, unhealthyContainers: d.unhealthyContainers, at: Number(d.checkedAtMs) }, `health~${env.id}`);
}

describe('MonitoringService: degraded and recovered', () => {
  it('publishes NodeDegraded then NodeRecovered once each, never NodeReady again, and shows the state over gRPC and the dashboard', async () => {
    const repo = new Repo();
    const svc = new MonitoringService(repo);
    await readyNode(svc);
    expect(repo.store.eventsOfType(Events.NodeReady.type)).toHaveLength(1);

    const sick = health(false, 10_000);
    expect(await feed(svc, sick)).toBe('applied');
    // the same event redelivered: the inbox makes it a duplicate, nothing published twice
    expect(await feed(svc, sick)).toBe('duplicate');
    const degraded = repo.store.eventsOfType(Events.NodeDegraded.type);
    expect(degraded).toHaveLength(1);
    expect(degraded[0]!.data).toEqual({ host, reasons: ['nova_compute (nova) unhealthy'] });
    expect(degraded[0]!.causationId).toBe(sick.id);

    const row = await svc.get(host.hostId);
    expect(toProto(row)).toMatchObject({ state: NodeState.NODE_STATE_DEGRADED, degradedReasons: ['nova_compute (nova) unhealthy'], degradedSinceMs: 10_000 });
    expect(nodeView(row)).toMatchObject({ state: 'degraded', degraded: { since: 10_000, containers: ['nova_compute'] } });

    await feed(svc, health(true, 40_000));
    const recovered = repo.store.eventsOfType(Events.NodeRecovered.type);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.data).toEqual({ host, degradedForMs: 30_000 });
    expect(repo.store.eventsOfType(Events.NodeReady.type)).toHaveLength(1);
    const back = await svc.get(host.hostId);
    expect(toProto(back)).toMatchObject({ state: NodeState.NODE_STATE_READY, degradedReasons: [], degradedSinceMs: 0 });
    expect(nodeView(back).degraded).toBeNull();
  });
});
