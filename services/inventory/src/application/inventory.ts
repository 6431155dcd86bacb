import { AlreadyExistsError, ConcurrencyError, NotFoundError, ValidationError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { Host } from '@stackyard/proto/inventory/v1/inventory';
import type { NodeInspected } from '@stackyard/proto/provisioning/v1/events';
import { IMPORTED_FROM_LABEL, newHost, refOf, validateRegistration, withHardware, type RegisterHostInput } from '../domain/host';
import { validateSite, type SiteData } from '../domain/site';
import type { HostRepository, SiteRepository, Write } from './ports';

export const SERVICE = 'inventory';

export class InventoryService {
  constructor(
    private readonly sites: SiteRepository,
    private readonly hosts: HostRepository,
  ) {}

  async createSite(id: string, displayName: string): Promise<SiteData> {
    const site = validateSite(id, displayName);
    await this.sites.create(site);
    return site;
  }

  async getSite(id: string): Promise<{ data: SiteData; version: number }> {
    const s = await this.sites.get(id);
    if (!s) throw new NotFoundError('site', id);
    return s;
  }

  /**
   * Registers a host and emits HostRegistered, which starts its saga. A retry of the same
   * registration (same request) returns the existing host; a different one is AlreadyExists.
   */
  async registerHost(input: RegisterHostInput): Promise<Host> {
    return (await this.register(input)).host;
  }

  /**
   * RegisterHost, also telling whether this call started the saga. A host only recorded by an
   * import (same registration) is registered now: its next revision carries HostRegistered, written
   * with the inbox key `registered`, so two racing registrations emit it once.
   */
  async register(input: RegisterHostInput): Promise<{ host: Host; started: boolean }> {
    const id = validateRegistration(input);
    if (!(await this.sites.get(input.siteId))) throw new ValidationError('site_id', `site "${input.siteId}" does not exist`);
    const host = newHost(id, input);
    const registered = (h: Host) => newEvent({ type: Events.HostRegistered, site: h.siteId, entityId: id, service: SERVICE, data: { host: h } });
    try {
      await this.hosts.create(host, [registered(host)]);
      return { host: { ...host, version: 1 }, started: true };
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
    }
    for (let attempt = 0; ; attempt++) {
      const existing = await this.hosts.get(id);
      if (!existing || !sameRegistration(existing.data, host)) throw new AlreadyExistsError('host', id);
      if (existing.registered !== false) return { host: { ...existing.data, version: existing.version }, started: false };
      try {
        const w = await this.hosts.update(existing.data, existing.version, [registered(existing.data)], 'registered', true);
        if (w.outcome === 'written') return { host: { ...existing.data, version: w.version }, started: true };
      } catch (e) {
        if (!(e instanceof ConcurrencyError) || attempt >= 4) throw e;
      }
    }
  }

  /**
   * Records a host without starting its saga (a Kayobe import without register_hosts): no event.
   * The BMC may be missing. Recording the same host again returns it; other content is AlreadyExists.
   */
  async recordHost(input: RegisterHostInput): Promise<{ host: Host; registered: boolean }> {
    const id = validateRegistration(input, { requireBmc: false });
    if (!(await this.sites.get(input.siteId))) throw new ValidationError('site_id', `site "${input.siteId}" does not exist`);
    const host = newHost(id, input);
    try {
      await this.hosts.create(host, [], false);
      return { host: { ...host, version: 1 }, registered: false };
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      const existing = await this.hosts.get(id);
      if (existing && sameRegistration(existing.data, host)) {
        return { host: { ...existing.data, version: existing.version }, registered: existing.registered !== false };
      }
      throw e;
    }
  }

  /** The stored host and whether its saga started, or null. */
  findHost(id: string) {
    return this.hosts.get(id);
  }

  async getHost(id: string): Promise<Host> {
    const h = await this.hosts.get(id);
    if (!h) throw new NotFoundError('host', id);
    return { ...h.data, version: h.version };
  }

  async listHosts(filter: { siteId?: string; group?: string }, pageSize: number, pageToken: string) {
    if (pageSize < 0 || pageSize > 1000) throw new ValidationError('page_size', 'must be between 0 and 1000');
    const limit = pageSize || 100;
    const hosts = await this.hosts.list(filter, pageToken || undefined, limit + 1);
    const page = hosts.slice(0, limit);
    return { hosts: page, nextPageToken: hosts.length > limit ? page[page.length - 1]!.id : '' };
  }

  /** Records hardware facts from inspection (consumer of NodeInspected). */
  async recordHardware(event: Envelope<NodeInspected>, appliedKey: string): Promise<Write> {
    const ref = event.data.host;
    if (!ref) throw new ValidationError('host', 'NodeInspected without host');
    const h = await this.hosts.get(ref.hostId);
    if (!h) throw new NotFoundError('host', ref.hostId);
    const hardware = event.data.hardware;
    if (!hardware) throw new ValidationError('hardware', 'NodeInspected without hardware facts');
    const recorded = newEvent({
      type: Events.HostHardwareRecorded,
      site: h.data.siteId,
      entityId: h.data.id,
      service: SERVICE,
      data: { hostId: h.data.id, siteId: h.data.siteId, hardware },
      cause: event,
    });
    return this.hosts.update(withHardware(h.data, hardware), h.version, [recorded], appliedKey);
  }
}

/**
 * Same registration: everything but version, hardware and the import provenance label (a host
 * keeps the label of the import that first recorded it).
 */
export function sameRegistration(a: Host, b: Host): boolean {
  const strip = (h: Host) => {
    const labels = Object.fromEntries(Object.entries(h.labels).filter(([k]) => k !== IMPORTED_FROM_LABEL).sort(([x], [y]) => (x < y ? -1 : 1)));
    const bmc = h.bmc ? { address: h.bmc.address, driver: h.bmc.driver, credentialRef: h.bmc.credentialRef } : null;
    return JSON.stringify({ id: h.id, siteId: h.siteId, name: h.name, groups: h.groups, bmc, labels, hardwareProfile: h.hardwareProfile });
  };
  return strip(a) === strip(b);
}

export { refOf };
