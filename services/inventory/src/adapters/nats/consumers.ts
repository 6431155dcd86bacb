import { Events } from '@stackyard/events';
import { inboxKey } from '@stackyard/mongo';
import type { ConsumerSpec } from '@stackyard/nats';
import type { NodeInspected } from '@stackyard/proto/provisioning/v1/events';
import type { InventoryService } from '../../application/inventory';

export function inventoryConsumers(svc: InventoryService): ConsumerSpec<NodeInspected>[] {
  const durable = 'inventory-on-node-inspected';
  return [
    {
      durable,
      event: Events.NodeInspected,
      handle: async (env) => {
        const r = await svc.recordHardware(env, inboxKey(durable, env.id));
        return r.outcome === 'duplicate' ? 'duplicate' : 'applied';
      },
    },
  ];
}
