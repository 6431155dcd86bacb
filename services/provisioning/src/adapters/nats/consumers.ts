import { Events } from '@stackyard/events';
import { stepConsumer } from '@stackyard/service';
import type { ProvisioningService } from '../../application/provisioning';

/** Limits: how many enrolments, inspections and deploys run at once in this replica. */
export interface ProvisioningLimits {
  readonly enroll: number;
  readonly inspect: number;
  readonly deploy: number;
}

/** Every provisioning step is delivered at most 8 times; the last delivery records a failure. */
export function provisioningConsumers(svc: ProvisioningService, limits: ProvisioningLimits) {
  return [
    stepConsumer('provisioning-on-host-registered', Events.HostRegistered, limits.enroll, (e, c) => svc.onHostRegistered(e, c), 8),
    stepConsumer('provisioning-on-node-enrolled', Events.NodeEnrolled, limits.inspect, (e, c) => svc.onNodeEnrolled(e, c), 8),
    stepConsumer('provisioning-on-admin-address-allocated', Events.AdminAddressAllocated, limits.deploy, (e, c) => svc.onAdminAddressAllocated(e, c), 8),
    stepConsumer('provisioning-on-retry-requested', Events.NodeRetryRequested, limits.enroll, (e, c) => svc.onRetryRequested(e, c), 8),
    stepConsumer('provisioning-on-node-action-requested', Events.NodeActionRequested, limits.deploy, (e, c) => svc.onNodeActionRequested(e, c), 8),
    stepConsumer('provisioning-on-addresses-released', Events.AddressesReleased, limits.deploy, (e, c) => svc.onAddressesReleased(e, c), 8),
  ];
}
