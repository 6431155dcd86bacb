/**
 * The normalized, storable form of a Kayobe configuration import (pure): the one document whose
 * insert commits an import (services/inventory/README.md, "Kayobe import"). Hosts carry their
 * groups, networks, a BMC *reference* and their effective variables with secrets masked; networks
 * carry what the network service's DefineNetwork needs.
 */
import { ValidationError } from '@stackyard/errors';
import { assertId, assertToken } from '@stackyard/events';
import { BMC_DRIVERS, HOSTNAME, hostId, IMPORTED_FROM_LABEL, type RegisterHostInput } from '../host';
import { KAYOBE_ROLE_GROUPS, SERVICE_NAME } from '../deployment';
import { SECRET_NAME, type KayobeImport } from './config';
import { Undef } from './jinja';
import type { Problem, SourceLocation } from './problems';
import type { HostConfiguration } from '@stackyard/proto/inventory/v1/inventory';

export interface ImportOptions {
  readonly siteId: string;
  readonly registerHosts: boolean;
  /** Groups whose hosts are registered when `registerHosts` is set; `all` selects every host. */
  readonly registerGroups: readonly string[];
  readonly bmcDriver: string;
}

export interface ImportedHostRecord {
  readonly name: string;
  readonly hostId: string;
  readonly groups: readonly string[];
  readonly directGroups: readonly string[];
  readonly source: string;
  readonly networks: readonly { readonly name: string; readonly interface: string; readonly address: string }[];
  /** Null when the configuration names no BMC address (`ipmi_address`) and the driver is not `lab`. */
  readonly bmc: { readonly address: string; readonly driver: string; readonly credentialRef: string } | null;
  readonly hardwareProfile: string;
  /** Selected for registration (HostRegistered) by this import. */
  readonly register: boolean;
  /** Effective variables that differ from `commonVarsJson`, as JSON (keys may hold "." or "$", which the store rejects). */
  readonly varsJson: string;
  /** What the import did to the stored host (set when planned against the inventory). */
  readonly change?: HostChangeKind;
  /** What host preparation applies (./host-config.ts); missing on imports stored before it existed. */
  readonly configuration?: HostConfiguration;
}

export type HostChangeKind = 'added' | 'changed' | 'unchanged';

/** What materializing an import did (set on its `materialized` revision). */
export interface ImportOutcome {
  readonly added: number;
  readonly changed: number;
  readonly unchanged: number;
}

export interface ImportedNetworkRecord {
  readonly name: string;
  readonly roles: readonly string[];
  readonly cidr: string;
  readonly gateway: string;
  readonly allocationPoolStart: string;
  readonly allocationPoolEnd: string;
  readonly vlan: number;
  readonly mtu: number;
  readonly groups: readonly string[];
  readonly interface: string;
  readonly attributesJson: string;
}

export interface ImportWarningRecord {
  readonly code: string;
  readonly file: string;
  readonly line: number;
  readonly variable: string;
  readonly message: string;
  readonly hosts: readonly string[];
}

export interface ImportRecord {
  readonly id: string;
  readonly siteId: string;
  readonly requestId: string;
  readonly contentHash: string;
  readonly configPath: string;
  readonly environment: string;
  readonly options: ImportOptions;
  readonly hosts: readonly ImportedHostRecord[];
  /** Variables with the same value on every host, as JSON. */
  readonly commonVarsJson: string;
  readonly networks: readonly ImportedNetworkRecord[];
  readonly allocations: readonly { readonly network: string; readonly host: string; readonly address: string; readonly source: string }[];
  readonly warnings: readonly ImportWarningRecord[];
  /** `committed` when the document is written; `materialized` once every host is recorded or registered. */
  readonly state: 'committed' | 'materialized';
  /** When the import was committed (RFC 3339); missing on imports stored before it existed. */
  readonly createdAt?: string;
  /** Host ids of earlier imports of the same configuration that this one no longer has. */
  readonly hostsMissing?: readonly string[];
  readonly outcome?: ImportOutcome;
  /** The configuration's groups (not `all`/`ungrouped`), children before parents; missing on imports stored before group records. */
  readonly groups?: readonly ImportedGroupRecord[];
  /** The configuration's deployment (desired state); missing on imports stored before deployments. */
  readonly deployment?: ImportedDeploymentRecord;
}

export interface ImportedDeploymentRecord {
  readonly name: string;
  readonly hostIds: readonly string[];
  readonly groups: readonly string[];
  readonly roles: readonly { readonly role: string; readonly groups: readonly string[] }[];
  readonly services: Readonly<Record<string, boolean>>;
}

/** Name of the deployment a Kayobe import creates in its site. */
export const IMPORTED_DEPLOYMENT = 'kayobe';

/**
 * The deployment a configuration describes: the selected groups (`register_groups`; with `all`,
 * the top-level groups), the Kolla roles of Kayobe's default top-level group map whose groups the
 * configuration has, and its `kolla_enable_*` flags as services.
 */
export function importedDeployment(imp: KayobeImport, groups: readonly ImportedGroupRecord[], registerGroups: readonly string[], siteId: string): ImportedDeploymentRecord {
  const names = new Set(groups.map((g) => g.name));
  const children = new Set(groups.flatMap((g) => g.children));
  const selected = registerGroups.includes('all') ? groups.map((g) => g.name).filter((g) => !children.has(g)).sort() : registerGroups.filter((g) => names.has(g));
  const roles = KAYOBE_ROLE_GROUPS.map((r) => ({ role: r.role, groups: r.groups.filter((g) => names.has(g)) })).filter((r) => r.groups.length > 0);
  const services = Object.fromEntries(
    Object.entries(imp.kollaFlags)
      .map(([k, v]) => [k.replace(/^kolla_enable_/, ''), v] as const)
      .filter(([k]) => SERVICE_NAME.test(k)),
  );
  return { name: IMPORTED_DEPLOYMENT, hostIds: selected.length ? [] : imp.hosts.map((h) => hostId(siteId, h.name)), groups: selected, roles, services };
}

export interface ImportedGroupRecord {
  readonly name: string;
  readonly children: readonly string[];
}

/**
 * The configuration's groups for group records, children before parents. A group name that is not
 * lowercase letters, digits, "-" or "_" cannot become a record: a ValidationError naming the group.
 */
export function importedGroups(groups: KayobeImport['groups']): ImportedGroupRecord[] {
  const implicit = (g: string) => g === 'all' || g === 'ungrouped';
  const byName = new Map(groups.filter((g) => !implicit(g.name)).map((g) => [g.name, g]));
  const out: ImportedGroupRecord[] = [];
  const done = new Set<string>();
  const visit = (name: string) => {
    const g = byName.get(name);
    if (!g || done.has(name)) return;
    done.add(name);
    if (!/^[a-z0-9_-]{1,63}$/.test(name)) throw new ValidationError('inventory', `group "${name}" must be lowercase letters, digits, "-" or "_"`);
    const children = g.children.filter((c) => !implicit(c));
    children.forEach(visit);
    out.push({ name, children });
  };
  [...byName.keys()].sort().forEach(visit);
  return out;
}

/** Code of the warning about a host that an earlier import of the same configuration had. */
export const HOST_NO_LONGER_CONFIGURED = 'HostNoLongerConfigured';

/** The warning for hosts of earlier imports that the configuration no longer has (they are kept). */
export function missingHostWarnings(missing: readonly { hostId: string; name: string; importId: string }[]): ImportWarningRecord[] {
  return missing.map((m) => ({
    code: HOST_NO_LONGER_CONFIGURED,
    file: '',
    line: 0,
    variable: '',
    message: `host ${m.name} is no longer in the configuration (imported by ${m.importId}); it is kept: delete it with DeleteHost if it is gone`,
    hosts: [m.name],
  }));
}

export const DEFAULT_SITE = 'default';
export const DEFAULT_REGISTER_GROUPS = ['overcloud'] as const;
const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

const where = (s: SourceLocation) => `${s.file}${s.line !== undefined ? `:${s.line}` : ''}`;

/** `<site>-<request_id>`, or `<site>-<first 16 hex of the content hash>` without a request id. */
export function importIdOf(siteId: string, requestId: string, contentHash: string): string {
  assertToken('site_id', siteId);
  if (requestId && !REQUEST_ID.test(requestId)) throw new ValidationError('request_id', 'must be 1-64 letters, digits, "-" or "_"');
  const id = `${siteId}-${requestId || contentHash.slice(0, 16)}`;
  assertId('request_id', id);
  return id;
}

export function validateImportOptions(o: ImportOptions): void {
  assertToken('site_id', o.siteId);
  if (!(BMC_DRIVERS as readonly string[]).includes(o.bmcDriver)) {
    throw new ValidationError('bmc_driver', `"${o.bmcDriver}" is not one of ${BMC_DRIVERS.join(', ')}`);
  }
  o.registerGroups.forEach((g, i) => assertToken(`register_groups[${i}]`, g));
}

/** A secret's replacement: where it is defined, never its value. */
const masked = (origin: SourceLocation | undefined) => `<secret: ${origin ? where(origin) : 'kayobe-config'}>`;

/**
 * Effective variables without secrets: a variable (or nested key) whose name looks like a secret
 * keeps only a reference to where it is defined; any other string containing a secret's value is
 * redacted too (e.g. a template that copied a password). Templates and vault blobs are references
 * and stay. Values become plain JSON (Jinja's undefined becomes null).
 */
export function maskSecrets(vars: Readonly<Record<string, unknown>>, origins: Readonly<Record<string, SourceLocation>>): Record<string, unknown> {
  const secrets = new Set<string>();
  const isLiteral = (v: unknown) => (typeof v === 'string' && v !== '' && !v.includes('{{') && v !== '<vault-encrypted>') || typeof v === 'number';
  const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x instanceof Undef ? null : x)) ?? 'null');
  const collect = (key: string, v: unknown) => {
    if (SECRET_NAME.test(key) && isLiteral(v)) secrets.add(String(v));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) collect(k, x);
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(vars)) out[k] = plain(v);
  for (const [k, v] of Object.entries(out)) collect(k, v);
  const hide = (key: string, v: unknown, origin: SourceLocation | undefined): unknown => {
    if (SECRET_NAME.test(key) && isLiteral(v)) return masked(origin);
    if (typeof v === 'string') {
      let s = v;
      for (const secret of secrets) if (secret.length >= 4 && s.includes(secret)) s = s.split(secret).join('<secret>');
      return s;
    }
    if (Array.isArray(v)) return v.map((x) => hide('', x, origin));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k2, x]) => [k2, hide(k2, x, origin)]));
    return v;
  };
  for (const [k, v] of Object.entries(out)) out[k] = hide(k, v, origins[k]);
  return out;
}

const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : /^\d+$/.test(str(v)) ? Number(str(v)) : 0);

/**
 * Turns an import into its record. Throws ValidationError (field = file:line) when a host cannot
 * become a Stackyard host: a name that is not an RFC 1123 label, a group that is not a token, or a
 * host to register without a BMC address.
 */
export function buildImportRecord(
  imp: KayobeImport,
  o: ImportOptions & { readonly id: string; readonly requestId: string; readonly contentHash: string; readonly configPath: string; readonly environment: string },
): ImportRecord {
  validateImportOptions(o);
  const registerAll = o.registerGroups.includes('all');
  const hostVars = imp.hosts.map((h) => maskSecrets(h.vars, h.origins));
  // Variables with one value on every host are stored once.
  const common: Record<string, unknown> = {};
  const first = hostVars[0] ?? {};
  for (const [k, v] of Object.entries(first)) {
    const j = JSON.stringify(v);
    if (hostVars.every((hv) => k in hv && JSON.stringify(hv[k]) === j)) common[k] = v;
  }
  const hosts = imp.hosts.map((h, i): ImportedHostRecord => {
    const at = where(h.source);
    if (!HOSTNAME.test(h.name)) throw new ValidationError(at, `host "${h.name}" is not a valid Stackyard host name (RFC 1123 label, lowercase)`);
    h.groups.forEach((g) => {
      if (!/^[a-z0-9_-]{1,63}$/.test(g)) throw new ValidationError(at, `host "${h.name}": group "${g}" must be lowercase letters, digits, "-" or "_"`);
    });
    const register = o.registerHosts && (registerAll || h.groups.some((g) => o.registerGroups.includes(g)));
    const ipmi = h.unresolved.includes('ipmi_address') ? '' : str(h.vars['ipmi_address']);
    const address = ipmi || (o.bmcDriver === 'lab' ? `bmc-${h.name}` : '');
    if (register && !address) {
      const origin = h.origins['ipmi_address'];
      throw new ValidationError(origin ? where(origin) : at, `ipmi_address: host "${h.name}" has no BMC address, so it cannot be registered with driver ${o.bmcDriver}`);
    }
    const vars = hostVars[i]!;
    const own = Object.fromEntries(Object.entries(vars).filter(([k]) => !(k in common)));
    return {
      name: h.name,
      hostId: hostId(o.siteId, h.name),
      groups: [...h.groups],
      directGroups: [...h.directGroups],
      source: at,
      networks: h.networks.map((n) => ({ name: n.name, interface: n.interface ?? '', address: n.ip ?? '' })),
      // Credentials stay in the Kayobe configuration (ipmi_username / ipmi_password): only a reference.
      bmc: address ? { address, driver: o.bmcDriver, credentialRef: `kayobe:ipmi/${h.name}` } : null,
      hardwareProfile: o.bmcDriver === 'lab' ? (h.groups.includes('controllers') ? 'controller-std' : 'compute-std') : '',
      register,
      varsJson: JSON.stringify(own),
      ...(h.configuration ? { configuration: h.configuration } : {}),
    };
  });
  const networks = imp.networks.map((n): ImportedNetworkRecord => {
    const attached = imp.hosts.filter((h) => h.networkInterfaces.includes(n.name));
    const ifaces = new Map<string, number>();
    for (const h of attached) {
      const i = h.networks.find((x) => x.name === n.name)?.interface;
      if (i) ifaces.set(i, (ifaces.get(i) ?? 0) + 1);
    }
    const iface = [...ifaces].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? '';
    const a = maskSecrets(n.attributes, {});
    return {
      name: n.name,
      roles: [...n.roles],
      cidr: str(a['cidr']),
      gateway: str(a['gateway']),
      allocationPoolStart: str(a['allocation_pool_start']),
      allocationPoolEnd: str(a['allocation_pool_end']),
      vlan: int(a['vlan']),
      mtu: int(a['mtu']),
      groups: [...new Set(attached.flatMap((h) => h.directGroups))].sort(),
      interface: iface,
      attributesJson: JSON.stringify(a),
    };
  });
  return {
    id: o.id,
    siteId: o.siteId,
    requestId: o.requestId,
    contentHash: o.contentHash,
    configPath: o.configPath,
    environment: o.environment,
    options: { siteId: o.siteId, registerHosts: o.registerHosts, registerGroups: [...o.registerGroups], bmcDriver: o.bmcDriver },
    hosts,
    commonVarsJson: JSON.stringify(common),
    networks,
    allocations: imp.allocations.map((x) => ({ network: x.network, host: x.host, address: x.ip, source: where(x.source) })),
    warnings: imp.problems.filter((p) => p.severity === 'warning').map(warningOf),
    state: 'committed',
    groups: importedGroups(imp.groups),
    deployment: importedDeployment(imp, importedGroups(imp.groups), o.registerGroups, o.siteId),
  };
}

export function warningOf(p: Problem): ImportWarningRecord {
  return { code: p.code, file: p.file, line: p.line ?? 0, variable: p.variable ?? '', message: p.message, hosts: [...(p.hosts ?? [])] };
}

/** The registration of an imported host (its BMC must be set; see buildImportRecord). */
export function registrationOf(r: ImportRecord, h: ImportedHostRecord): RegisterHostInput {
  return {
    siteId: r.siteId,
    name: h.name,
    groups: h.groups,
    bmc: h.bmc ?? undefined,
    labels: { [IMPORTED_FROM_LABEL]: r.id },
    hardwareProfile: h.hardwareProfile,
    ...(h.configuration ? { configuration: h.configuration } : {}),
  };
}
