import { Events } from '@stackyard/events';
import { stepConsumer } from '@stackyard/service';
import type { HostDeletedHandler } from '../../application/host-deleted';

/** `deployment-on-host-deleted`: the inventory deleted a host -> its node deployment is no longer followed. */
export function hostDeletedConsumer(handler: HostDeletedHandler) {
  return stepConsumer('deployment-on-host-deleted', Events.HostDeleted, 8, (e, c) => handler.onHostDeleted(e, c), 8);
}
