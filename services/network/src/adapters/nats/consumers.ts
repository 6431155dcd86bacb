import { Events } from '@stackyard/events';
import { inboxKey } from '@stackyard/mongo';
import type { ConsumerSpec } from '@stackyard/nats';
import type { NodeProvisioned } from '@stackyard/proto/provisioning/v1/events';
import type { NetworkService } from '../../application/network';

export function networkConsumers(svc: NetworkService, concurrency: number): ConsumerSpec<NodeProvisioned>[] {
  const durable = 'network-on-node-provisioned';
  return [
    {
      durable,
      event: Events.NodeProvisioned,
      concurrency,
      maxDeliver: 8,
      handle: (env, ctx) => svc.onNodeProvisioned(env, { appliedKey: inboxKey(durable, env.id), lastAttempt: ctx.lastAttempt }),
    },
  ];
}
