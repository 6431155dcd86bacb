import { Events } from '@stackyard/events';
import type { ConsumerSpec } from '@stackyard/nats';
import { stepConsumer } from '@stackyard/service';
import type { NetworkService } from '../../application/network';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function networkConsumers(svc: NetworkService, concurrency: number): ConsumerSpec<any>[] {
  return [
    stepConsumer('network-on-node-inspected', Events.NodeInspected, concurrency, (e, d) => svc.onNodeInspected(e, d), 8),
    stepConsumer('network-on-node-provisioned', Events.NodeProvisioned, concurrency, (e, d) => svc.onNodeProvisioned(e, d), 8),
    stepConsumer('network-on-services-removed', Events.ServicesRemoved, concurrency, (e, d) => svc.onServicesRemoved(e, d)),
    stepConsumer('network-on-retry-requested', Events.NodeRetryRequested, concurrency, (e, d) => svc.onRetryRequested(e, d), 8),
  ];
}
