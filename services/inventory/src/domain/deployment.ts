/**
 * Deployments (pure): a site's desired state of OpenStack services: which hosts (ids and group
 * selectors), which Kolla roles are played by which groups, which Kolla services are enabled.
 *
 * Kolla service names are checked by **pattern** here (the Kolla catalogue is the deployment
 * service's, which a scope:inventory project cannot import): a flag name without `kolla_enable_`,
 * lowercase letters, digits and "_". The deployment service checks them against its catalogue.
 */
import { ValidationError } from '@stackyard/errors';
import { assertId, assertToken } from '@stackyard/events';
import type { Deployment, DeploymentRole } from '@stackyard/proto/inventory/v1/inventory';
import { GROUP_NAME } from './group';
import { canonical } from './host';

export type DeploymentData = Omit<Deployment, 'version'>;

export interface DeploymentInput {
  readonly siteId: string;
  readonly name: string;
  readonly description: string;
  readonly hostIds: readonly string[];
  readonly groups: readonly string[];
  readonly roles: readonly DeploymentRole[];
  readonly services: Readonly<Record<string, boolean>>;
  readonly importId?: string;
}

/** A Kolla flag name without `kolla_enable_` (e.g. `nova`, `neutron_provider_networks`). */
export const SERVICE_NAME = /^[a-z][a-z0-9_]{0,63}$/;
/** A Kolla top-level group (role): `control`, `network`, `compute`, `compute-vgpu`, ... */
export const ROLE_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
export const DEPLOYMENT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Kayobe's default `kolla_overcloud_inventory_top_level_group_map` (reference/kayobe.md): the Kolla
 * role each Kayobe group plays. An import uses the roles whose groups the configuration has.
 */
export const KAYOBE_ROLE_GROUPS: readonly DeploymentRole[] = [
  { role: 'control', groups: ['controllers'] },
  { role: 'network', groups: ['network'] },
  { role: 'compute', groups: ['compute'] },
  { role: 'monitoring', groups: ['monitoring'] },
  { role: 'storage', groups: ['storage'] },
];

export function deploymentId(siteId: string, name: string): string {
  return `${siteId}-${name}`;
}

function noDuplicates(list: readonly string[], field: string): void {
  const seen = new Set<string>();
  list.forEach((x, i) => {
    if (seen.has(x)) throw new ValidationError(`${field}[${i}]`, `duplicate "${x}"`);
    seen.add(x);
  });
}

/** The deployment's own fields (hosts and groups existing: see `assertReferences`). Returns its id. */
export function validateDeployment(d: DeploymentInput): string {
  assertToken('site_id', d.siteId);
  if (!DEPLOYMENT_NAME.test(d.name)) throw new ValidationError('name', `"${d.name}" is not a deployment name (RFC 1123 label, lowercase)`);
  if (d.description.length > 1000) throw new ValidationError('description', 'at most 1000 characters');
  d.hostIds.forEach((h, i) => assertId(`host_ids[${i}]`, h));
  noDuplicates(d.hostIds, 'host_ids');
  d.groups.forEach((g, i) => {
    if (!GROUP_NAME.test(g)) throw new ValidationError(`groups[${i}]`, `"${g}" is not a group name`);
  });
  noDuplicates(d.groups, 'groups');
  noDuplicates(d.roles.map((r) => r.role), 'roles');
  d.roles.forEach((r, i) => {
    if (!ROLE_NAME.test(r.role)) throw new ValidationError(`roles[${i}].role`, `"${r.role}" is not a role name (e.g. control, compute)`);
    if (r.groups.length === 0) throw new ValidationError(`roles[${i}].groups`, 'name at least one group that plays the role');
    r.groups.forEach((g, j) => {
      if (!GROUP_NAME.test(g)) throw new ValidationError(`roles[${i}].groups[${j}]`, `"${g}" is not a group name`);
    });
    noDuplicates(r.groups, `roles[${i}].groups`);
  });
  const services = Object.keys(d.services);
  if (services.length > 500) throw new ValidationError('services', 'at most 500 services');
  for (const s of services) {
    // The field names only valid names (gRPC metadata carries the field: printable ASCII only).
    if (!SERVICE_NAME.test(s)) throw new ValidationError('services', `${JSON.stringify(s.slice(0, 70))} is not a Kolla service flag name (lowercase letters, digits and "_", without "kolla_enable_")`);
  }
  if (d.hostIds.length === 0 && d.groups.length === 0) throw new ValidationError('host_ids', 'a deployment selects hosts: give host_ids, groups or both');
  const id = deploymentId(d.siteId, d.name);
  assertId('id', id);
  return id;
}

/**
 * Hosts must exist in the site and groups must be group records of the site. `hostExists` and
 * `groupExists` answer for one id / name. Errors name the field (`host_ids[i]`, `groups[i]`,
 * `roles[i].groups[j]`).
 */
export async function assertReferences(
  d: Pick<DeploymentInput, 'siteId' | 'hostIds' | 'groups' | 'roles'>,
  hostSite: (id: string) => Promise<string | null>,
  groupExists: (name: string) => boolean,
): Promise<void> {
  for (const [i, h] of d.hostIds.entries()) {
    const site = await hostSite(h);
    if (site === null) throw new ValidationError(`host_ids[${i}]`, `host "${h}" does not exist`);
    if (site !== d.siteId) throw new ValidationError(`host_ids[${i}]`, `host "${h}" is in site ${site}, not ${d.siteId}`);
  }
  d.groups.forEach((g, i) => {
    if (!groupExists(g)) throw new ValidationError(`groups[${i}]`, `group "${g}" does not exist in site ${d.siteId}`);
  });
  d.roles.forEach((r, i) =>
    r.groups.forEach((g, j) => {
      if (!groupExists(g)) throw new ValidationError(`roles[${i}].groups[${j}]`, `group "${g}" does not exist in site ${d.siteId}`);
    }),
  );
}

export function newDeployment(id: string, d: DeploymentInput): DeploymentData {
  return {
    id,
    siteId: d.siteId,
    name: d.name,
    description: d.description,
    hostIds: [...d.hostIds],
    groups: [...d.groups],
    roles: d.roles.map((r) => ({ role: r.role, groups: [...r.groups] })),
    services: { ...d.services },
    importId: d.importId ?? '',
  };
}

export const DEPLOYMENT_UPDATABLE = ['description', 'host_ids', 'groups', 'roles', 'services'] as const;
export type DeploymentField = (typeof DEPLOYMENT_UPDATABLE)[number];

const KEY: Record<DeploymentField, keyof DeploymentData> = { description: 'description', host_ids: 'hostIds', groups: 'groups', roles: 'roles', services: 'services' };

export function validateDeploymentUpdateMask(id: string, version: number, mask: readonly string[]): DeploymentField[] {
  if (!id) throw new ValidationError('id', 'required');
  assertId('id', id);
  if (!Number.isInteger(version) || version < 1) throw new ValidationError('version', 'required: the version the change is based on (from GetDeployment)');
  if (mask.length === 0) throw new ValidationError('update_mask', `name the fields to change: ${DEPLOYMENT_UPDATABLE.join(', ')}`);
  const out = new Set<DeploymentField>();
  mask.forEach((f, i) => {
    if (!(DEPLOYMENT_UPDATABLE as readonly string[]).includes(f)) throw new ValidationError(`update_mask[${i}]`, `"${f}" cannot be updated (one of ${DEPLOYMENT_UPDATABLE.join(', ')})`);
    out.add(f as DeploymentField);
  });
  return [...out];
}

export function applyDeploymentUpdate(d: DeploymentData, u: Partial<Record<DeploymentField, unknown>>, fields: readonly DeploymentField[]): DeploymentData {
  const next: Record<string, unknown> = { ...d };
  for (const f of fields) next[KEY[f]] = u[f];
  return next as unknown as DeploymentData;
}

export function deploymentChanges(a: DeploymentData, b: DeploymentData): DeploymentField[] {
  return DEPLOYMENT_UPDATABLE.filter((f) => canonical(a[KEY[f]]) !== canonical(b[KEY[f]]));
}
