import { Events } from '@stackyard/events';
import { inboxKey } from '@stackyard/mongo';
import type { ConsumerSpec } from '@stackyard/nats';
import type { NetworkConfigured } from '@stackyard/proto/network/v1/events';
import type { DeploymentService } from '../../application/deployment';

export function deploymentConsumers(svc: DeploymentService, concurrency: number): ConsumerSpec<NetworkConfigured>[] {
  const durable = 'deployment-on-network-configured';
  return [
    {
      durable,
      event: Events.NetworkConfigured,
      concurrency,
      maxDeliver: 8,
      handle: (env, ctx) => svc.onNetworkConfigured(env, { appliedKey: inboxKey(durable, env.id), lastAttempt: ctx.lastAttempt }),
    },
  ];
}
