import { ValidationError } from '@stackyard/errors';
import { uuidv7 } from '@stackyard/events';
import { unary } from '@stackyard/grpc';
import type { Logger } from '@stackyard/telemetry';
import { ProvisionState, type Node } from '@stackyard/proto/provisioning/v1/provisioning';
import { ProvisioningServiceService, type ProvisioningServiceServer } from '@stackyard/proto/provisioning/v1/provisioning_service';
import { OPERATOR_VERBS, POWER_ACTIONS, type ProvisioningService } from '../../application/provisioning';
import { next, STABLE_STATES, type NodeData, type State } from '../../domain/node';

const TO_PROTO: Record<State, ProvisionState> = {
  enroll: ProvisionState.PROVISION_STATE_ENROLL,
  verifying: ProvisionState.PROVISION_STATE_VERIFYING,
  manageable: ProvisionState.PROVISION_STATE_MANAGEABLE,
  inspecting: ProvisionState.PROVISION_STATE_INSPECTING,
  'inspect wait': ProvisionState.PROVISION_STATE_INSPECT_WAIT,
  'inspect failed': ProvisionState.PROVISION_STATE_INSPECT_FAILED,
  cleaning: ProvisionState.PROVISION_STATE_CLEANING,
  'clean wait': ProvisionState.PROVISION_STATE_CLEAN_WAIT,
  'clean failed': ProvisionState.PROVISION_STATE_CLEAN_FAILED,
  available: ProvisionState.PROVISION_STATE_AVAILABLE,
  deploying: ProvisionState.PROVISION_STATE_DEPLOYING,
  'wait call-back': ProvisionState.PROVISION_STATE_WAIT_CALL_BACK,
  'deploy failed': ProvisionState.PROVISION_STATE_DEPLOY_FAILED,
  active: ProvisionState.PROVISION_STATE_ACTIVE,
  deleting: ProvisionState.PROVISION_STATE_DELETING,
  error: ProvisionState.PROVISION_STATE_ERROR,
};

/** What NodeAction accepts for a node now. */
function allowedActions(n: NodeData): string[] {
  if (n.aborted || n.pendingAction) return [];
  const verbs = OPERATOR_VERBS.filter((v) => next(n.state, v) !== undefined);
  const power = STABLE_STATES.includes(n.state) || n.state.endsWith('failed') ? [...POWER_ACTIONS] : [];
  return [...verbs, ...power];
}

function toProto(n: { data: NodeData; version: number }): Node {
  return {
    host: n.data.host,
    state: TO_PROTO[n.data.state] ?? ProvisionState.PROVISION_STATE_UNSPECIFIED,
    driver: n.data.driver,
    hardware: n.data.hardware,
    lastFailure: n.data.lastFailure,
    version: n.version,
    bmcAddress: n.data.bmcAddress,
    aborted: n.data.aborted ?? false,
    power: n.data.power ?? '',
    pendingAction: n.data.pendingAction?.verb ?? '',
    allowedActions: allowedActions(n.data),
    lastAction: n.data.lastAction ? { action: n.data.lastAction.verb, requestId: n.data.lastAction.requestId, failure: n.data.lastAction.failure } : undefined,
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
    nodeAction: unary(log, async (req) => {
      const requestId = uuidv7();
      const n = await svc.requestAction(req.hostId, req.action, requestId);
      return { node: toProto(n), requestId };
    }),
    getWorkQueue: unary(log, async () => ({
      limits: svc.workQueue().map((l) => ({ name: l.name, limit: Math.min(l.limit, 2 ** 31 - 1), inFlight: l.inFlight, queued: [...l.queued] })),
    })),
  };
  return { name: 'stackyard.provisioning.v1.ProvisioningService', definition: ProvisioningServiceService, impl };
}
