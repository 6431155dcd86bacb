import { ValidationError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { HostDeleted } from '@stackyard/proto/inventory/v1/events';
import type { NodeData } from '../domain/node';
import { SERVICE, type StepOutcome } from './provisioning';
import type { NodeRepository } from './ports';

/**
 * HostDeleted (the inventory removed the host: its saga had not started, had finished or was
 * aborted) -> provisioning stops tracking the node: one revision marks it `deleted` (and `aborted`,
 * so every later saga event or retry is ignored). An operator action still pending finishes now as
 * failed (NodeActionFinished, reason HostDeleted) in the same write, so nothing waits for it; an
 * action whose driver call is running loses its write (version conflict) and its redelivery finds no
 * pending action. The machine itself is left as it is (DeleteHost does not deprovision).
 */
export class HostDeletedHandler {
  constructor(private readonly nodes: NodeRepository) {}

  async onHostDeleted(env: Envelope<HostDeleted>, ctx: { readonly appliedKey: string }): Promise<StepOutcome> {
    const hostId = env.data.hostId || env.data.host?.id;
    if (!hostId) throw new ValidationError('host_id', 'HostDeleted without host id');
    const cur = await this.nodes.get(hostId);
    if (!cur) return 'ignored';
    if (cur.data.deleted) return 'duplicate';
    const n = cur.data;
    const events: Envelope[] = [];
    let lastAction = n.lastAction;
    if (n.pendingAction) {
      const failure = { step: n.pendingAction.verb, reason: 'HostDeleted', message: `host ${hostId} was deleted from the inventory before the action ran`, retryable: false };
      lastAction = { verb: n.pendingAction.verb, requestId: n.pendingAction.requestId, failure };
      events.push(
        newEvent({
          type: Events.NodeActionFinished,
          site: n.host.siteId,
          entityId: hostId,
          service: SERVICE,
          data: { host: n.host, action: n.pendingAction.verb, requestId: n.pendingAction.requestId, state: n.state, failure, power: n.power ?? '' },
          cause: env,
        }),
      );
    }
    const done: NodeData = { ...n, deleted: true, aborted: true, pendingAction: undefined, ...(lastAction ? { lastAction } : {}) };
    const w = await this.nodes.update(hostId, done, cur.version, events, ctx.appliedKey);
    return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
  }
}
