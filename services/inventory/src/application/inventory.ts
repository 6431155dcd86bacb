import { AlreadyExistsError, NotFoundError, ValidationError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { Host } from '@stackyard/proto/inventory/v1/inventory';
import type { NodeInspected } from '@stackyard/proto/provisioning/v1/events';
import { newHost, refOf, validateRegistration, withHardware, type RegisterHostInput } from '../domain/host';
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
    const id = validateRegistration(input);
    if (!(await this.sites.get(input.siteId))) throw new ValidationError('site_id', `site "${input.siteId}" does not exist`);
    const host = newHost(id, input);
    const event = newEvent({ type: Events.HostRegistered, site: host.siteId, entityId: id, service: SERVICE, data: { host } });
    try {
      await this.hosts.create(host, [event]);
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      const existing = await this.hosts.get(id);
      if (existing && sameRegistration(existing.data, host)) return { ...existing.data, version: existing.version };
      throw e;
    }
    return { ...host, version: 1 };
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

function sameRegistration(a: Host, b: Host): boolean {
  const strip = (h: Host) => JSON.stringify({ ...h, version: 0, hardware: undefined });
  return strip(a) === strip(b);
}

export { refOf };
