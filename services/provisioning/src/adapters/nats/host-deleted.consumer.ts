import { Events } from '@stackyard/events';
import { stepConsumer } from '@stackyard/service';
import type { HostDeletedHandler } from '../../application/host-deleted';

/** `provisioning-on-host-deleted`: the inventory deleted a host -> the node is no longer tracked. */
export function hostDeletedConsumer(handler: HostDeletedHandler) {
  return stepConsumer('provisioning-on-host-deleted', Events.HostDeleted, 8, (e, c) => handler.onHostDeleted(e, c), 8);
}
