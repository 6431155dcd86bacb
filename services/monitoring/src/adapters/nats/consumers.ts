import { Events, type Envelope, type EventType } from '@stackyard/events';
import { inboxKey } from '@stackyard/mongo';
import type { ConsumerSpec } from '@stackyard/nats';
import type { NodeHealthChanged } from '@stackyard/proto/deployment/v1/events';
import type { Failure, HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { MonitoringService } from '../../application/monitoring';
import type { Fact, StepName } from '../../domain/progress';

type WithHost = { host?: HostRef | undefined; failure?: Failure | undefined; allocations?: { network: string; address: string }[] };

function on<T>(svc: MonitoringService, event: EventType<T>, hostOf: (d: T) => HostRef | undefined, step: Exclude<StepName, 'ready'> | 'failure' | 'aborted'): ConsumerSpec<T> {
  const durable = `monitoring-on-${event.context}-${event.event}`;
  return {
    durable,
    event,
    concurrency: 64,
    handle: (env: Envelope<T>) => {
      const at = Date.parse(env.time);
      const fact: Fact =
        step === 'aborted'
          ? { kind: 'aborted' as const, at }
          : step === 'failure'
          ? { kind: 'failure' as const, failure: (env.data as WithHost).failure ?? { step: '', reason: 'Unknown', message: '', retryable: false }, at }
          : {
              kind: 'step' as const,
              step,
              at,
              ...((env.data as WithHost).allocations ? { addresses: Object.fromEntries((env.data as WithHost).allocations!.map((a) => [a.network, a.address])) } : {}),
            };
      return svc.record(env, hostOf(env.data), fact, inboxKey(durable, env.id));
    },
  };
}

/** NodeHealthChanged -> a health fact at the check's time (ready <-> degraded). */
function onHealth(svc: MonitoringService): ConsumerSpec<NodeHealthChanged> {
  const event = Events.NodeHealthChanged;
  const durable = `monitoring-on-${event.context}-${event.event}`;
  return {
    durable,
    event,
    concurrency: 64,
    handle: (env: Envelope<NodeHealthChanged>) => {
      const d = env.data;
      const at = d.checkedAtMs ? Number(d.checkedAtMs) : Date.parse(env.time);
      const fact: Fact = { kind: 'health', healthy: d.healthy, unhealthyContainers: d.unhealthyContainers.map((c) => ({ service: c.service, name: c.name })), at };
      return svc.record(env, d.host, fact, inboxKey(durable, env.id));
    },
  };
}

/** Monitoring reacts to every saga fact, and to deployed nodes' health. */
export function monitoringConsumers(svc: MonitoringService): ConsumerSpec<unknown>[] {
  const ref = (d: WithHost) => d.host;
  const specs = [
    on(svc, Events.HostRegistered, (d) => d.host && { hostId: d.host.id, siteId: d.host.siteId, name: d.host.name, groups: d.host.groups }, 'registered'),
    on(svc, Events.NodeEnrolled, ref, 'enrolled'),
    on(svc, Events.NodeInspected, ref, 'inspected'),
    on(svc, Events.NodeProvisioned, ref, 'provisioned'),
    on(svc, Events.NetworkConfigured, ref, 'network-configured'),
    on(svc, Events.ServicesDeployed, ref, 'services-deployed'),
    on(svc, Events.ProvisioningFailed, ref, 'failure'),
    on(svc, Events.NetworkFailed, ref, 'failure'),
    on(svc, Events.DeployFailed, ref, 'failure'),
    on(svc, Events.NodeDeprovisioned, ref, 'aborted'),
    onHealth(svc),
  ];
  return specs as ConsumerSpec<unknown>[];
}
