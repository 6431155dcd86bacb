import { ValidationError } from '@stackyard/errors';
import type { Envelope } from '@stackyard/events';
import type { HostDeleted } from '@stackyard/proto/inventory/v1/events';
import type { NodeDeploymentRepository } from './ports';

/**
 * HostDeleted (the inventory removed the host) -> its node deployment is no longer followed: one
 * revision sets state `removed` (with the inbox key), so the health watch (which checks `deployed`
 * nodes) stops checking it, quorum gating no longer counts it and later saga facts are ignored. The
 * containers on the machine are left as they are: DeleteHost does not undeploy. A host that never
 * reached deployment has no record: ignored. The record is marked `deleted`, so that if the host is
 * registered again its new NetworkConfigured deploys it afresh (an aborted node's facts stay ignored).
 */
export class HostDeletedHandler {
  constructor(private readonly nodes: NodeDeploymentRepository) {}

  async onHostDeleted(env: Envelope<HostDeleted>, ctx: { readonly appliedKey: string }): Promise<'applied' | 'duplicate' | 'ignored'> {
    const hostId = env.data.hostId || env.data.host?.id;
    if (!hostId) throw new ValidationError('host_id', 'HostDeleted without host id');
    const cur = await this.nodes.get(hostId);
    if (!cur) return 'ignored';
    if (cur.data.state === 'removed' && cur.data.deleted) return 'duplicate';
    const w = await this.nodes.save({ ...cur.data, state: 'removed', deleted: true }, cur.version, [], ctx.appliedKey);
    return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
  }
}
