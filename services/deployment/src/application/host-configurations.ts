/**
 * The host configurations of imported Kayobe configurations, as the inventory publishes them
 * (event-carried state: `Host.configuration` in HostRegistered and HostUpdated). Host preparation
 * reads them (./host-prep.ts). Every registered host gets a record, with or without a configuration,
 * so that a missing record means "HostRegistered not consumed yet"; an event about an older version of
 * the inventory host than the recorded one changes nothing.
 */
import { ConcurrencyError, ValidationError } from '@stackyard/errors';
import type { Envelope } from '@stackyard/events';
import type { HostRegistered, HostUpdated } from '@stackyard/proto/inventory/v1/events';
import type { Host } from '@stackyard/proto/inventory/v1/inventory';
import type { HostConfigurationRecord, HostConfigurationRepository } from './ports';

export class HostConfigurations {
  constructor(private readonly repo: HostConfigurationRepository) {}

  get(hostId: string) {
    return this.repo.get(hostId);
  }

  async onHostRegistered(env: Envelope<HostRegistered>, ctx: { appliedKey: string }): Promise<'applied' | 'duplicate' | 'ignored'> {
    if (!env.data.host) throw new ValidationError('host', 'HostRegistered without host');
    return this.record(env.data.host, ctx.appliedKey);
  }

  /** HostUpdated: only when its configuration changed (a re-import), or for a host not recorded yet. */
  async onHostUpdated(env: Envelope<HostUpdated>, ctx: { appliedKey: string }): Promise<'applied' | 'duplicate' | 'ignored'> {
    if (!env.data.host) throw new ValidationError('host', 'HostUpdated without host');
    if (!env.data.changedFields.includes('configuration')) return 'ignored';
    return this.record(env.data.host, ctx.appliedKey);
  }

  private async record(h: Host, appliedKey: string): Promise<'applied' | 'duplicate' | 'ignored'> {
    const r: HostConfigurationRecord = { hostId: h.id, siteId: h.siteId, hostVersion: h.version, ...(h.configuration ? { configuration: h.configuration } : {}) };
    // Create first: a host's first record is the common case (a lookup that misses saved); a host
    // recorded before conflicts, and is then read and compared.
    try {
      const w = await this.repo.save(r, undefined, appliedKey);
      return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
    } catch (e) {
      if (!(e instanceof ConcurrencyError)) throw e;
    }
    const existing = await this.repo.get(h.id);
    if (existing && existing.data.hostVersion >= h.version) return 'ignored';
    const w = await this.repo.save(r, existing?.version, appliedKey);
    return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
  }
}
