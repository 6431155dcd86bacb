/**
 * A Kayobe configuration (`etc/kayobe`) turned into Stackyard's inventory: pure, given the files.
 *
 * Layout and precedence follow Kayobe and Ansible (reference/kayobe.md §2.1), lowest first:
 *  1. Kayobe's built-in inventory (./defaults.ts), then the user's `inventory/`, then the
 *     environment's `environments/<env>/inventory/` — three inventory sources. Per host, Ansible
 *     combines: `[all:vars]` < `group_vars/all` (each source) < `[group:vars]` of the host's groups
 *     < `group_vars/<group>` (source by source, groups sorted by depth, `ansible_group_priority`, name)
 *     < inline host variables < `host_vars/<host>` (each source).
 *  2. Extra vars, which beat everything: `etc/kayobe/*.{yml,yaml,json}` sorted, then the
 *     environment's, then caller-given files (`-e @file`), then Kayobe's own
 *     (`kayobe_config_path`, `kayobe_environment`, `kayobe_env_config_path`).
 * `group_vars/<name>` and `host_vars/<name>` may be a file (with or without .yml/.yaml/.json) or a
 * directory whose files are read sorted. Top-level keys replace (Ansible's default `hash_behaviour`).
 *
 * Errors (any of them) fail the whole import with {@link KayobeConfigError}; warnings are returned.
 */
import { isTemplate, renderString, toBool, Undef, Unresolvable, type Scope } from './jinja';
import {
  emptyInventory,
  finishInventory,
  groupDepths,
  groupHosts,
  hostGroups,
  matchPattern,
  parseIniInventory,
  sortGroups,
  type Inventory,
} from './inventory';
import { GLOBAL_NETWORK_ATTRIBUTES, KAYOBE_DEFAULT_ALL, KAYOBE_DEFAULT_GROUPS, NETWORK_ROLES } from './defaults';
import { KayobeConfigError, type Problem, type SourceLocation } from './problems';
import { parseYamlInventory, YAML_INVENTORY } from './yaml-inventory';
import { location, parseVarFile, UnsafeText, Vaulted, type VarFile } from './yaml-vars';
import { hostConfigurationOf } from './host-config';
import type { HostConfiguration } from '@stackyard/proto/inventory/v1/inventory';

/** One file of the configuration, path relative to the configuration root (`etc/kayobe`). */
export interface ConfigFile {
  readonly path: string;
  readonly text: string;
}

export interface ImportOptions {
  /** `--environment` / `KAYOBE_ENVIRONMENT`. */
  readonly environment?: string;
  /** Extra variable files, like `kayobe … -e @file` (highest precedence after Kayobe's own). */
  readonly extraVars?: readonly ConfigFile[];
  /** Where the configuration lives on the control host (`kayobe_config_path`). */
  readonly configPath?: string;
}

export interface HostNetwork {
  readonly name: string;
  /** `<net>_interface` for this host, when set. */
  readonly interface?: string;
  /** Allocated address from `<net>_ips` (network-allocation.yml), when present. */
  readonly ip?: string;
}

export interface ImportedHost {
  readonly name: string;
  /** Every group the host is in (direct groups and their ancestors), sorted. */
  readonly groups: readonly string[];
  readonly directGroups: readonly string[];
  /** Where the host comes from: an inventory file, or Kayobe's `overcloud_group_hosts_map`. */
  readonly source: SourceLocation;
  /** Effective variables (like `kayobe configuration dump`); unresolvable values keep their template. */
  readonly vars: Readonly<Record<string, unknown>>;
  /** Where each variable's winning value comes from. */
  readonly origins: Readonly<Record<string, SourceLocation>>;
  /** Variables whose value could not be computed (see `problems`). */
  readonly unresolved: readonly string[];
  /** `network_interfaces`: the networks this host is attached to (§2.6). */
  readonly networkInterfaces: readonly string[];
  readonly networks: readonly HostNetwork[];
  /** What Kayobe's host configure would apply to the host (./host-config.ts). */
  readonly configuration?: HostConfiguration;
}

export interface ImportedGroup {
  readonly name: string;
  readonly parents: readonly string[];
  readonly children: readonly string[];
  readonly hosts: readonly string[];
}

export interface ImportedNetwork {
  readonly name: string;
  /** Network roles mapped to this network (`admin_oc`, `internal`, `external`, …). */
  readonly roles: readonly string[];
  /** Global attributes (`<net>_<attr>`) that are set. */
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface Allocation {
  readonly network: string;
  readonly host: string;
  readonly ip: string;
  readonly source: SourceLocation;
}

export interface KayobeImport {
  readonly environment?: string;
  readonly hosts: readonly ImportedHost[];
  readonly groups: readonly ImportedGroup[];
  /** Role variable → network name(s) (null when the role is unused, e.g. Ironic roles without Ironic). */
  readonly roles: Readonly<Record<string, unknown>>;
  readonly networks: readonly ImportedNetwork[];
  readonly allocations: readonly Allocation[];
  /** `kolla_enable_*` flags, as booleans. */
  readonly kollaFlags: Readonly<Record<string, boolean>>;
  /** Hosts the inventory declares for the control host itself (`ansible_connection=local`). */
  readonly controlHosts: readonly string[];
  /** Warnings (errors are thrown). */
  readonly problems: readonly Problem[];
}

// ---------------------------------------------------------------------------------------------
// File classification

const VAR_EXT = /\.(ya?ml|json)$/;
/** Ansible's default INVENTORY_IGNORE_EXTS. */
const INVENTORY_IGNORE = /(\.(orig|ini|cfg|retry|pyc|pyo|swp|bak|rpm|md|txt|rst)|~)$/;

interface InventoryTree {
  readonly sources: ConfigFile[];
  readonly groupVars: Map<string, ConfigFile[]>;
  readonly hostVars: Map<string, ConfigFile[]>;
}

interface Layout {
  readonly globals: ConfigFile[];
  readonly inventory: InventoryTree;
}

function classify(files: readonly ConfigFile[], prefix: string): Layout {
  const byPath = [...files].filter((f) => f.path.startsWith(prefix)).sort((a, b) => (a.path < b.path ? -1 : 1));
  const globals: ConfigFile[] = [];
  const inventory: InventoryTree = { sources: [], groupVars: new Map(), hostVars: new Map() };
  for (const f of byPath) {
    const rel = f.path.slice(prefix.length);
    const parts = rel.split('/');
    if (parts.some((p) => p.startsWith('.'))) continue;
    if (parts.length === 1) {
      if (VAR_EXT.test(rel)) globals.push(f);
      continue;
    }
    if (parts[0] !== 'inventory') continue;
    if (parts[1] === 'group_vars' || parts[1] === 'host_vars') {
      const name = parts[2]!.replace(VAR_EXT, '');
      const nested = parts.length > 3;
      if (nested ? !(VAR_EXT.test(rel) || !parts[parts.length - 1]!.includes('.')) : false) continue;
      const map = parts[1] === 'group_vars' ? inventory.groupVars : inventory.hostVars;
      map.set(name, [...(map.get(name) ?? []), f]);
    } else if (parts.length === 2 && !INVENTORY_IGNORE.test(rel)) {
      inventory.sources.push(f);
    }
  }
  return { globals, inventory };
}

// ---------------------------------------------------------------------------------------------
// Variable layers

interface Layer {
  readonly vars: Record<string, unknown>;
  readonly where: (key: string) => SourceLocation;
}

function fileLayer(f: VarFile): Layer {
  return { vars: f.vars, where: (k) => location(f, k) };
}

interface VarSource {
  readonly name: string;
  readonly groupVars: Map<string, VarFile[]>;
  readonly hostVars: Map<string, VarFile[]>;
}

function parseTree(name: string, tree: InventoryTree, problems: Problem[]): VarSource {
  const load = (m: Map<string, ConfigFile[]>) =>
    new Map([...m].map(([k, fs]) => [k, fs.map((f) => parseVarFile(f.path, f.text, problems)).filter((x): x is VarFile => x !== undefined)]));
  return { name, groupVars: load(tree.groupVars), hostVars: load(tree.hostVars) };
}

function defaultsSource(problems: Problem[]): VarSource {
  const groupVars = new Map<string, VarFile[]>();
  const all = Object.entries(KAYOBE_DEFAULT_ALL).map(([topic, text]) => parseVarFile(`(kayobe defaults)/group_vars/all/${topic}`, text, problems)!);
  groupVars.set('all', all);
  for (const [key, text] of Object.entries(KAYOBE_DEFAULT_GROUPS)) {
    const [g] = key.split('/');
    groupVars.set(g!, [...(groupVars.get(g!) ?? []), parseVarFile(`(kayobe defaults)/group_vars/${key}`, text, problems)!]);
  }
  return { name: 'kayobe defaults', groupVars, hostVars: new Map() };
}

function merge(layers: readonly Layer[]): Map<string, { value: unknown; origin: SourceLocation }> {
  const out = new Map<string, { value: unknown; origin: SourceLocation }>();
  for (const l of layers) for (const [k, v] of Object.entries(l.vars)) out.set(k, { value: v, origin: l.where(k) });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Resolution

class Failure extends Unresolvable {
  constructor(
    message: string,
    override readonly variable: string,
    readonly origin: SourceLocation | undefined,
  ) {
    super(message);
  }
}

/** Resolves the variables of one host (or of no host: the global view) lazily, with loop detection. */
class Resolver implements Scope {
  private readonly cache = new Map<string, { ok: true; v: unknown } | { ok: false; e: Failure }>();
  private readonly stack: string[] = [];

  constructor(
    readonly host: string | undefined,
    readonly merged: Map<string, { value: unknown; origin: SourceLocation }>,
    private readonly world: World,
  ) {}

  variable(name: string): unknown {
    if (this.merged.has(name)) return this.resolve(name);
    switch (name) {
      case 'inventory_hostname':
        return this.host ?? new Undef(name);
      case 'inventory_hostname_short':
        return this.host?.split('.')[0] ?? new Undef(name);
      case 'groups':
        return this.world.groupsVar();
      case 'group_names':
        return this.host ? [...hostGroups(this.world.inventory, this.host)].filter((g) => g !== 'ungrouped').sort() : new Undef(name);
      default:
        return new Undef(name);
    }
  }

  resolve(name: string): unknown {
    const cached = this.cache.get(name);
    if (cached) {
      if (cached.ok) return cached.v;
      throw cached.e;
    }
    const entry = this.merged.get(name)!;
    if (this.stack.includes(name)) {
      throw new Failure(`recursive loop: ${[...this.stack.slice(this.stack.indexOf(name)), name].join(' → ')}`, name, entry.origin);
    }
    this.stack.push(name);
    try {
      const v = this.template(entry.value);
      this.cache.set(name, { ok: true, v });
      return v;
    } catch (e) {
      if (!(e instanceof Unresolvable)) throw e;
      const f = e instanceof Failure ? e : new Failure(e.message, name, entry.origin);
      this.cache.set(name, { ok: false, e: f });
      throw f;
    } finally {
      this.stack.pop();
    }
  }

  template(v: unknown): unknown {
    if (typeof v === 'string') return isTemplate(v) ? renderString(v, this) : v;
    if (v instanceof UnsafeText) return v.text;
    if (v instanceof Vaulted) return v;
    if (Array.isArray(v)) return v.map((x) => this.template(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.template(x)]));
    return v;
  }

  inventoryHostnames(pattern: string): string[] {
    return matchPattern(this.world.inventory, pattern);
  }
  hostVariable(host: string, name: string): unknown {
    if (host === this.host) return this.variable(name);
    return this.world.resolver(host).variable(name);
  }
  hasHost(host: string): boolean {
    return this.world.inventory.hosts.has(host);
  }
}

class World {
  private readonly resolvers = new Map<string, Resolver>();
  private groupsCache?: Record<string, string[]>;
  constructor(
    readonly inventory: Inventory,
    private readonly layersFor: (host: string | undefined) => Layer[],
  ) {}
  resolver(host: string | undefined): Resolver {
    const key = host ?? '';
    let r = this.resolvers.get(key);
    if (!r) {
      r = new Resolver(host, merge(this.layersFor(host)), this);
      this.resolvers.set(key, r);
    }
    return r;
  }
  groupsVar(): Record<string, string[]> {
    this.groupsCache ??= Object.fromEntries([...this.inventory.groups.keys()].map((g) => [g, groupHosts(this.inventory, g)]));
    return this.groupsCache;
  }
}

// ---------------------------------------------------------------------------------------------
// Secrets

export const SECRET_NAME = /(password|passwd|secret|token|passphrase|private_key$)/i;

function scanSecrets(layers: readonly Layer[], problems: Problem[]): void {
  const seen = new Set<string>();
  const visit = (key: string, value: unknown, where: SourceLocation) => {
    if (SECRET_NAME.test(key) && (typeof value === 'number' || (typeof value === 'string' && value !== '' && !isTemplate(value)))) {
      const id = `${where.file}:${where.line ?? ''}:${key}`;
      if (seen.has(id)) return;
      seen.add(id);
      problems.push({
        severity: 'warning',
        code: 'SecretInClearText',
        ...where,
        variable: key,
        message: 'looks like a secret stored in clear text; encrypt it with Ansible Vault or reference a secret store',
      });
    } else if (value && typeof value === 'object' && !(value instanceof Vaulted) && !(value instanceof UnsafeText)) {
      for (const [k, v] of Object.entries(value)) visit(Array.isArray(value) ? key : k, v, where);
    }
  };
  for (const l of layers) for (const [k, v] of Object.entries(l.vars)) visit(k, v, l.where(k));
}

// ---------------------------------------------------------------------------------------------
// Import

const CONTROL_HOST = (vars: Record<string, unknown>) => vars['ansible_connection'] === 'local';

/**
 * Builds the inventory from a configuration's files (paths relative to `etc/kayobe`).
 * Throws KayobeConfigError listing every error; otherwise returns the import with its warnings.
 */
export function importKayobeFiles(files: readonly ConfigFile[], options: ImportOptions = {}): KayobeImport {
  const problems: Problem[] = [];
  const env = options.environment;
  const base = classify(files, '');
  const envLayout = env ? classify(files, `environments/${env}/`) : undefined;
  if (env && !files.some((f) => f.path.startsWith(`environments/${env}/`))) {
    const known = [...new Set(files.filter((f) => f.path.startsWith('environments/')).map((f) => f.path.split('/')[1]))].sort();
    problems.push({
      severity: 'error',
      code: 'UnknownEnvironment',
      file: `environments/${env}`,
      message: `environment "${env}" does not exist${known.length ? ` (known: ${known.join(', ')})` : ''}`,
    });
  }
  if (env && files.some((f) => f.path === `environments/${env}/.kayobe-environment`)) {
    problems.push({
      severity: 'warning',
      code: 'UnsupportedFeature',
      file: `environments/${env}/.kayobe-environment`,
      message: 'environment dependencies are not imported yet; only this environment is layered over the base configuration',
    });
  }

  // Inventory sources: user, then environment (Kayobe's built-in inventory declares no hosts), each
  // directory's files sorted by name, INI and YAML mixed.
  const inventory = emptyInventory();
  for (const src of [...base.inventory.sources, ...(envLayout?.inventory.sources ?? [])]) {
    // Ansible's yaml plugin takes .yml/.yaml/.json; the ini plugin the rest.
    if (YAML_INVENTORY.test(src.path)) parseYamlInventory(inventory, src, problems);
    else parseIniInventory(inventory, src, problems);
  }

  // Variables.
  const defaults = defaultsSource(problems);
  const sources = [defaults, parseTree('user', base.inventory, problems), ...(envLayout ? [parseTree(`environment ${env}`, envLayout.inventory, problems)] : [])];
  const globalFiles = [...base.globals, ...(envLayout?.globals ?? []), ...(options.extraVars ?? [])]
    .map((f) => parseVarFile(f.path, f.text, problems))
    .filter((x): x is VarFile => x !== undefined);
  const configPath = options.configPath ?? '/etc/kayobe';
  const kayobeVars: Layer = {
    vars: {
      kayobe_config_path: configPath,
      kayobe_environment: env ?? '',
      kayobe_env_config_path: env ? `${configPath}/environments/${env}` : configPath,
    },
    where: () => ({ file: '(kayobe command line)' }),
  };
  const extraLayers = [...globalFiles.map(fileLayer), kayobeVars];

  const bail = () => {
    if (problems.some((p) => p.severity === 'error')) throw new KayobeConfigError(problems);
  };
  bail();

  // The generated overcloud inventory: without `inventory/overcloud`, place the hosts of
  // `overcloud_group_hosts_map` as `kayobe overcloud inventory discover` would (§1.4, §2.3).
  const hasGenerated = [...base.inventory.sources, ...(envLayout?.inventory.sources ?? [])].some((f) => /(^|\/)inventory\/overcloud(\.(ya?ml|json))?$/.test(f.path));
  const mapSource: Record<string, SourceLocation> = {};
  if (!hasGenerated) {
    const preview = new World(inventory, () => [...allLayers(undefined), ...extraLayers]);
    let map: unknown;
    try {
      map = preview.resolver(undefined).variable('overcloud_group_hosts_map');
    } catch (e) {
      if (!(e instanceof Failure)) throw e;
      problems.push({ severity: 'error', code: 'UnresolvedVariable', ...(e.origin ?? { file: '(unknown)' }), variable: e.variable, message: e.message });
    }
    const origin = preview.resolver(undefined).merged.get('overcloud_group_hosts_map')?.origin ?? { file: 'overcloud.yml' };
    if (map && typeof map === 'object' && !Array.isArray(map)) {
      for (const [group, hosts] of Object.entries(map as Record<string, unknown>)) {
        if (group === 'ignore') continue;
        if (!inventory.groups.get(group)?.declaredAt) {
          problems.push({ severity: 'error', code: 'UnknownGroup', ...origin, variable: 'overcloud_group_hosts_map', message: `group "${group}" is not declared in the inventory` });
          continue;
        }
        for (const h of Array.isArray(hosts) ? hosts : []) {
          const name = String(h);
          if (!inventory.hosts.has(name)) inventory.hosts.set(name, { name, vars: {}, varLocations: {}, declaredAt: [origin] });
          const g = inventory.groups.get(group)!;
          if (!g.hosts.includes(name)) g.hosts.push(name);
          mapSource[name] ??= origin;
        }
      }
    }
  }
  finishInventory(inventory);

  const controlHosts = [...inventory.hosts.values()].filter((h) => CONTROL_HOST(h.vars)).map((h) => h.name);
  for (const h of inventory.groups.get('ungrouped')!.hosts) {
    if (controlHosts.includes(h)) continue;
    const at = inventory.hosts.get(h)!.declaredAt[0]!;
    problems.push({ severity: 'error', code: 'HostInNoGroup', ...at, message: `host "${h}" is in no group, so no Kayobe command would manage it` });
  }
  bail();

  const depths = groupDepths(inventory);
  const priority = (g: string) => {
    const raw = sources.flatMap((s) => s.groupVars.get(g) ?? []).reduce<unknown>((p, f) => f.vars['ansible_group_priority'] ?? p, inventory.groups.get(g)?.vars['ansible_group_priority']);
    return Number(raw ?? 1) || 1;
  };

  function allLayers(host: string | undefined): Layer[] {
    const inlineLayer = (group: string): Layer => {
      const g = inventory.groups.get(group)!;
      return { vars: g.vars, where: (k) => g.varLocations[k] ?? { file: '(inventory)' } };
    };
    const layers: Layer[] = [inlineLayer('all')];
    for (const s of sources) layers.push(...(s.groupVars.get('all') ?? []).map(fileLayer));
    if (host === undefined) return layers;
    const groups = sortGroups(hostGroups(inventory, host), depths, priority);
    layers.push(...groups.map(inlineLayer));
    for (const s of sources) for (const g of groups) layers.push(...(s.groupVars.get(g) ?? []).map(fileLayer));
    const h = inventory.hosts.get(host)!;
    layers.push({ vars: h.vars, where: (k) => h.varLocations[k] ?? { file: '(inventory)' } });
    for (const s of sources) layers.push(...(s.hostVars.get(host) ?? []).map(fileLayer));
    return layers;
  }

  const world = new World(inventory, (host) => [...allLayers(host), ...extraLayers]);

  // Every user-written variable file and inventory line is checked for clear-text secrets.
  scanSecrets(
    [
      ...sources.slice(1).flatMap((s) => [...s.groupVars.values(), ...s.hostVars.values()].flat().map(fileLayer)),
      ...globalFiles.map(fileLayer),
      ...[...inventory.groups.values()].map((g) => ({ vars: g.vars, where: (k: string) => g.varLocations[k] ?? { file: '(inventory)' } })),
      ...[...inventory.hosts.values()].map((h) => ({ vars: h.vars, where: (k: string) => h.varLocations[k] ?? { file: '(inventory)' } })),
    ],
    problems,
  );

  // Unresolvable variables are reported once per (file, variable), with the hosts concerned.
  const unresolvedReports = new Map<string, { problem: Problem; hosts: Set<string> }>();
  const report = (e: Failure, host: string | undefined) => {
    const origin = e.origin ?? { file: '(unknown)' };
    const key = `${origin.file}:${origin.line ?? ''}:${e.variable}:${e.message}`;
    let r = unresolvedReports.get(key);
    if (!r) {
      r = { problem: { severity: 'warning', code: 'UnresolvedVariable', ...origin, variable: e.variable, message: `cannot be resolved at import: ${e.message}` }, hosts: new Set() };
      unresolvedReports.set(key, r);
    }
    if (host) r.hosts.add(host);
  };
  const tryVar = (r: Resolver, name: string): { ok: true; v: unknown } | { ok: false } => {
    try {
      return { ok: true, v: r.variable(name) };
    } catch (e) {
      if (!(e instanceof Failure)) throw e;
      report(e, r.host);
      const own = r.merged.get(name);
      if (e.variable !== name && own) {
        // The variable itself is fine but uses one that is not: name it too, pointing at the cause.
        const cause = `${e.variable} (${e.origin?.file ?? '?'}${e.origin?.line !== undefined ? `:${e.origin.line}` : ''})`;
        report(new Failure(`depends on ${cause}, which cannot be resolved`, name, own.origin), r.host);
      }
      return { ok: false };
    }
  };

  const managed = [...inventory.hosts.keys()].filter((h) => !controlHosts.includes(h));
  const hosts: ImportedHost[] = managed.map((name) => {
    const r = world.resolver(name);
    const vars: Record<string, unknown> = {};
    const origins: Record<string, SourceLocation> = {};
    const unresolved: string[] = [];
    for (const [k, { value, origin }] of [...r.merged].sort(([a], [b]) => (a < b ? -1 : 1))) {
      origins[k] = origin;
      const res = tryVar(r, k);
      if (res.ok) vars[k] = res.v;
      else {
        vars[k] = value;
        unresolved.push(k);
      }
    }
    const ni = vars['network_interfaces'];
    const networkInterfaces = Array.isArray(ni) && !unresolved.includes('network_interfaces') ? ni.map(String) : [];
    const networks: HostNetwork[] = networkInterfaces.map((net) => {
      const iface = unresolved.includes(`${net}_interface`) ? undefined : vars[`${net}_interface`];
      const ips = vars[`${net}_ips`];
      const ip = ips && typeof ips === 'object' && !Array.isArray(ips) ? (ips as Record<string, unknown>)[name] : undefined;
      return { name: net, ...(typeof iface === 'string' ? { interface: iface } : {}), ...(typeof ip === 'string' ? { ip } : {}) };
    });
    const h = inventory.hosts.get(name)!;
    return {
      name,
      groups: [...hostGroups(inventory, name)].filter((g) => g !== 'ungrouped').sort(),
      directGroups: [...inventory.groups.values()].filter((g) => g.hosts.includes(name) && g.name !== 'ungrouped').map((g) => g.name).sort(),
      source: mapSource[name] ?? h.declaredAt[0]!,
      vars,
      origins,
      unresolved,
      networkInterfaces,
      networks,
    };
  });

  // The global view: role names, network attributes, allocations and Kolla flags (same for every host).
  const g = world.resolver(undefined);
  const roles: Record<string, unknown> = {};
  for (const role of NETWORK_ROLES) {
    const res = tryVar(g, role);
    roles[role] = res.ok ? (res.v instanceof Undef || res.v === '' ? null : res.v) : null;
  }
  const netNames = new Set<string>();
  const roleOf = new Map<string, string[]>();
  for (const [role, v] of Object.entries(roles)) {
    for (const n of Array.isArray(v) ? v : [v]) {
      if (typeof n !== 'string' || !n) continue;
      netNames.add(n);
      const short = role.replace(/_net_names?$/, '');
      roleOf.set(n, [...(roleOf.get(n) ?? []), short]);
    }
  }
  hosts.forEach((h) => h.networkInterfaces.forEach((n) => netNames.add(n)));
  const allocations: Allocation[] = [];
  for (const [k, { origin }] of g.merged) {
    const m = /^(.+)_ips$/.exec(k);
    if (!m) continue;
    const res = tryVar(g, k);
    if (!res.ok || !res.v || typeof res.v !== 'object' || Array.isArray(res.v)) continue;
    netNames.add(m[1]!);
    for (const [host, ip] of Object.entries(res.v as Record<string, unknown>)) {
      allocations.push({ network: m[1]!, host, ip: String(ip), source: origin });
      if (!inventory.hosts.has(host)) {
        problems.push({ severity: 'warning', code: 'AllocationForUnknownHost', ...origin, variable: k, message: `allocates ${String(ip)} to "${host}", which is not in the inventory` });
      }
    }
  }
  allocations.sort((a, b) => (a.network + a.host < b.network + b.host ? -1 : 1));
  const networks: ImportedNetwork[] = [...netNames].sort().map((name) => {
    const attributes: Record<string, unknown> = {};
    for (const attr of GLOBAL_NETWORK_ATTRIBUTES) {
      if (!g.merged.has(`${name}_${attr}`)) continue;
      const res = tryVar(g, `${name}_${attr}`);
      attributes[attr] = res.ok ? res.v : g.merged.get(`${name}_${attr}`)!.value;
    }
    return { name, roles: roleOf.get(name) ?? [], attributes };
  });
  const kollaFlags: Record<string, boolean> = {};
  for (const k of [...g.merged.keys()].filter((k) => k.startsWith('kolla_enable_')).sort()) {
    const res = tryVar(g, k);
    if (res.ok) kollaFlags[k] = toBool(res.v);
  }

  for (const r of unresolvedReports.values()) problems.push({ ...r.problem, ...(r.hosts.size ? { hosts: [...r.hosts].sort() } : {}) });

  // Host configuration (what host preparation applies): a variable it cannot use fails the import.
  const configured = hosts.map((h) => {
    const c = hostConfigurationOf(h);
    problems.push(...c.problems);
    return c.configuration ? { ...h, configuration: c.configuration } : h;
  });
  bail();

  return {
    ...(env ? { environment: env } : {}),
    hosts: configured,
    groups: [...inventory.groups.values()].map((grp) => ({ name: grp.name, parents: [...grp.parents], children: [...grp.children], hosts: [...grp.hosts] })),
    roles,
    networks,
    allocations,
    kollaFlags,
    controlHosts,
    problems,
  };
}

