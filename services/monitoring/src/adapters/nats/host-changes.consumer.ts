import { Events, type Envelope } from '@stackyard/events';
import { inboxKey } from '@stackyard/mongo';
import type { ConsumerSpec } from '@stackyard/nats';
import type { HostDeleted, HostUpdated } from '@stackyard/proto/inventory/v1/events';
import type { HostDeletedHandler } from '../../application/host-deleted';
import type { HostUpdatedHandler } from '../../application/host-updated';

/** `monitoring-on-inventory-deleted`: the inventory deleted a host -> its node progress is dropped. */
export function hostDeletedConsumer(handler: HostDeletedHandler): ConsumerSpec<HostDeleted> {
  const durable = 'monitoring-on-inventory-deleted';
  return { durable, event: Events.HostDeleted, concurrency: 16, handle: (env: Envelope<HostDeleted>) => handler.onHostDeleted(env, inboxKey(durable, env.id)) };
}

/** `monitoring-on-inventory-updated`: a host's groups changed -> its node progress shows them. */
export function hostUpdatedConsumer(handler: HostUpdatedHandler): ConsumerSpec<HostUpdated> {
  const durable = 'monitoring-on-inventory-updated';
  return { durable, event: Events.HostUpdated, concurrency: 16, handle: (env: Envelope<HostUpdated>) => handler.onHostUpdated(env, inboxKey(durable, env.id)) };
}
