import { Events } from '@stackyard/events';
import { inboxKey } from '@stackyard/mongo';
import type { ConsumerSpec } from '@stackyard/nats';
import type { ServicesRemoved } from '@stackyard/proto/deployment/v1/events';
import type { NodeRetryRequested } from '@stackyard/proto/monitoring/v1/events';
import type { NodeInspected, NodeProvisioned } from '@stackyard/proto/provisioning/v1/events';
import type { NetworkService } from '../../application/network';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function networkConsumers(svc: NetworkService, concurrency: number): ConsumerSpec<any>[] {
  const durable = 'network-on-node-provisioned';
  const onRemoved = 'network-on-services-removed';
  const configure: ConsumerSpec<NodeProvisioned> = {
    durable,
    event: Events.NodeProvisioned,
    concurrency,
    maxDeliver: 8,
    handle: (env, ctx) => svc.onNodeProvisioned(env, { appliedKey: inboxKey(durable, env.id), lastAttempt: ctx.lastAttempt }),
  };
  const release: ConsumerSpec<ServicesRemoved> = {
    durable: onRemoved,
    event: Events.ServicesRemoved,
    concurrency,
    handle: (env) => svc.onServicesRemoved(env, { appliedKey: inboxKey(onRemoved, env.id) }),
  };
  const onInspected = 'network-on-node-inspected';
  const reserve: ConsumerSpec<NodeInspected> = {
    durable: onInspected,
    event: Events.NodeInspected,
    concurrency,
    maxDeliver: 8,
    handle: (env, ctx) => svc.onNodeInspected(env, { appliedKey: inboxKey(onInspected, env.id), lastAttempt: ctx.lastAttempt }),
  };
  const onRetry = 'network-on-retry-requested';
  const retry: ConsumerSpec<NodeRetryRequested> = {
    durable: onRetry,
    event: Events.NodeRetryRequested,
    concurrency,
    maxDeliver: 8,
    handle: (env, ctx) => svc.onRetryRequested(env, { appliedKey: inboxKey(onRetry, env.id), lastAttempt: ctx.lastAttempt }),
  };
  return [reserve, configure, release, retry];
}
