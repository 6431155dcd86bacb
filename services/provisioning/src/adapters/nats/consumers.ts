import { Events, type EventType, type Envelope } from '@stackyard/events';
import { inboxKey } from '@stackyard/mongo';
import type { ConsumerSpec, HandlerContext } from '@stackyard/nats';
import type { ProvisioningService, StepContext, StepOutcome } from '../../application/provisioning';

function step<T>(
  durable: string,
  event: EventType<T>,
  concurrency: number,
  run: (env: Envelope<T>, ctx: StepContext) => Promise<StepOutcome>,
): ConsumerSpec<T> {
  return {
    durable,
    event,
    concurrency,
    maxDeliver: 8,
    handle: (env, ctx: HandlerContext) => run(env, { appliedKey: inboxKey(durable, env.id), lastAttempt: ctx.lastAttempt }),
  };
}

/** Limits: how many enrolments, inspections and deploys run at once in this replica. */
export interface ProvisioningLimits {
  readonly enroll: number;
  readonly inspect: number;
  readonly deploy: number;
}

export function provisioningConsumers(svc: ProvisioningService, limits: ProvisioningLimits) {
  return [
    step('provisioning-on-host-registered', Events.HostRegistered, limits.enroll, (e, c) => svc.onHostRegistered(e, c)),
    step('provisioning-on-node-enrolled', Events.NodeEnrolled, limits.inspect, (e, c) => svc.onNodeEnrolled(e, c)),
    step('provisioning-on-admin-address-allocated', Events.AdminAddressAllocated, limits.deploy, (e, c) => svc.onAdminAddressAllocated(e, c)),
    step('provisioning-on-retry-requested', Events.NodeRetryRequested, limits.enroll, (e, c) => svc.onRetryRequested(e, c)),
    step('provisioning-on-node-action-requested', Events.NodeActionRequested, limits.deploy, (e, c) => svc.onNodeActionRequested(e, c)),
    step('provisioning-on-addresses-released', Events.AddressesReleased, limits.deploy, (e, c) => svc.onAddressesReleased(e, c)),
  ];
}
