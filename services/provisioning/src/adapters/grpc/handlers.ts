import { ValidationError } from '@stackyard/errors';
import { unary } from '@stackyard/grpc';
import type { Logger } from '@stackyard/telemetry';
import { ProvisionState, type Node } from '@stackyard/proto/provisioning/v1/provisioning';
import { ProvisioningServiceService, type ProvisioningServiceServer } from '@stackyard/proto/provisioning/v1/provisioning_service';
import type { ProvisioningService } from '../../application/provisioning';
import type { NodeData, State } from '../../domain/node';

const TO_PROTO: Record<State, ProvisionState> = {
  enroll: ProvisionState.PROVISION_STATE_ENROLL,
  'enroll failed': ProvisionState.PROVISION_STATE_ENROLL_FAILED,
  manageable: ProvisionState.PROVISION_STATE_MANAGEABLE,
  inspecting: ProvisionState.PROVISION_STATE_INSPECTING,
  'inspect failed': ProvisionState.PROVISION_STATE_INSPECT_FAILED,
  available: ProvisionState.PROVISION_STATE_AVAILABLE,
  deploying: ProvisionState.PROVISION_STATE_DEPLOYING,
  'deploy failed': ProvisionState.PROVISION_STATE_DEPLOY_FAILED,
  active: ProvisionState.PROVISION_STATE_ACTIVE,
  deleting: ProvisionState.PROVISION_STATE_DELETING,
  cleaning: ProvisionState.PROVISION_STATE_CLEANING,
};

function toProto(n: { data: NodeData; version: number }): Node {
  return {
    host: n.data.host,
    state: TO_PROTO[n.data.state],
    driver: n.data.driver,
    hardware: n.data.hardware,
    lastFailure: n.data.lastFailure,
    version: n.version,
    bmcAddress: n.data.bmcAddress,
    aborted: n.data.aborted ?? false,
  };
}

export function provisioningGrpc(svc: ProvisioningService, log: Logger) {
  const impl: ProvisioningServiceServer = {
    getNode: unary(log, async (req) => ({ node: toProto(await svc.getNode(req.hostId)) })),
    listNodes: unary(log, async (req) => {
      let state: string | undefined;
      if (req.state !== ProvisionState.PROVISION_STATE_UNSPECIFIED) {
        state = (Object.keys(TO_PROTO) as State[]).find((k) => TO_PROTO[k] === req.state);
        if (!state) throw new ValidationError('state', `unknown provision state ${req.state}`);
      }
      const nodes = await svc.listNodes({ siteId: req.siteId || undefined, state });
      return { nodes: nodes.map(toProto) };
    }),
  };
  return { name: 'stackyard.provisioning.v1.ProvisioningService', definition: ProvisioningServiceService, impl };
}
