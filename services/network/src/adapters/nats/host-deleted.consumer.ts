import { Events } from '@stackyard/events';
import { stepConsumer } from '@stackyard/service';
import type { HostDeletedHandler } from '../../application/host-deleted';

/** `network-on-host-deleted`: the inventory deleted a host -> its addresses are released. */
export function hostDeletedConsumer(handler: HostDeletedHandler) {
  return stepConsumer('network-on-host-deleted', Events.HostDeleted, 8, (e, c) => handler.onHostDeleted(e, c), 8);
}
