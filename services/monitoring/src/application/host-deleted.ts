import { ValidationError } from '@stackyard/errors';
import type { Envelope } from '@stackyard/events';
import type { HostDeleted } from '@stackyard/proto/inventory/v1/events';
import type { ProgressRepository } from './ports';

/**
 * HostDeleted (the inventory removed the host) -> the node's projection is dropped: one revision
 * marks it `deleted` (with the inbox key), after which GetNodeProgress is NOT_FOUND, ListNodeProgress,
 * WatchNodeProgress, the dashboard and the Prometheus targets leave it out, and later facts for it
 * change nothing until a new HostRegistered starts it afresh. A host that never started a saga
 * (recorded only) has no projection: ignored.
 */
export class HostDeletedHandler {
  constructor(private readonly progress: ProgressRepository) {}

  async onHostDeleted(env: Envelope<HostDeleted>, appliedKey: string): Promise<'applied' | 'duplicate' | 'ignored'> {
    const hostId = env.data.hostId || env.data.host?.id;
    if (!hostId) throw new ValidationError('host_id', 'HostDeleted without host id');
    const cur = await this.progress.get(hostId);
    if (!cur) return 'ignored';
    if (cur.data.deleted) return 'duplicate';
    const w = await this.progress.save({ ...cur.data, deleted: true }, cur.version, [], appliedKey);
    return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
  }
}
