import { Events, type EventType } from '@stackyard/events';
import { inboxKey } from '@stackyard/mongo';
import type { ConsumerSpec } from '@stackyard/nats';
import type { NetworkConfigured } from '@stackyard/proto/network/v1/events';
import type { NodeAbortRequested, NodeRetryRequested } from '@stackyard/proto/monitoring/v1/events';
import type { DeployFailed, NodeDeploymentReleased, ServicesDeployed, ServicesRemoved } from '@stackyard/proto/deployment/v1/events';
import type { HostRegistered } from '@stackyard/proto/inventory/v1/events';
import type { DeploymentService } from '../../application/deployment';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function deploymentConsumers(svc: DeploymentService, concurrency: number): ConsumerSpec<any>[] {
  const durable = 'deployment-on-network-configured';
  const onAbort = 'deployment-on-abort-requested';
  const abort: ConsumerSpec<NodeAbortRequested> = {
    durable: onAbort,
    event: Events.NodeAbortRequested,
    concurrency,
    handle: (env) => svc.onAbortRequested(env, { appliedKey: inboxKey(onAbort, env.id) }),
  };
  const deploy: ConsumerSpec<NetworkConfigured> = {
    durable,
    event: Events.NetworkConfigured,
    concurrency,
    maxDeliver: 8,
    handle: (env, ctx) => svc.onNetworkConfigured(env, { appliedKey: inboxKey(durable, env.id), lastAttempt: ctx.lastAttempt }),
  };
  const onRetry = 'deployment-on-retry-requested';
  const retry: ConsumerSpec<NodeRetryRequested> = {
    durable: onRetry,
    event: Events.NodeRetryRequested,
    concurrency,
    maxDeliver: 8,
    handle: (env, ctx) => svc.onRetryRequested(env, { appliedKey: inboxKey(onRetry, env.id), lastAttempt: ctx.lastAttempt }),
  };
  // Quorum gating: the site's controllers, their own outcomes (consumed back) and released nodes.
  const onRegistered = 'deployment-on-host-registered';
  const registered: ConsumerSpec<HostRegistered> = {
    durable: onRegistered,
    event: Events.HostRegistered,
    concurrency,
    handle: (env) => svc.onHostRegistered(env, { appliedKey: inboxKey(onRegistered, env.id) }),
  };
  const controlPlane = <T extends ServicesDeployed | DeployFailed | ServicesRemoved>(event: EventType<T>): ConsumerSpec<T> => {
    const name = `deployment-on-${event.event}`;
    return { durable: name, event, concurrency: 4, handle: (env) => svc.onControlPlaneChanged(env, { appliedKey: inboxKey(name, env.id) }) };
  };
  const onReleased = 'deployment-on-released';
  const released: ConsumerSpec<NodeDeploymentReleased> = {
    durable: onReleased,
    event: Events.NodeDeploymentReleased,
    concurrency,
    maxDeliver: 8,
    handle: (env, ctx) => svc.onReleased(env, { appliedKey: inboxKey(onReleased, env.id), lastAttempt: ctx.lastAttempt }),
  };
  return [deploy, abort, retry, registered, controlPlane(Events.ServicesDeployed), controlPlane(Events.DeployFailed), controlPlane(Events.ServicesRemoved), released];
}
