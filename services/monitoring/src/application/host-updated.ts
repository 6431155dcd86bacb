import { ValidationError } from '@stackyard/errors';
import type { Envelope } from '@stackyard/events';
import type { HostUpdated } from '@stackyard/proto/inventory/v1/events';
import type { ProgressRepository } from './ports';

/**
 * HostUpdated with changed `groups` -> the node's projection shows the host's current groups (what
 * `stackyard nodes` and the dashboard print). Only the host reference changes, with the inbox key; the
 * saga's state and steps do not. An update older than the one applied (host version) is ignored, as
 * are hosts without a projection (recorded only) or dropped ones, and updates of other fields.
 */
export class HostUpdatedHandler {
  constructor(private readonly progress: ProgressRepository) {}

  async onHostUpdated(env: Envelope<HostUpdated>, appliedKey: string): Promise<'applied' | 'duplicate' | 'ignored'> {
    const h = env.data.host;
    if (!h?.id) throw new ValidationError('host', 'HostUpdated without host');
    if (!env.data.changedFields.includes('groups')) return 'ignored';
    const cur = await this.progress.get(h.id);
    if (!cur || cur.data.deleted) return 'ignored';
    if ((cur.data.hostVersion ?? 0) >= h.version) return 'duplicate';
    const host = { ...cur.data.host, name: h.name, groups: [...h.groups] };
    const w = await this.progress.save({ ...cur.data, host, hostVersion: h.version }, cur.version, [], appliedKey);
    return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
  }
}
