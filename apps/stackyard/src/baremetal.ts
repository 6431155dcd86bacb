import { call, insecure, withToken } from '@stackyard/grpc';
import { ProvisionState, type Node } from '@stackyard/proto/provisioning/v1/provisioning';
import { ProvisioningServiceClient } from '@stackyard/proto/provisioning/v1/provisioning_service';
import { isRefusal } from './access';
import { describeCallError } from './config-import';
import { table } from './output';

/** `stackyard baremetal HOST_ID ACTION | baremetal queue`: talk to a running provisioning service. */
export interface BaremetalOptions {
  readonly provisioning: string;
  readonly token: string | undefined;
  /** Channel credentials (TLS, mutual TLS); plaintext when absent. */
  readonly credentials?: ReturnType<typeof insecure> | undefined;
  readonly json: boolean;
  /** Wait until the action has finished and report how it ended. */
  readonly wait: boolean;
  readonly timeoutMs?: number;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** CLI spelling of the actions: Ironic's verbs, and power-on/power-off/reboot. */
export const BAREMETAL_ACTIONS = ['manage', 'inspect', 'provide', 'deploy', 'undeploy', 'power-on', 'power-off', 'reboot'] as const;

export function stateText(s: ProvisionState): string {
  return ProvisionState[s]?.replace(/^PROVISION_STATE_/, '').toLowerCase().replace(/_/g, ' ').replace('wait call back', 'wait call-back') ?? String(s);
}

function nodeJson(n: Node) {
  return {
    hostId: n.host?.hostId,
    name: n.host?.name,
    state: stateText(n.state),
    power: n.power || null,
    pendingAction: n.pendingAction || null,
    allowedActions: n.allowedActions,
    failure: n.lastFailure ?? null,
  };
}

async function guarded(o: BaremetalOptions, fn: (c: ProvisioningServiceClient) => Promise<number>): Promise<number> {
  const c = new ProvisioningServiceClient(o.provisioning, o.credentials ?? insecure());
  try {
    return await fn(c);
  } catch (e) {
    o.err(`stackyard: ${describeCallError(e, o.provisioning, 'provisioning')}`);
    const code = (e as { code?: number }).code;
    return code === 3 /* INVALID_ARGUMENT */ ? 64 : code === 5 /* NOT_FOUND */ || code === 9 /* FAILED_PRECONDITION */ || isRefusal(code) ? 1 : 3;
  } finally {
    c.close();
  }
}

/**
 * Asks for one action on one node. Exit codes: 0 accepted (or, with --wait, finished well), 1 refused
 * by the state machine or failed, 2 still running at the timeout, 3 service unreachable, 64 usage.
 */
export function baremetalAction(hostId: string, action: string, o: BaremetalOptions): Promise<number> {
  return guarded(o, async (c) => {
    const meta = o.token ? { metadata: withToken(o.token) } : {};
    const r = await call(c, c.nodeAction, { hostId, action: action.replace('-', ' ') }, meta);
    const name = r.node?.host?.name ?? hostId;
    if (!o.wait) {
      if (o.json) o.out(JSON.stringify({ requestId: r.requestId, ...nodeJson(r.node!) }));
      else o.out(`${name}: ${action} requested (${r.requestId}); \`stackyard baremetal ${hostId} show\` follows it`);
      return 0;
    }
    const deadline = Date.now() + (o.timeoutMs ?? 30 * 60_000);
    for (;;) {
      const n = (await call(c, c.getNode, { hostId }, meta)).node!;
      if (n.lastAction?.requestId === r.requestId) {
        const failed = n.lastAction.failure;
        if (o.json) o.out(JSON.stringify(nodeJson(n)));
        else if (failed) o.out(`${name}: ${action} failed: ${failed.reason}: ${failed.message} (now ${stateText(n.state)})`);
        else o.out(`${name}: ${action} done: ${stateText(n.state)}, power ${n.power || 'unknown'}`);
        return failed ? 1 : 0;
      }
      if (Date.now() > deadline) {
        o.err(`stackyard: ${name}: ${action} still running after ${Math.round((o.timeoutMs ?? 0) / 1000)} s`);
        return 2;
      }
      await new Promise((res) => setTimeout(res, 500));
    }
  });
}

/** One node's provisioning view: state, power, what it allows, the last failure. */
export function baremetalShow(hostId: string, o: BaremetalOptions): Promise<number> {
  return guarded(o, async (c) => {
    const n = (await call(c, c.getNode, { hostId }, o.token ? { metadata: withToken(o.token) } : {})).node!;
    if (o.json) {
      o.out(JSON.stringify(nodeJson(n)));
      return 0;
    }
    o.out(`${n.host?.name} (${hostId}) driver ${n.driver}, BMC ${n.bmcAddress}`);
    o.out(`  state   ${stateText(n.state)}${n.pendingAction ? ` (${n.pendingAction} under way)` : ''}${n.aborted ? ' (aborted)' : ''}`);
    o.out(`  power   ${n.power || 'unknown'}`);
    o.out(`  allowed ${n.allowedActions.map((a) => a.replace(' ', '-')).join(', ') || 'nothing now'}`);
    if (n.lastFailure) o.out(`  failed  ${n.lastFailure.step}: ${n.lastFailure.reason}: ${n.lastFailure.message}`);
    return 0;
  });
}

/** The work queue: what holds and what waits for each limit. */
export function baremetalQueue(o: BaremetalOptions): Promise<number> {
  return guarded(o, async (c) => {
    const q = await call(c, c.getWorkQueue, {}, o.token ? { metadata: withToken(o.token) } : {});
    if (o.json) {
      o.out(JSON.stringify(q.limits));
      return 0;
    }
    if (q.limits.length === 0) {
      o.out('no driver work yet');
      return 0;
    }
    for (const l of table([['LIMIT', 'IN FLIGHT', 'QUEUED', 'WAITING'], ...q.limits.map((l) => [l.name, `${l.inFlight}/${l.limit >= 2 ** 31 - 1 ? '∞' : l.limit}`, String(l.queued.length), l.queued.slice(0, 5).join(', ') + (l.queued.length > 5 ? ', ...' : '')])])) o.out(l);
    return 0;
  });
}
