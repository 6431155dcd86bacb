import { startService, type RunningService } from '@stackyard/service';
import type { Logger } from '@stackyard/telemetry';
import { DeploymentService } from './application/deployment';
import { deploymentGrpc } from './adapters/grpc/handlers';
import { LabRuntime } from './adapters/lab/lab-runtime';
import { MongoNodeDeploymentRepository } from './adapters/mongo/repository';
import { deploymentConsumers } from './adapters/nats/consumers';
import type { DeploymentConfig } from './config';

export function startDeployment(config: DeploymentConfig, opts: { log?: Logger } = {}): Promise<RunningService> {
  return startService(
    'deployment',
    config,
    (kit) => {
      const svc = new DeploymentService(
        new MongoNodeDeploymentRepository(kit.store('node_deployments', 'node deployment')),
        new LabRuntime(config.LAB_CONTAINER_LATENCY_MS, config.LAB_FAIL_HOSTS),
      );
      return { grpc: [deploymentGrpc(svc, kit.log)], consumers: deploymentConsumers(svc, config.MAX_NODES_IN_FLIGHT) };
    },
    opts,
  );
}
