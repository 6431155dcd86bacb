/**
 * Groups as records (pure): a site's group with its children and variables. Membership lives on the
 * hosts (Host.groups); a group record adds the hierarchy and group variables. Every error names its field.
 */
import { InvalidTransitionError, ValidationError } from '@stackyard/errors';
import { assertId, assertToken } from '@stackyard/events';
import type { Group } from '@stackyard/proto/inventory/v1/inventory';
import { canonical } from './host';
import { SECRET_NAME } from './kayobe/config';

/** A stored group: the proto without `version` and `hosts` (beside it / computed). */
export type GroupData = Omit<Group, 'version' | 'hosts'>;

export interface GroupInput {
  readonly siteId: string;
  readonly name: string;
  readonly description: string;
  readonly children: readonly string[];
  readonly vars: Readonly<Record<string, string>>;
}

export const GROUP_NAME = /^[a-z0-9_-]{1,63}$/;
/** Ansible variable names. */
export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_VARS = 500;
const MAX_VALUE = 16_384;

export function groupId(siteId: string, name: string): string {
  return `${siteId}-${name}`;
}

/** A reference to a secret store: `vault:`, `secret:`, `env:` or `file:` followed by a path. */
export const SECRET_REFERENCE = /^(vault|secret|env|file):[^\s]+$/;

/**
 * A value that only *refers* to a secret: a vault reference (`vault:...`), an Ansible vault blob, or
 * a template (resolved from elsewhere, e.g. `{{ secrets_ipmi_password }}`). Anything else under a
 * secret-like name is a secret in clear text.
 */
export function isSecretReference(v: string): boolean {
  return v === '' || SECRET_REFERENCE.test(v) || v.startsWith('$ANSIBLE_VAULT') || v.startsWith('!vault') || v === '<vault-encrypted>' || /^\{\{.*\}\}$/s.test(v.trim());
}

/** Variables: Ansible names, bounded values, no secret in clear text (refused, naming the variable). */
export function validateVars(vars: Readonly<Record<string, string>>, field = 'vars'): void {
  const entries = Object.entries(vars);
  if (entries.length > MAX_VARS) throw new ValidationError(field, `at most ${MAX_VARS} variables`);
  for (const [k, v] of entries) {
    // The field names only valid names (gRPC metadata carries the field: printable ASCII only).
    if (!VAR_NAME.test(k)) throw new ValidationError(field, `${JSON.stringify(k.slice(0, 130))} is not a variable name (letters, digits and "_", not starting with a digit)`);
    if (v.length > MAX_VALUE) throw new ValidationError(`${field}.${k}`, `a value is at most ${MAX_VALUE} characters`);
    if (SECRET_NAME.test(k) && !isSecretReference(v)) {
      throw new ValidationError(`${field}.${k}`, 'looks like a secret in clear text: store a reference (e.g. "vault:kolla/db_password" or "{{ vault_db_password }}") instead');
    }
  }
}

/** Checks a group's own fields (not its children's existence or cycles: see `assertNoCycle`). */
export function validateGroup(input: GroupInput): string {
  assertToken('site_id', input.siteId);
  if (!GROUP_NAME.test(input.name)) throw new ValidationError('name', `"${input.name}" is not a group name (lowercase letters, digits, "-" or "_", at most 63)`);
  if (input.name === 'all' || input.name === 'ungrouped') throw new ValidationError('name', `"${input.name}" is Ansible's implicit group`);
  if (input.description.length > 1000) throw new ValidationError('description', 'at most 1000 characters');
  const seen = new Set<string>();
  input.children.forEach((c, i) => {
    if (!GROUP_NAME.test(c)) throw new ValidationError(`children[${i}]`, `"${c}" is not a group name`);
    if (c === input.name) throw new ValidationError(`children[${i}]`, `a group cannot be its own child (${input.name} -> ${c})`);
    if (seen.has(c)) throw new ValidationError(`children[${i}]`, `duplicate child "${c}"`);
    seen.add(c);
  });
  validateVars(input.vars);
  const id = groupId(input.siteId, input.name);
  assertId('id', id);
  return id;
}

export function newGroup(id: string, input: GroupInput): GroupData {
  return { id, siteId: input.siteId, name: input.name, description: input.description, children: [...input.children], vars: { ...input.vars } };
}

/**
 * Refuses children that do not exist in the site or that would make `name` its own ancestor.
 * `childrenOf` gives the current children of every other group of the site (by name). The error
 * names the field `children[i]` and the path, e.g. "a -> b -> c -> a".
 */
export function assertChildren(name: string, children: readonly string[], childrenOf: ReadonlyMap<string, readonly string[]>): void {
  children.forEach((c, i) => {
    if (!childrenOf.has(c)) throw new ValidationError(`children[${i}]`, `group "${c}" does not exist in this site`);
    const path = pathTo(c, name, childrenOf);
    if (path) throw new ValidationError(`children[${i}]`, `would make a cycle: ${[name, ...path].join(' -> ')}`);
  });
}

/** The path from `from` down to `to` through children (both included), or null. */
function pathTo(from: string, to: string, childrenOf: ReadonlyMap<string, readonly string[]>): string[] | null {
  const seen = new Set<string>();
  const walk = (g: string): string[] | null => {
    if (g === to) return [g];
    if (seen.has(g)) return null;
    seen.add(g);
    for (const c of childrenOf.get(g) ?? []) {
      const p = walk(c);
      if (p) return [g, ...p];
    }
    return null;
  };
  return walk(from);
}

/** A group and every descendant (names), for host listings by group. */
export function descendants(name: string, childrenOf: ReadonlyMap<string, readonly string[]>): string[] {
  const out = new Set<string>();
  const walk = (g: string) => {
    if (out.has(g)) return;
    out.add(g);
    for (const c of childrenOf.get(g) ?? []) walk(c);
  };
  walk(name);
  return [...out];
}

export const GROUP_UPDATABLE = ['description', 'children', 'vars'] as const;
export type GroupField = (typeof GROUP_UPDATABLE)[number];

export function validateGroupUpdateMask(id: string, version: number, mask: readonly string[]): GroupField[] {
  if (!id) throw new ValidationError('id', 'required');
  assertId('id', id);
  if (!Number.isInteger(version) || version < 1) throw new ValidationError('version', 'required: the version the change is based on (from GetGroup)');
  if (mask.length === 0) throw new ValidationError('update_mask', `name the fields to change: ${GROUP_UPDATABLE.join(', ')}`);
  const out = new Set<GroupField>();
  mask.forEach((f, i) => {
    if (!(GROUP_UPDATABLE as readonly string[]).includes(f)) throw new ValidationError(`update_mask[${i}]`, `"${f}" cannot be updated (one of ${GROUP_UPDATABLE.join(', ')})`);
    out.add(f as GroupField);
  });
  return [...out];
}

/** The fields in which two groups differ. */
export function groupChanges(a: GroupData, b: GroupData): GroupField[] {
  return GROUP_UPDATABLE.filter((f) => canonical(a[f]) !== canonical(b[f]));
}

/**
 * DeleteGroup's rule: a group that is another group's child is refused (a parent would name a
 * missing group; remove it there first); member hosts or children need `force` (the hosts keep the
 * name, the children become top-level groups: the delete is one write).
 */
export function assertGroupDeletable(g: GroupData, memberCount: number, parents: readonly string[], force: boolean): void {
  if (parents.length) {
    throw new InvalidTransitionError(`group ${g.name} is a child of ${parents.join(', ')}: remove it from their children first`, 'child', 'deleted');
  }
  if (force) return;
  if (memberCount > 0) throw new InvalidTransitionError(`group ${g.name} still has ${memberCount} member host(s): move them or delete with force`, 'in-use', 'deleted');
  if (g.children.length) throw new InvalidTransitionError(`group ${g.name} still has children (${g.children.join(', ')}): delete with force to keep them as top-level groups`, 'in-use', 'deleted');
}
