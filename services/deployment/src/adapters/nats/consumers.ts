import { Events } from '@stackyard/events';
import type { ConsumerSpec } from '@stackyard/nats';
import { stepConsumer } from '@stackyard/service';
import type { DeploymentService } from '../../application/deployment';
import type { HostConfigurations } from '../../application/host-configurations';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function deploymentConsumers(svc: DeploymentService, concurrency: number, configurations?: HostConfigurations): ConsumerSpec<any>[] {
  return [
    stepConsumer('deployment-on-network-configured', Events.NetworkConfigured, concurrency, (e, d) => svc.onNetworkConfigured(e, d), 8),
    stepConsumer('deployment-on-abort-requested', Events.NodeAbortRequested, concurrency, (e, d) => svc.onAbortRequested(e, d)),
    stepConsumer('deployment-on-retry-requested', Events.NodeRetryRequested, concurrency, (e, d) => svc.onRetryRequested(e, d), 8),
    // Quorum gating: the site's controllers, their own outcomes (consumed back) and released nodes.
    stepConsumer('deployment-on-host-registered', Events.HostRegistered, concurrency, (e, d) => svc.onHostRegistered(e, d)),
    stepConsumer(`deployment-on-${Events.ServicesDeployed.event}`, Events.ServicesDeployed, 4, (e, d) => svc.onControlPlaneChanged(e, d)),
    stepConsumer(`deployment-on-${Events.DeployFailed.event}`, Events.DeployFailed, 4, (e, d) => svc.onControlPlaneChanged(e, d)),
    stepConsumer(`deployment-on-${Events.ServicesRemoved.event}`, Events.ServicesRemoved, 4, (e, d) => svc.onControlPlaneChanged(e, d)),
    stepConsumer('deployment-on-released', Events.NodeDeploymentReleased, concurrency, (e, d) => svc.onReleased(e, d), 8),
    // The control plane released as one batch: its controllers deployed in one runtime call.
    stepConsumer('deployment-on-control-plane-released', Events.ControlPlaneReleased, 4, (e, d) => svc.onControlPlaneReleased(e, d), 8),
    // Host preparation: the imported Kayobe host configuration of every registered host.
    ...(configurations
      ? [
          stepConsumer('deployment-host-configuration-on-registered', Events.HostRegistered, concurrency, (e, d) => configurations.onHostRegistered(e, d)),
          stepConsumer('deployment-host-configuration-on-updated', Events.HostUpdated, concurrency, (e, d) => configurations.onHostUpdated(e, d)),
        ]
      : []),
  ];
}
