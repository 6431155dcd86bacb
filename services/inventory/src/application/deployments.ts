import { AlreadyExistsError, ConcurrencyError, NotFoundError, ValidationError } from '@stackyard/errors';
import { assertId, assertToken, Events, newEvent } from '@stackyard/events';
import type { Deployment, DeploymentRole } from '@stackyard/proto/inventory/v1/inventory';
import {
  applyDeploymentUpdate,
  assertReferences,
  deploymentChanges,
  newDeployment,
  validateDeployment,
  validateDeploymentUpdateMask,
  type DeploymentData,
  type DeploymentField,
  type DeploymentInput,
} from '../domain/deployment';
import { decodePageToken, encodePageToken, pageSizeOf } from '../domain/listing';
import { SERVICE } from './inventory';
import type { DeploymentRepository, GroupRepository, HostRepository, SiteRepository, StoredDeployment } from './ports';

export interface UpdateDeploymentInput {
  readonly id: string;
  readonly version: number;
  readonly updateMask: readonly string[];
  readonly description: string;
  readonly hostIds: readonly string[];
  readonly groups: readonly string[];
  readonly roles: readonly DeploymentRole[];
  readonly services: Readonly<Record<string, boolean>>;
}

export function apiDeployment(d: Pick<StoredDeployment, 'data' | 'version'>): Deployment {
  return { ...d.data, hostIds: [...d.data.hostIds], groups: [...d.data.groups], roles: d.data.roles.map((r) => ({ ...r, groups: [...r.groups] })), services: { ...d.data.services }, version: d.version };
}

/**
 * Deployments as desired state (README "Deployments"): per site, hosts by id and group selectors,
 * roles, Kolla services. Each change is one revision with its event in the outbox.
 */
export class DeploymentService {
  constructor(
    private readonly sites: SiteRepository,
    private readonly deployments: DeploymentRepository,
    private readonly hosts: HostRepository,
    private readonly groups: GroupRepository,
  ) {}

  private async checkReferences(d: Pick<DeploymentInput, 'siteId' | 'hostIds' | 'groups' | 'roles'>): Promise<void> {
    const names = new Set((await this.groups.list(d.siteId, undefined)).map((g) => g.data.name));
    await assertReferences(
      d,
      async (id) => {
        const h = await this.hosts.get(id);
        return h && h.state !== 'deleted' ? h.data.siteId : null;
      },
      (g) => names.has(g),
    );
  }

  async createDeployment(input: DeploymentInput): Promise<Deployment> {
    const id = validateDeployment(input);
    if (!(await this.sites.get(input.siteId))) throw new ValidationError('site_id', `site "${input.siteId}" does not exist`);
    await this.checkReferences(input);
    const d = newDeployment(id, input);
    const existing = await this.deployments.get(id);
    if (existing && !existing.deleted) throw new AlreadyExistsError('deployment', id);
    const version = existing ? existing.version + 1 : 1;
    const created = newEvent({ type: Events.DeploymentCreated, site: d.siteId, entityId: id, service: SERVICE, data: { deployment: apiDeployment({ data: d, version }) } });
    if (existing) await this.deployments.update(d, existing.version, [created], false);
    else await this.deployments.create(d, [created]);
    return apiDeployment({ data: d, version });
  }

  private async live(id: string): Promise<StoredDeployment> {
    if (!id) throw new ValidationError('id', 'required');
    assertId('id', id);
    const d = await this.deployments.get(id);
    if (!d || d.deleted) throw new NotFoundError('deployment', id);
    return d;
  }

  async getDeployment(id: string): Promise<Deployment> {
    return apiDeployment(await this.live(id));
  }

  async listDeployments(siteId: string, pageSize: number, pageToken: string): Promise<{ deployments: Deployment[]; nextPageToken: string }> {
    if (!siteId) throw new ValidationError('site_id', 'required');
    assertToken('site_id', siteId);
    const limit = pageSizeOf(pageSize);
    const key = `deployments:${siteId}`;
    const after = decodePageToken(pageToken, key);
    const rows = (await this.deployments.list(siteId, undefined)).filter((d) => after === undefined || d.data.id > after);
    const page = rows.slice(0, limit);
    return { deployments: page.map(apiDeployment), nextPageToken: rows.length > limit ? encodePageToken(page[page.length - 1]!.data.id, key) : '' };
  }

  async updateDeployment(u: UpdateDeploymentInput): Promise<Deployment> {
    const fields = validateDeploymentUpdateMask(u.id, u.version, u.updateMask);
    const existing = await this.live(u.id);
    const next = applyDeploymentUpdate(
      existing.data,
      { description: u.description, host_ids: [...u.hostIds], groups: [...u.groups], roles: u.roles.map((r) => ({ role: r.role, groups: [...r.groups] })), services: { ...u.services } },
      fields,
    );
    validateDeployment(next);
    await this.checkReferences(next);
    if (existing.version !== u.version) throw new ConcurrencyError('deployment', u.id, u.version);
    return (await this.writeUpdate(existing, next, fields)).deployment;
  }

  private async writeUpdate(existing: StoredDeployment, next: DeploymentData, fields: readonly DeploymentField[]): Promise<{ deployment: Deployment; changed: DeploymentField[] }> {
    const changed = deploymentChanges(existing.data, next).filter((f) => fields.includes(f));
    if (changed.length === 0) return { deployment: apiDeployment(existing), changed };
    const version = existing.version + 1;
    const after = apiDeployment({ data: next, version });
    const updated = newEvent({ type: Events.DeploymentUpdated, site: next.siteId, entityId: next.id, service: SERVICE, data: { deployment: after, changedFields: changed } });
    await this.deployments.update(next, existing.version, [updated], false);
    return { deployment: after, changed };
  }

  /** DeleteDeployment: one tombstone revision with DeploymentDeleted (the record only: nothing is undeployed). */
  async deleteDeployment(id: string, version: number): Promise<Deployment> {
    if (!Number.isInteger(version) || version < 0) throw new ValidationError('version', 'must be 0 (any) or the version to delete');
    const existing = await this.live(id);
    if (version && existing.version !== version) throw new ConcurrencyError('deployment', id, version);
    const before = apiDeployment(existing);
    const deleted = newEvent({ type: Events.DeploymentDeleted, site: before.siteId, entityId: id, service: SERVICE, data: { deploymentId: id, siteId: before.siteId, deployment: before } });
    await this.deployments.update(existing.data, existing.version, [deleted], true);
    return before;
  }

  /**
   * A Kayobe import's deployment (committed in the import document, materialized after its groups and
   * hosts): created, or its selection, roles and services set to the configuration's (the
   * description is kept). Idempotent.
   */
  async applyImported(input: DeploymentInput): Promise<'added' | 'changed' | 'unchanged'> {
    for (let attempt = 0; ; attempt++) {
      try {
        const existing = await this.deployments.get(deploymentId(input));
        if (!existing || existing.deleted) {
          await this.createDeployment(input);
          return 'added';
        }
        const next: DeploymentData = { ...newDeployment(existing.data.id, input), description: existing.data.description, importId: existing.data.importId };
        const { changed } = await this.writeUpdate(existing, next, ['host_ids', 'groups', 'roles', 'services']);
        return changed.length ? 'changed' : 'unchanged';
      } catch (e) {
        if (!(e instanceof ConcurrencyError || e instanceof AlreadyExistsError) || attempt >= 4) throw e;
      }
    }
  }
}

function deploymentId(d: DeploymentInput): string {
  return `${d.siteId}-${d.name}`;
}
