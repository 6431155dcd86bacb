import { ValidationError } from '@stackyard/errors';
import { assertId, assertToken } from '@stackyard/events';
import type { HardwareFacts, Host, HostRef } from '@stackyard/proto/inventory/v1/inventory';

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
  };
}

export function refOf(h: Host): HostRef {
  return { hostId: h.id, siteId: h.siteId, name: h.name, groups: [...h.groups] };
}

export function withHardware(h: Host, hw: HardwareFacts): Host {
  return { ...h, hardware: hw };
}
