import { Events } from '@stackyard/events';
import { inboxKey } from '@stackyard/mongo';
import type { ConsumerSpec } from '@stackyard/nats';
import type { NodeDeprovisioned, NodeInspected } from '@stackyard/proto/provisioning/v1/events';
import type { NodeReady } from '@stackyard/proto/monitoring/v1/events';
import type { InventoryService } from '../../application/inventory';

export function inventoryConsumers(svc: InventoryService): ConsumerSpec<NodeInspected | NodeReady | NodeDeprovisioned>[] {
  const inspected = 'inventory-on-node-inspected';
  const ready = 'inventory-on-node-ready';
  const deprovisioned = 'inventory-on-node-deprovisioned';
  const outcome = (r: { outcome: string } | 'ignored') => (r === 'ignored' ? 'ignored' : r.outcome === 'duplicate' ? 'duplicate' : 'applied');
  const specs: [ConsumerSpec<NodeInspected>, ConsumerSpec<NodeReady>, ConsumerSpec<NodeDeprovisioned>] = [
    { durable: inspected, event: Events.NodeInspected, handle: async (env) => outcome(await svc.recordHardware(env, inboxKey(inspected, env.id))) },
    // The end of a saga: the host becomes ready, or aborted once the compensations ran (DeleteHost allowed).
    { durable: ready, event: Events.NodeReady, handle: async (env) => outcome(await svc.recordSagaEnd(env, 'ready', inboxKey(ready, env.id))) },
    {
      durable: deprovisioned,
      event: Events.NodeDeprovisioned,
      handle: async (env) => outcome(await svc.recordSagaEnd(env, 'aborted', inboxKey(deprovisioned, env.id))),
    },
  ];
  return specs as ConsumerSpec<NodeInspected | NodeReady | NodeDeprovisioned>[];
}
