import { AlreadyExistsError, ConcurrencyError, NotFoundError, ValidationError } from '@stackyard/errors';
import { assertId, assertToken, Events, newEvent, type Envelope } from '@stackyard/events';
import type { Host } from '@stackyard/proto/inventory/v1/inventory';
import type { NodeDeprovisioned, NodeInspected } from '@stackyard/proto/provisioning/v1/events';
import type { NodeReady } from '@stackyard/proto/monitoring/v1/events';
import {
  applyUpdate,
  assertDeletable,
  changedFields,
  HOST_STATES,
  IMPORTED_FROM_LABEL,
  newHost,
  refOf,
  sagaEnded,
  validateRegistration,
  validateUpdateRequest,
  withHardware,
  type HostLifecycle,
  type RegisterHostInput,
  type ChangedField,
  type UpdateHostInput,
} from '../domain/host';
import { decodePageToken, encodePageToken, filterKeyOf, pageSizeOf, parseLabelSelector, type HostFilter } from '../domain/listing';
import { validateSite, type SiteData } from '../domain/site';
import { descendants } from '../domain/group';
import type { GroupRepository, HostChange, HostChangeFeed, HostRepository, SiteRepository, StoredHost, Write } from './ports';

export const SERVICE = 'inventory';

/** The API form of a stored host: its version and state set. */
export function apiHost(h: Pick<StoredHost, 'data' | 'version' | 'state'>): Host {
  return { ...h.data, version: h.version, state: HOST_STATES[h.state] };
}

export interface ListHostsQuery {
  readonly siteId?: string | undefined;
  readonly group?: string | undefined;
  readonly labelSelector?: string | undefined;
  readonly state?: HostLifecycle | undefined;
}

/** What WatchHosts sends: the current hosts, the end of that snapshot, then the change log. */
export type WatchItem =
  | { readonly kind: 'snapshot'; readonly revision: number; readonly host: Host }
  | { readonly kind: 'synced'; readonly revision: number }
  | { readonly kind: 'change'; readonly change: HostChange };

export class InventoryService {
  constructor(
    private readonly sites: SiteRepository,
    private readonly hosts: HostRepository,
    private readonly feed?: HostChangeFeed,
    /** Group records: ListHosts by group also finds the hosts of its descendant groups. */
    private readonly groups?: GroupRepository,
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
   * import (same registration), or a deleted one, is registered now by its next revision, which
   * carries HostRegistered; two racing registrations write that revision once (unique version).
   */
  async register(input: RegisterHostInput): Promise<{ host: Host; started: boolean }> {
    const id = validateRegistration(input);
    if (!(await this.sites.get(input.siteId))) throw new ValidationError('site_id', `site "${input.siteId}" does not exist`);
    const host = newHost(id, input);
    const registered = (h: Host, version: number) =>
      newEvent({ type: Events.HostRegistered, site: h.siteId, entityId: id, service: SERVICE, data: { host: apiHost({ data: h, version, state: 'registered' }) } });
    try {
      await this.hosts.create(host, [registered(host, 1)], 'registered');
      return { host: apiHost({ data: host, version: 1, state: 'registered' }), started: true };
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
    }
    for (let attempt = 0; ; attempt++) {
      const existing = await this.hosts.get(id);
      if (!existing) throw new AlreadyExistsError('host', id);
      const revive = existing.state === 'deleted';
      if (!revive && !sameRegistration(existing.data, host)) throw new AlreadyExistsError('host', id);
      if (!revive && existing.state !== 'recorded') return { host: apiHost(existing), started: false };
      const next = revive ? host : existing.data;
      try {
        const w = await this.hosts.update(next, existing.version, [registered(next, existing.version + 1)], undefined, 'registered');
        if (w.outcome === 'written') return { host: apiHost({ data: next, version: w.version, state: 'registered' }), started: true };
      } catch (e) {
        if (!(e instanceof ConcurrencyError) || attempt >= 4) throw e;
      }
    }
  }

  /**
   * Records a host without starting its saga (a Kayobe import without register_hosts) and emits
   * HostRecorded. The BMC may be missing. Recording the same host again returns it (no event);
   * other content is AlreadyExists. A deleted host is recorded again.
   */
  async recordHost(input: RegisterHostInput, importId = ''): Promise<{ host: Host; registered: boolean }> {
    const id = validateRegistration(input, { requireBmc: false });
    if (!(await this.sites.get(input.siteId))) throw new ValidationError('site_id', `site "${input.siteId}" does not exist`);
    const host = newHost(id, input);
    const recorded = (version: number) =>
      newEvent({ type: Events.HostRecorded, site: host.siteId, entityId: id, service: SERVICE, data: { host: apiHost({ data: host, version, state: 'recorded' }), importId } });
    try {
      await this.hosts.create(host, [recorded(1)], 'recorded');
      return { host: apiHost({ data: host, version: 1, state: 'recorded' }), registered: false };
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      const existing = await this.hosts.get(id);
      if (existing?.state === 'deleted') {
        await this.hosts.update(host, existing.version, [recorded(existing.version + 1)], undefined, 'recorded');
        return { host: apiHost({ data: host, version: existing.version + 1, state: 'recorded' }), registered: false };
      }
      if (existing && sameRegistration(existing.data, host)) return { host: apiHost(existing), registered: existing.registered };
      throw e;
    }
  }

  /**
   * Replaces a host's registration content (a re-import of a changed Kayobe configuration): groups,
   * BMC, profile and labels but Stackyard's own. Emits HostUpdated naming what changed; none: no write.
   */
  async replaceHost(input: RegisterHostInput, expectedVersion: number): Promise<{ host: Host; changed: ChangedField[] }> {
    const id = validateRegistration(input, { requireBmc: false });
    const existing = await this.live(id);
    if (existing.version !== expectedVersion) throw new ConcurrencyError('host', id, expectedVersion);
    const reserved = Object.entries(existing.data.labels).filter(([k]) => k === IMPORTED_FROM_LABEL);
    const next: Host = { ...newHost(id, input), hardware: existing.data.hardware, labels: { ...input.labels, ...Object.fromEntries(reserved) } };
    return this.writeUpdate(existing, next, ['labels', 'groups', 'bmc', 'hardware_profile', 'configuration']);
  }

  /** UpdateHost: the masked fields, at the caller's version (ConcurrencyError → ABORTED otherwise). */
  async updateHost(u: UpdateHostInput): Promise<Host> {
    const fields = validateUpdateRequest(u);
    const existing = await this.live(u.id);
    // Values first (every bad input names its field), then the version.
    const { host } = applyUpdate(existing.data, u, fields);
    if (existing.version !== u.version) throw new ConcurrencyError('host', u.id, u.version);
    return (await this.writeUpdate(existing, host, fields)).host;
  }

  private async writeUpdate(existing: StoredHost, next: Host, fields: readonly ChangedField[]): Promise<{ host: Host; changed: ChangedField[] }> {
    const changed = changedFields(existing.data, next).filter((f) => fields.includes(f));
    if (changed.length === 0) return { host: apiHost(existing), changed };
    const version = existing.version + 1;
    const after = apiHost({ data: next, version, state: existing.state });
    const updated = newEvent({ type: Events.HostUpdated, site: next.siteId, entityId: next.id, service: SERVICE, data: { host: after, changedFields: changed } });
    await this.hosts.update(next, existing.version, [updated], undefined, existing.state);
    return { host: after, changed };
  }

  /**
   * DeleteHost: only a host whose saga has not started (recorded), finished (ready) or was aborted;
   * a running saga is FAILED_PRECONDITION. Writes a tombstone revision carrying HostDeleted.
   */
  async deleteHost(id: string, version: number): Promise<Host> {
    if (!id) throw new ValidationError('id', 'required');
    assertId('id', id);
    if (!Number.isInteger(version) || version < 0) throw new ValidationError('version', 'must be 0 (any) or the version to delete');
    const existing = await this.live(id);
    if (version && existing.version !== version) throw new ConcurrencyError('host', id, version);
    assertDeletable(existing.data, existing.state);
    const before = apiHost(existing);
    const deleted = newEvent({ type: Events.HostDeleted, site: before.siteId, entityId: id, service: SERVICE, data: { hostId: id, siteId: before.siteId, host: before } });
    await this.hosts.update(existing.data, existing.version, [deleted], undefined, 'deleted');
    return before;
  }

  /** The stored host and whether its saga started, or null (also for a deleted host). */
  /** `cached`: for the event projections below (see HostRepository.get). */
  async findHost(id: string, opts: { cached?: boolean } = {}): Promise<StoredHost | null> {
    const h = await this.hosts.get(id, opts);
    return h && h.state !== 'deleted' ? h : null;
  }

  private async live(id: string): Promise<StoredHost> {
    const h = await this.findHost(id);
    if (!h) throw new NotFoundError('host', id);
    return h;
  }

  async getHost(id: string): Promise<Host> {
    return apiHost(await this.live(id));
  }

  /** ListHosts: filters, page size (0 → 100, above 500 → 500) and an opaque token bound to the filters. */
  async listHosts(q: ListHostsQuery, pageSize: number, pageToken: string): Promise<{ hosts: Host[]; nextPageToken: string }> {
    if (q.siteId) assertToken('site_id', q.siteId);
    if (q.group) assertToken('group', q.group);
    // With a site, a group expands to its descendants through the site's group records.
    const anyGroup = q.siteId && q.group && this.groups ? descendants(q.group, new Map((await this.groups.list(q.siteId, undefined)).map((g) => [g.data.name, g.data.children]))) : undefined;
    const filter: HostFilter = { siteId: q.siteId, group: q.group, anyGroup, labels: parseLabelSelector(q.labelSelector ?? ''), state: q.state };
    const limit = pageSizeOf(pageSize);
    const key = filterKeyOf(filter);
    const after = decodePageToken(pageToken, key);
    const rows = await this.hosts.list(filter, after, limit + 1);
    const page = rows.slice(0, limit);
    return { hosts: page.map(apiHost), nextPageToken: rows.length > limit ? encodePageToken(page[page.length - 1]!.data.id, key) : '' };
  }

  /** Records hardware facts from inspection (consumer of NodeInspected). */
  async recordHardware(event: Envelope<NodeInspected>, appliedKey: string): Promise<Write> {
    const ref = event.data.host;
    if (!ref) throw new ValidationError('host', 'NodeInspected without host');
    // A cached read is confirmed by the write (it conflicts if stale); "not found" is confirmed by a fresh read.
    const h = (await this.findHost(ref.hostId, { cached: true })) ?? (await this.live(ref.hostId));
    const hardware = event.data.hardware;
    if (!hardware) throw new ValidationError('hardware', 'NodeInspected without hardware facts');
    const next = withHardware(h.data, hardware);
    const recorded = newEvent({
      type: Events.HostHardwareRecorded,
      site: h.data.siteId,
      entityId: h.data.id,
      service: SERVICE,
      data: { hostId: h.data.id, siteId: h.data.siteId, hardware, host: apiHost({ data: next, version: h.version + 1, state: h.state }) },
      cause: event,
    });
    return this.hosts.update(next, h.version, [recorded], appliedKey, h.state);
  }

  /**
   * The end of a host's saga (consumers of NodeReady and NodeDeprovisioned): its state becomes ready
   * or aborted, with HostUpdated. Unknown or deleted hosts and facts that change nothing: `ignored`.
   */
  async recordSagaEnd(event: Envelope<NodeReady | NodeDeprovisioned>, fact: 'ready' | 'aborted', appliedKey: string): Promise<Write | 'ignored'> {
    const ref = event.data.host;
    if (!ref) throw new ValidationError('host', `${event.type} without host`);
    // A cached read is confirmed by the write (it conflicts if stale); ignoring the fact by a fresh read.
    const decide = async (cached: boolean) => {
      const h = await this.findHost(ref.hostId, { cached });
      return { h, state: h ? sagaEnded(h.state, fact) : undefined };
    };
    let { h, state } = await decide(true);
    if (!h || !state) ({ h, state } = await decide(false));
    if (!h || !state) return 'ignored';
    const updated = newEvent({
      type: Events.HostUpdated,
      site: h.data.siteId,
      entityId: h.data.id,
      service: SERVICE,
      data: { host: apiHost({ data: h.data, version: h.version + 1, state }), changedFields: ['state'] },
      cause: event,
    });
    return this.hosts.update(h.data, h.version, [updated], appliedKey, state);
  }

  /**
   * WatchHosts: with `fromRevision` 0, the site's current hosts (taken after reading the change log's
   * last revision, so no change is missed), then `synced`; then every host event after the revision,
   * until `signal` aborts.
   */
  async watchHosts(siteId: string, fromRevision: number, signal: AbortSignal, emit: (item: WatchItem) => Promise<void> | void): Promise<void> {
    if (!siteId) throw new ValidationError('site_id', 'required');
    assertToken('site_id', siteId);
    if (!Number.isInteger(fromRevision) || fromRevision < 0) throw new ValidationError('from_revision', 'must be 0 (snapshot first) or a revision from this watch');
    if (!this.feed) throw new Error('no change feed wired');
    await this.getSite(siteId);
    const last = await this.feed.lastRevision();
    if (fromRevision > last) throw new ValidationError('from_revision', `${fromRevision} is beyond the last revision (${last})`);
    let start = fromRevision;
    if (fromRevision === 0) {
      start = last;
      let after: string | undefined;
      for (;;) {
        const rows = await this.hosts.list({ siteId }, after, 200);
        for (const r of rows) {
          if (signal.aborted) return;
          await emit({ kind: 'snapshot', revision: last, host: apiHost(r) });
        }
        if (rows.length < 200) break;
        after = rows[rows.length - 1]!.data.id;
      }
      await emit({ kind: 'synced', revision: last });
    }
    await this.feed.follow(siteId, start, signal, (change) => emit({ kind: 'change', change }));
  }
}

/**
 * Same registration: everything but version, hardware, state and the import provenance label (a
 * host keeps the label of the import that first recorded it).
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
