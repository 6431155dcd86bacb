import { unary } from '@stackyard/grpc';
import type { Logger } from '@stackyard/telemetry';
import { NodeDeploymentState } from '@stackyard/proto/deployment/v1/deployment';
import { DeploymentServiceService, type DeploymentServiceServer } from '@stackyard/proto/deployment/v1/deployment_service';
import type { DeploymentService } from '../../application/deployment';

export function deploymentGrpc(svc: DeploymentService, log: Logger) {
  const impl: DeploymentServiceServer = {
    getNodeDeployment: unary(log, async (req) => {
      const d = await svc.get(req.hostId);
      return {
        deployment: {
          host: d.data.host,
          state: d.data.state === 'deployed' ? NodeDeploymentState.NODE_DEPLOYMENT_STATE_DEPLOYED : NodeDeploymentState.NODE_DEPLOYMENT_STATE_FAILED,
          containers: [...d.data.containers],
          lastFailure: d.data.lastFailure,
          version: d.version,
        },
      };
    }),
  };
  return { name: 'stackyard.deployment.v1.DeploymentService', definition: DeploymentServiceService, impl };
}
