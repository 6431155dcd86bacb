import { unary } from '@stackyard/grpc';
import type { Logger } from '@stackyard/telemetry';
import { HostOutcome, NodeDeploymentState, type OperationResult as OperationResultPb } from '@stackyard/proto/deployment/v1/deployment';
import { DeploymentServiceService, type DeploymentServiceServer } from '@stackyard/proto/deployment/v1/deployment_service';
import type { DeploymentService } from '../../application/deployment';
import type { SiteOperations } from '../../application/operations';
import type { OperationResult } from '../../application/ports';

const OUTCOMES = {
  ok: HostOutcome.HOST_OUTCOME_OK,
  failed: HostOutcome.HOST_OUTCOME_FAILED,
  unreachable: HostOutcome.HOST_OUTCOME_UNREACHABLE,
  incomplete: HostOutcome.HOST_OUTCOME_INCOMPLETE,
} as const;

const STATES = {
  // Host prepared, the services deploy next.
  prepared: NodeDeploymentState.NODE_DEPLOYMENT_STATE_DEPLOYING,
  waiting: NodeDeploymentState.NODE_DEPLOYMENT_STATE_WAITING,
  // Released by the quorum gate, its deployment queued.
  released: NodeDeploymentState.NODE_DEPLOYMENT_STATE_DEPLOYING,
  deploying: NodeDeploymentState.NODE_DEPLOYMENT_STATE_DEPLOYING,
  deployed: NodeDeploymentState.NODE_DEPLOYMENT_STATE_DEPLOYED,
  failed: NodeDeploymentState.NODE_DEPLOYMENT_STATE_FAILED,
  removed: NodeDeploymentState.NODE_DEPLOYMENT_STATE_REMOVED,
} as const;

function toPb(r: OperationResult): OperationResultPb {
  return {
    siteId: r.siteId,
    action: r.action,
    release: r.release,
    succeeded: r.succeeded,
    hosts: r.hosts.map((h) => ({ host: h.host, outcome: OUTCOMES[h.outcome], failure: h.failure })),
  };
}

export function deploymentGrpc(svc: DeploymentService, ops: SiteOperations, log: Logger) {
  const impl: DeploymentServiceServer = {
    getNodeDeployment: unary(log, async (req) => {
      const d = await svc.get(req.hostId);
      return {
        deployment: {
          host: d.data.host,
          state: STATES[d.data.state],
          containers: [...d.data.containers],
          lastFailure: d.data.lastFailure,
          version: d.version,
          waiting: d.data.waiting,
          hostPrep: d.data.hostPrep ? { changed: [...d.data.hostPrep.changed], unchangedCount: d.data.hostPrep.unchangedCount, preparedAt: d.data.hostPrep.at } : undefined,
        },
      };
    }),
    diffConfig: unary(log, async (req) => {
      const d = await ops.diffConfig(req.siteId);
      return { diff: d.diff, changedFiles: [...d.changedFiles], appliedAt: d.appliedAt };
    }),
    reconfigure: unary(log, async (req) => ({ result: toPb(await ops.reconfigure(req.siteId, req.requestId)) })),
    upgrade: unary(log, async (req) => ({ result: toPb(await ops.upgrade(req.siteId, req.release, req.requestId)) })),
    destroy: unary(log, async (req) => ({ result: toPb(await ops.destroy(req.siteId, req.confirm, req.requestId)) })),
  };
  return { name: 'stackyard.deployment.v1.DeploymentService', definition: DeploymentServiceService, impl };
}
