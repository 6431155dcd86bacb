import { AlreadyExistsError, ConcurrencyError, NotFoundError, ValidationError } from '@stackyard/errors';
import { assertId, assertToken, Events, newEvent } from '@stackyard/events';
import type { Group } from '@stackyard/proto/inventory/v1/inventory';
import {
  assertChildren,
  assertGroupDeletable,
  descendants,
  groupChanges,
  newGroup,
  validateGroup,
  validateGroupUpdateMask,
  type GroupData,
  type GroupField,
  type GroupInput,
} from '../domain/group';
import { decodePageToken, encodePageToken, pageSizeOf } from '../domain/listing';
import { SERVICE } from './inventory';
import type { GroupRepository, HostRepository, SiteRepository, StoredGroup } from './ports';

export interface UpdateGroupInput {
  readonly id: string;
  readonly version: number;
  readonly updateMask: readonly string[];
  readonly description: string;
  readonly children: readonly string[];
  readonly vars: Readonly<Record<string, string>>;
}

/** The API form of a stored group (member host ids only where asked for). */
export function apiGroup(g: Pick<StoredGroup, 'data' | 'version'>, hosts: readonly string[] = []): Group {
  return { ...g.data, children: [...g.data.children], vars: { ...g.data.vars }, version: g.version, hosts: [...hosts] };
}

/**
 * Groups as records (README "Groups"): per site, children without cycles, variables without
 * secrets in clear. Membership is the hosts' (Host.groups). Each change is one revision of the
 * group with its event (GroupCreated / GroupUpdated / GroupDeleted) in the outbox.
 */
export class GroupService {
  constructor(
    private readonly sites: SiteRepository,
    private readonly groups: GroupRepository,
    private readonly hosts: HostRepository,
  ) {}

  /** The site's groups by name → children (live records only). */
  async childrenMap(siteId: string): Promise<Map<string, readonly string[]>> {
    return new Map((await this.groups.list(siteId, undefined)).map((g) => [g.data.name, g.data.children]));
  }

  /** `group` and its descendants through the site's group records (just `group` without a record). */
  async expand(siteId: string, group: string): Promise<string[]> {
    return descendants(group, await this.childrenMap(siteId));
  }

  async createGroup(input: GroupInput): Promise<Group> {
    const id = validateGroup(input);
    if (!(await this.sites.get(input.siteId))) throw new ValidationError('site_id', `site "${input.siteId}" does not exist`);
    assertChildren(input.name, input.children, await this.childrenMap(input.siteId));
    const g = newGroup(id, input);
    const existing = await this.groups.get(id);
    if (existing && !existing.deleted) throw new AlreadyExistsError('group', id);
    const version = existing ? existing.version + 1 : 1;
    const created = newEvent({ type: Events.GroupCreated, site: g.siteId, entityId: id, service: SERVICE, data: { group: apiGroup({ data: g, version }) } });
    // A deleted group's id continues its versions.
    if (existing) await this.groups.update(g, existing.version, [created], false);
    else await this.groups.create(g, [created]);
    return apiGroup({ data: g, version });
  }

  /** GetGroup, with the ids of the hosts that name it directly (NOT_FOUND if unknown or deleted). */
  async getGroup(id: string): Promise<Group> {
    const g = await this.live(id);
    return apiGroup(g, await this.memberIds(g.data.siteId, g.data.name));
  }

  async findGroup(id: string): Promise<StoredGroup | null> {
    const g = await this.groups.get(id);
    return g && !g.deleted ? g : null;
  }

  private async live(id: string): Promise<StoredGroup> {
    if (!id) throw new ValidationError('id', 'required');
    assertId('id', id);
    const g = await this.findGroup(id);
    if (!g) throw new NotFoundError('group', id);
    return g;
  }

  private async memberIds(siteId: string, name: string, limit = Infinity): Promise<string[]> {
    const out: string[] = [];
    let after: string | undefined;
    for (;;) {
      const rows = await this.hosts.list({ siteId, group: name }, after, 500);
      out.push(...rows.map((h) => h.data.id));
      if (rows.length < 500 || out.length >= limit) return out;
      after = rows[rows.length - 1]!.data.id;
    }
  }

  /** ListGroups: a site's groups by id, paged like ListHosts (without member hosts). */
  async listGroups(siteId: string, pageSize: number, pageToken: string): Promise<{ groups: Group[]; nextPageToken: string }> {
    if (!siteId) throw new ValidationError('site_id', 'required');
    assertToken('site_id', siteId);
    const limit = pageSizeOf(pageSize);
    const key = `groups:${siteId}`;
    const after = decodePageToken(pageToken, key);
    // A site has tens of groups: read them all (also avoids a listing dropping a group being updated).
    const rows = (await this.groups.list(siteId, undefined)).filter((g) => after === undefined || g.data.id > after);
    const page = rows.slice(0, limit);
    return { groups: page.map((g) => apiGroup(g)), nextPageToken: rows.length > limit ? encodePageToken(page[page.length - 1]!.data.id, key) : '' };
  }

  async updateGroup(u: UpdateGroupInput): Promise<Group> {
    const fields = validateGroupUpdateMask(u.id, u.version, u.updateMask);
    const existing = await this.live(u.id);
    const next: GroupData = {
      ...existing.data,
      ...(fields.includes('description') ? { description: u.description } : {}),
      ...(fields.includes('children') ? { children: [...u.children] } : {}),
      ...(fields.includes('vars') ? { vars: { ...u.vars } } : {}),
    };
    // Values first (every bad input names its field), then the version.
    validateGroup({ siteId: next.siteId, name: next.name, description: next.description, children: next.children, vars: next.vars });
    if (fields.includes('children')) {
      const map = await this.childrenMap(next.siteId);
      map.delete(next.name);
      assertChildren(next.name, next.children, map);
    }
    if (existing.version !== u.version) throw new ConcurrencyError('group', u.id, u.version);
    return (await this.writeUpdate(existing, next, fields)).group;
  }

  private async writeUpdate(existing: StoredGroup, next: GroupData, fields: readonly GroupField[]): Promise<{ group: Group; changed: GroupField[] }> {
    const changed = groupChanges(existing.data, next).filter((f) => fields.includes(f));
    if (changed.length === 0) return { group: apiGroup(existing), changed };
    const version = existing.version + 1;
    const after = apiGroup({ data: next, version });
    const updated = newEvent({ type: Events.GroupUpdated, site: next.siteId, entityId: next.id, service: SERVICE, data: { group: after, changedFields: changed } });
    await this.groups.update(next, existing.version, [updated], false);
    return { group: after, changed };
  }

  /**
   * DeleteGroup: refused (FAILED_PRECONDITION) for a child of another group, and without `force` for
   * a group with member hosts or children. One tombstone revision carrying GroupDeleted.
   */
  async deleteGroup(id: string, version: number, force: boolean): Promise<Group> {
    if (!Number.isInteger(version) || version < 0) throw new ValidationError('version', 'must be 0 (any) or the version to delete');
    const existing = await this.live(id);
    if (version && existing.version !== version) throw new ConcurrencyError('group', id, version);
    const { siteId, name } = existing.data;
    const parents = (await this.groups.list(siteId, undefined)).filter((g) => g.data.children.includes(name)).map((g) => g.data.name);
    const members = await this.memberIds(siteId, name, 1);
    assertGroupDeletable(existing.data, members.length, parents, force);
    const before = apiGroup(existing);
    const deleted = newEvent({ type: Events.GroupDeleted, site: siteId, entityId: id, service: SERVICE, data: { groupId: id, siteId, group: before } });
    await this.groups.update(existing.data, existing.version, [deleted], true);
    return before;
  }

  /**
   * A Kayobe import's group (committed in the import document): created, or its children set to the
   * configuration's (description and variables are not the configuration's and are kept). The
   * configuration's hierarchy has no cycle (the import refuses one). Idempotent.
   */
  async applyImportedGroup(siteId: string, name: string, children: readonly string[]): Promise<'added' | 'changed' | 'unchanged'> {
    for (let attempt = 0; ; attempt++) {
      try {
        const existing = await this.groups.get(`${siteId}-${name}`);
        if (!existing || existing.deleted) {
          await this.createGroup({ siteId, name, description: '', children, vars: {} });
          return 'added';
        }
        const next = { ...existing.data, children: [...children] };
        const { changed } = await this.writeUpdate(existing, next, ['children']);
        return changed.length ? 'changed' : 'unchanged';
      } catch (e) {
        // A concurrent write of the same group (another run of the import, an operator): read it again.
        if (!(e instanceof ConcurrencyError || e instanceof AlreadyExistsError) || attempt >= 4) throw e;
      }
    }
  }
}

