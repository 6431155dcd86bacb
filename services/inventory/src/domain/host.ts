import { InvalidTransitionError, ValidationError } from '@stackyard/errors';
import { assertId, assertToken } from '@stackyard/events';
import { HostState, type HardwareFacts, type Host, type HostConfiguration, type HostRef } from '@stackyard/proto/inventory/v1/inventory';

/** Kayobe's standard groups (reference/kayobe.md §2.2); custom groups are allowed too. */
export const KAYOBE_GROUPS = [
  'seed',
  'seed-hypervisor',
  'controllers',
  'network',
  'compute',
  'storage',
  'monitoring',
  'infra-vms',
  'ansible-control',
] as const;

export const BMC_DRIVERS = ['lab', 'ironic', 'redfish'] as const;

export interface RegisterHostInput {
  readonly siteId: string;
  readonly name: string;
  readonly groups: readonly string[];
  readonly bmc: { readonly address: string; readonly driver: string; readonly credentialRef: string } | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly hardwareProfile: string;
  /** Host configuration from a Kayobe import (HostConfiguration); not part of the registration's identity. */
  readonly configuration?: HostConfiguration;
}

/** Prefix of the labels Stackyard sets itself, e.g. `stackyard.io/imported-from`. */
export const RESERVED_LABEL_PREFIX = 'stackyard.io/';
/** Set on hosts recorded by a Kayobe configuration import: the import's id. */
export const IMPORTED_FROM_LABEL = `${RESERVED_LABEL_PREFIX}imported-from`;

export const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const BMC_ADDRESS = /^[A-Za-z0-9.:[\]_-]+(:\d+)?$/;

/** Validates a registration; every error names its field. Returns the host id (derived from site and name). */
export function validateRegistration(input: RegisterHostInput, opts: { readonly requireBmc: boolean } = { requireBmc: true }): string {
  assertToken('site_id', input.siteId);
  if (!HOSTNAME.test(input.name)) {
    throw new ValidationError('name', `"${input.name}" is not a valid host name (RFC 1123 label, lowercase)`);
  }
  if (input.groups.length === 0) throw new ValidationError('groups', 'a host must belong to at least one group');
  const seen = new Set<string>();
  input.groups.forEach((g, i) => {
    assertToken(`groups[${i}]`, g);
    if (seen.has(g)) throw new ValidationError(`groups[${i}]`, `duplicate group "${g}"`);
    seen.add(g);
  });
  if (!input.bmc && opts.requireBmc) throw new ValidationError('bmc', 'a BMC is required');
  if (input.bmc) validateBmc(input.bmc);
  for (const k of Object.keys(input.labels)) {
    // Stackyard's own labels live under the reserved prefix "stackyard.io/"; all others are tokens.
    assertToken(`labels.${k}`, k.startsWith(RESERVED_LABEL_PREFIX) ? k.slice(RESERVED_LABEL_PREFIX.length) : k);
  }
  const id = hostId(input.siteId, input.name);
  assertId('id', id);
  return id;
}

function validateBmc(bmc: NonNullable<RegisterHostInput['bmc']>): void {
  if (!(BMC_DRIVERS as readonly string[]).includes(bmc.driver)) {
    throw new ValidationError('bmc.driver', `"${bmc.driver}" is not one of ${BMC_DRIVERS.join(', ')}`);
  }
  if (!BMC_ADDRESS.test(bmc.address)) {
    throw new ValidationError('bmc.address', `"${bmc.address}" is not a host name or IP address`);
  }
  if (/password|secret/i.test(bmc.credentialRef) && bmc.credentialRef.includes(':')) {
    throw new ValidationError('bmc.credential_ref', 'must reference a secret (e.g. "vault:bmc/node1"), not contain one');
  }
}

export function hostId(siteId: string, name: string): string {
  return `${siteId}-${name}`;
}

export function newHost(id: string, input: RegisterHostInput): Host {
  return {
    id,
    siteId: input.siteId,
    name: input.name,
    groups: [...input.groups],
    bmc: input.bmc ? { ...input.bmc } : undefined,
    labels: { ...input.labels },
    hardwareProfile: input.hardwareProfile,
    hardware: undefined,
    version: 0,
    ...(input.configuration ? { configuration: input.configuration } : {}),
  };
}

export function refOf(h: Host): HostRef {
  return { hostId: h.id, siteId: h.siteId, name: h.name, groups: [...h.groups] };
}

export function withHardware(h: Host, hw: HardwareFacts): Host {
  return { ...h, hardware: hw };
}

/**
 * The inventory's view of a host's life (proto HostState). Transitions:
 *
 *   (none) --import--> recorded --register--> registered --NodeReady--> ready
 *   (none) --RegisterHost--> registered --NodeDeprovisioned--> aborted
 *   recorded | ready | aborted --DeleteHost--> deleted (tombstone) --RegisterHost/import--> registered | recorded
 *
 * A registered host (its saga running, failed or aborting) cannot be deleted: FAILED_PRECONDITION.
 */
export const HOST_STATES = {
  recorded: HostState.HOST_STATE_RECORDED,
  registered: HostState.HOST_STATE_REGISTERED,
  ready: HostState.HOST_STATE_READY,
  aborted: HostState.HOST_STATE_ABORTED,
  deleted: HostState.HOST_STATE_DELETED,
} as const;
export type HostLifecycle = keyof typeof HOST_STATES;

export function lifecycleOf(state: HostState | undefined, registered: boolean | undefined): HostLifecycle {
  const found = (Object.entries(HOST_STATES) as [HostLifecycle, HostState][]).find(([, v]) => v === state);
  if (found) return found[0];
  // Hosts stored before states: `registered: false` only for hosts an import recorded.
  return registered === false ? 'recorded' : 'registered';
}

/** States from which DeleteHost may remove a host: no saga, or a saga that is over. */
export const DELETABLE: readonly HostLifecycle[] = ['recorded', 'ready', 'aborted'];

export function assertDeletable(h: Host, state: HostLifecycle): void {
  if (!DELETABLE.includes(state)) {
    throw new InvalidTransitionError(`host ${h.id} (its saga is running: wait until it is ready, or abort it first)`, state, 'deleted');
  }
}

/** The saga's end as the inventory learns it; null when the fact changes nothing (repeated, or late). */
export function sagaEnded(current: HostLifecycle, fact: 'ready' | 'aborted'): HostLifecycle | null {
  if (current === 'deleted' || current === 'recorded' || current === fact) return null;
  // An abort can follow a ready node (compensations of a finished saga); a ready after an abort is late.
  if (current === 'aborted' && fact === 'ready') return null;
  return fact;
}

export const UPDATABLE_FIELDS = ['labels', 'groups', 'bmc', 'hardware_profile'] as const;
export type UpdatableField = (typeof UPDATABLE_FIELDS)[number];

export interface UpdateHostInput {
  readonly id: string;
  readonly version: number;
  readonly updateMask: readonly string[];
  readonly groups: readonly string[];
  readonly bmc: RegisterHostInput['bmc'];
  readonly labels: Readonly<Record<string, string>>;
  readonly hardwareProfile: string;
}

/** Checks an update's shape before the host is read: id, version and mask. */
export function validateUpdateRequest(u: UpdateHostInput): UpdatableField[] {
  if (!u.id) throw new ValidationError('id', 'required');
  assertId('id', u.id);
  if (!Number.isInteger(u.version) || u.version < 1) {
    throw new ValidationError('version', 'required: the version the change is based on (from GetHost)');
  }
  if (u.updateMask.length === 0) throw new ValidationError('update_mask', `name the fields to change: ${UPDATABLE_FIELDS.join(', ')}`);
  const seen = new Set<UpdatableField>();
  u.updateMask.forEach((f, i) => {
    if (!(UPDATABLE_FIELDS as readonly string[]).includes(f)) {
      throw new ValidationError(`update_mask[${i}]`, `"${f}" cannot be updated (one of ${UPDATABLE_FIELDS.join(', ')})`);
    }
    seen.add(f as UpdatableField);
  });
  return [...seen];
}

/**
 * Applies an update to a host: the fields in the mask are replaced and validated as RegisterHost
 * validates them. Labels under `stackyard.io/` are Stackyard's: kept from the stored host, never set.
 * Returns the new host and the fields that really changed.
 */
export function applyUpdate(h: Host, u: UpdateHostInput, fields: readonly UpdatableField[]): { host: Host; changed: UpdatableField[] } {
  let next: Host = { ...h };
  for (const f of fields) {
    if (f === 'groups') next = { ...next, groups: [...u.groups] };
    if (f === 'bmc') next = { ...next, bmc: u.bmc ? { ...u.bmc } : undefined };
    if (f === 'hardware_profile') next = { ...next, hardwareProfile: u.hardwareProfile };
    if (f === 'labels') {
      for (const k of Object.keys(u.labels)) {
        if (k.startsWith(RESERVED_LABEL_PREFIX)) throw new ValidationError(`labels.${k}`, `labels under "${RESERVED_LABEL_PREFIX}" are set by Stackyard`);
      }
      const reserved = Object.entries(h.labels).filter(([k]) => k.startsWith(RESERVED_LABEL_PREFIX));
      next = { ...next, labels: Object.fromEntries([...Object.entries(u.labels), ...reserved]) };
    }
  }
  if (next.hardwareProfile.length > 63) throw new ValidationError('hardware_profile', 'must be at most 63 characters');
  for (const [k, v] of Object.entries(next.labels)) {
    if (v.length > 256) throw new ValidationError(`labels.${k}`, 'a label value is at most 256 characters');
  }
  // The same rules as RegisterHost; a host without a BMC stays valid only if it had none (recorded by an import).
  validateRegistration(
    { siteId: next.siteId, name: next.name, groups: next.groups, bmc: next.bmc, labels: next.labels, hardwareProfile: next.hardwareProfile },
    { requireBmc: fields.includes('bmc') || h.bmc !== undefined },
  );
  const changed = fields.filter((f) => {
    const key = ({ labels: 'labels', groups: 'groups', bmc: 'bmc', hardware_profile: 'hardwareProfile' } as const)[f];
    return canonical(h[key]) !== canonical(next[key]);
  });
  return { host: next, changed };
}

/** JSON with sorted keys (label maps compare by content, not insertion order). */
export function canonical(v: unknown): string {
  return JSON.stringify(v ?? null, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );
}

/** A field HostUpdated may name: the updatable ones, and `configuration` (a re-import only). */
export type ChangedField = UpdatableField | 'configuration';

/** The fields in which two hosts differ (for HostUpdated after a re-import). */
export function changedFields(a: Host, b: Host): ChangedField[] {
  const pairs: [ChangedField, unknown, unknown][] = [
    ['labels', a.labels, b.labels],
    ['groups', a.groups, b.groups],
    ['bmc', a.bmc, b.bmc],
    ['hardware_profile', a.hardwareProfile, b.hardwareProfile],
    ['configuration', a.configuration, b.configuration],
  ];
  return pairs.filter(([, x, y]) => canonical(x) !== canonical(y)).map(([f]) => f);
}
