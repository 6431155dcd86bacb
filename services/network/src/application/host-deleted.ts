import { ValidationError } from '@stackyard/errors';
import type { Envelope } from '@stackyard/events';
import type { HostDeleted } from '@stackyard/proto/inventory/v1/events';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { AllocationRepository, HostConfigRepository } from './ports';

/**
 * HostDeleted (the inventory removed the host) -> its addresses go back to the pools: every
 * allocation of the host is released (imported ones too), then one host-config revision records
 * `released` + `deleted` with the inbox key. No event: AddressesReleased is the abort's compensation
 * and would make provisioning deprovision the machine, which DeleteHost does not do.
 *
 * Redelivery after a crash between the two writes releases nothing more and writes the tombstone;
 * a host the network never saw (recorded only, no allocation) is ignored. A later registration of
 * the same id starts afresh (NodeInspected reserves again).
 */
export class HostDeletedHandler {
  constructor(
    private readonly allocations: AllocationRepository,
    private readonly configs: HostConfigRepository,
  ) {}

  async onHostDeleted(env: Envelope<HostDeleted>, ctx: { readonly appliedKey: string }): Promise<'applied' | 'duplicate' | 'ignored'> {
    const hostId = env.data.hostId || env.data.host?.id;
    const siteId = env.data.siteId || env.data.host?.siteId;
    if (!hostId || !siteId) throw new ValidationError('host_id', 'HostDeleted without host and site ids');
    const existing = await this.configs.get(hostId);
    if (existing?.data.deleted) return 'duplicate';
    const held = await this.allocations.listHost(hostId);
    if (!existing && held.length === 0) return 'ignored';
    await this.allocations.releaseHost(siteId, hostId);
    const h = env.data.host;
    const host: HostRef = existing?.data.host ?? { hostId, siteId, name: h?.name ?? '', groups: [...(h?.groups ?? [])] };
    const w = await this.configs.save({ host, allocations: [], files: [], state: 'released', deleted: true }, existing?.version, [], ctx.appliedKey);
    return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
  }
}
