/**
 * Ansible INI inventories, parsed the way Ansible's `ini` inventory plugin does (pure, no I/O).
 *
 * - `[group]` lists hosts (`name key=value …`, `name[01:03]` ranges), `[group:children]` lists child
 *   groups, `[group:vars]` holds `key=value` lines; lines before any section are ungrouped hosts.
 * - Several files build one inventory, parsed in order (Ansible reads an inventory directory's files
 *   sorted by name). A child group or `:vars` section naming a group that is not declared by the end
 *   of the file (nor in an earlier file) is an error, as in Ansible ("includes undefined group").
 * - A group that becomes its own ancestor is an error (Ansible: "recursive dependency loop").
 * Stackyard adds: a host listed twice in one section, or with conflicting inline variables, is a
 * `DuplicateHost` error.
 */
import { evaluate, parseExpression, type Scope, Undef } from './jinja';
import type { Problem, SourceLocation } from './problems';

export interface InventoryGroup {
  readonly name: string;
  readonly children: string[];
  readonly parents: string[];
  /** Hosts listed directly in the group, in file order. */
  readonly hosts: string[];
  /** `[group:vars]` values. */
  readonly vars: Record<string, unknown>;
  readonly varLocations: Record<string, SourceLocation>;
  declaredAt?: SourceLocation;
}

export interface InventoryHost {
  readonly name: string;
  /** Inline `key=value` variables of the host lines. */
  readonly vars: Record<string, unknown>;
  readonly varLocations: Record<string, SourceLocation>;
  readonly declaredAt: SourceLocation[];
}

export interface Inventory {
  readonly groups: Map<string, InventoryGroup>;
  readonly hosts: Map<string, InventoryHost>;
}

export interface InventorySource {
  readonly path: string;
  readonly text: string;
}

export function emptyInventory(): Inventory {
  const inv: Inventory = { groups: new Map(), hosts: new Map() };
  addGroup(inv, 'all', { file: '(implicit)' });
  addGroup(inv, 'ungrouped', { file: '(implicit)' });
  return inv;
}

export function addGroup(inv: Inventory, name: string, at?: SourceLocation): InventoryGroup {
  let g = inv.groups.get(name);
  if (!g) {
    g = { name, children: [], parents: [], hosts: [], vars: {}, varLocations: {} };
    inv.groups.set(name, g);
  }
  if (at && !g.declaredAt) g.declaredAt = at;
  return g;
}

/** Whether `maybeDescendant` is reachable from `group` through children (or is it). */
function reaches(inv: Inventory, group: string, maybeDescendant: string): boolean {
  const seen = new Set<string>();
  const stack = [group];
  while (stack.length) {
    const g = stack.pop()!;
    if (g === maybeDescendant) return true;
    if (seen.has(g)) continue;
    seen.add(g);
    stack.push(...(inv.groups.get(g)?.children ?? []));
  }
  return false;
}

/** Adds `child` under `parent`; returns an error message instead when that would create a cycle. */
export function addChild(inv: Inventory, parent: string, child: string): string | undefined {
  if (reaches(inv, child, parent)) {
    return `adding group "${child}" as a child of "${parent}" creates a cycle (${[parent, ...cyclePath(inv, child, parent)].join(' → ')})`;
  }
  const p = addGroup(inv, parent);
  const c = addGroup(inv, child);
  if (!p.children.includes(child)) p.children.push(child);
  if (!c.parents.includes(parent)) c.parents.push(parent);
  return undefined;
}

function cyclePath(inv: Inventory, from: string, to: string): string[] {
  const walk = (g: string, path: string[]): string[] | undefined => {
    if (g === to) return [...path, g];
    if (path.includes(g)) return undefined;
    for (const c of inv.groups.get(g)?.children ?? []) {
      const r = walk(c, [...path, g]);
      if (r) return r;
    }
    return undefined;
  };
  return walk(from, []) ?? [from, to];
}

const NO_SCOPE: Scope = {
  variable: (n) => new Undef(n),
  inventoryHostnames: () => [],
  hostVariable: (_h, n) => new Undef(n),
  hasHost: () => false,
};

/** Ansible's `_parse_value`: a Python literal when it is one, otherwise the string. */
export function parseIniValue(v: string): unknown {
  const s = v.trim();
  if (/^-?\d+$/.test(s)) return Number(s);
  if (/^-?\d+\.\d*$/.test(s)) return Number(s);
  if (s === 'True') return true;
  if (s === 'False') return false;
  if (s === 'None') return null;
  if (/^(['"[{(])/.test(s)) {
    try {
      const r = evaluate(parseExpression(s), NO_SCOPE);
      if (!(r instanceof Undef)) return r;
    } catch {
      // not a literal: keep the string
    }
  }
  return v;
}

/** Splits a host line like shlex does: whitespace-separated, quotes group, `#` starts a comment. */
function shlexSplit(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '#' && !has) {
      break;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

/** Expands Ansible host ranges: `node[01:03]`, `rack[a:c]-x`, `n[0:10:5]`. */
export function expandHostPattern(pattern: string): string[] {
  const m = /^(.*?)\[([0-9a-z]+):([0-9a-z]+)(?::(\d+))?\](.*)$/.exec(pattern);
  if (!m) return [pattern];
  const [, head = '', beg = '', end = '', stride = '1', tail = ''] = m;
  const out: string[] = [];
  if (/^\d+$/.test(beg) && /^\d+$/.test(end)) {
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    for (let i = Number(beg); i <= Number(end); i += Number(stride)) out.push(String(i).padStart(width, '0'));
  } else {
    for (let c = beg.charCodeAt(0); c <= end.charCodeAt(0); c += Number(stride)) out.push(String.fromCharCode(c));
  }
  return out.flatMap((x) => expandHostPattern(`${head}${x}${tail}`));
}

/**
 * Declares `name` in `group` with its inline variables. A variable that an earlier declaration set
 * to another value is reported through `conflict` (Stackyard's DuplicateHost), then replaced.
 */
export function declareHost(
  inv: Inventory,
  name: string,
  group: string,
  vars: Record<string, unknown>,
  where: (key: string) => SourceLocation,
  at: SourceLocation,
  conflict: (message: string, variable: string) => void,
): void {
  let h = inv.hosts.get(name);
  if (!h) {
    h = { name, vars: {}, varLocations: {}, declaredAt: [] };
    inv.hosts.set(name, h);
  }
  h.declaredAt.push(at);
  for (const [k, v] of Object.entries(vars)) {
    const before = h.varLocations[k];
    if (before && JSON.stringify(h.vars[k]) !== JSON.stringify(v)) {
      conflict(`host "${name}" is defined again with a different value (first at ${before.file}:${before.line})`, k);
    }
    h.vars[k] = v;
    h.varLocations[k] = where(k);
  }
  const g = addGroup(inv, group);
  if (!g.hosts.includes(name)) g.hosts.push(name);
}

/** `host:port` (not an IPv6 address): the host pattern and the port. */
export function splitHostPort(pattern: string): { host: string; port?: number } {
  const m = /^([^:[\]]+|\[[^\]]+\][^:]*):(\d+)$/.exec(pattern);
  return m && !pattern.includes('::') ? { host: m[1]!, port: Number(m[2]) } : { host: pattern };
}

const SECTION = /^\[([^\]:\s]+)(?::(\w+))?\]\s*([#;].*)?$/;

/** Parses one INI inventory file into `inv`, appending problems. */
export function parseIniInventory(inv: Inventory, src: InventorySource, problems: Problem[]): void {
  // Ansible resolves forward references within one file; what is still pending at the end is an error.
  const pendingChildren = new Map<string, { line: number; parents: string[] }>();
  const pendingVars = new Map<string, { line: number; vars: Record<string, unknown>; locations: Record<string, SourceLocation> }>();
  let group = 'ungrouped';
  let state: 'hosts' | 'children' | 'vars' = 'hosts';
  const seenInSection = new Map<string, number>();
  const err = (line: number, code: Problem['code'], message: string, variable?: string) =>
    problems.push({ severity: 'error', code, file: src.path, line, message, ...(variable ? { variable } : {}) });
  const declared = (g: string) => inv.groups.get(g)?.declaredAt !== undefined;

  src.text.split(/\r?\n/).forEach((rawLine, idx) => {
    const lineNo = idx + 1;
    const line = rawLine.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const at = { file: src.path, line: lineNo };
    if (line.startsWith('[')) {
      const m = SECTION.exec(line);
      if (!m) return void err(lineNo, 'MalformedInventory', `invalid section header "${line}"`);
      group = m[1]!;
      const kind = m[2] ?? 'hosts';
      if (kind !== 'hosts' && kind !== 'children' && kind !== 'vars') {
        return void err(lineNo, 'MalformedInventory', `section [${group}:${kind}] has an invalid type "${kind}" (use :children or :vars)`);
      }
      state = kind;
      seenInSection.clear();
      if (state === 'vars') {
        if (!declared(group) && !pendingVars.has(group)) pendingVars.set(group, { line: lineNo, vars: {}, locations: {} });
        return;
      }
      addGroup(inv, group, at);
      const pc = pendingChildren.get(group);
      if (pc) {
        for (const parent of pc.parents) {
          const cyc = addChild(inv, parent, group);
          if (cyc) err(pc.line, 'CircularGroups', cyc);
        }
        pendingChildren.delete(group);
      }
      const pv = pendingVars.get(group);
      if (pv) {
        const g = inv.groups.get(group)!;
        Object.assign(g.vars, pv.vars);
        Object.assign(g.varLocations, pv.locations);
        pendingVars.delete(group);
      }
      return;
    }
    if (state === 'hosts') {
      const tokens = shlexSplit(line);
      const [pattern, ...kvs] = tokens;
      if (!pattern) return;
      const vars: Record<string, unknown> = {};
      for (const kv of kvs) {
        const eqAt = kv.indexOf('=');
        if (eqAt <= 0) return void err(lineNo, 'MalformedInventory', `expected key=value after host "${pattern}", got "${kv}"`);
        vars[kv.slice(0, eqAt)] = parseIniValue(kv.slice(eqAt + 1));
      }
      const { host: hostPattern, port } = splitHostPort(pattern);
      if (port !== undefined) vars['ansible_port'] = port;
      for (const name of expandHostPattern(hostPattern)) {
        const prev = seenInSection.get(name);
        if (prev !== undefined) {
          err(lineNo, 'DuplicateHost', `host "${name}" is listed twice in [${group}] (first at line ${prev})`);
          continue;
        }
        seenInSection.set(name, lineNo);
        declareHost(inv, name, group, vars, () => at, at, (message, variable) => err(lineNo, 'DuplicateHost', message, variable));
      }
      return;
    }
    if (state === 'children') {
      const child = shlexSplit(line)[0];
      if (!child) return;
      if (!declared(child)) {
        const p = pendingChildren.get(child);
        if (p) p.parents.push(group);
        else pendingChildren.set(child, { line: lineNo, parents: [group] });
        return;
      }
      const cyc = addChild(inv, group, child);
      if (cyc) err(lineNo, 'CircularGroups', cyc);
      return;
    }
    // vars
    const eqAt = line.indexOf('=');
    if (eqAt <= 0) return void err(lineNo, 'MalformedInventory', `expected key=value in [${group}:vars], got "${line}"`);
    const key = line.slice(0, eqAt).trim();
    const value = parseIniValue(line.slice(eqAt + 1).trim());
    const pv = pendingVars.get(group);
    const target = pv ?? inv.groups.get(group)!;
    target.vars[key] = value;
    (pv ? pv.locations : inv.groups.get(group)!.varLocations)[key] = at;
  });

  for (const [name, p] of pendingVars) {
    err(p.line, 'UnknownGroup', `section [${name}:vars] is for group "${name}", which is not declared`);
  }
  for (const [name, p] of pendingChildren) {
    err(p.line, 'UnknownGroup', `section [${p.parents[0]!}:children] includes group "${name}", which is not declared`);
  }
}

/** Finishes an inventory: parentless groups go under `all`, groupless hosts under `ungrouped`. */
export function finishInventory(inv: Inventory): void {
  for (const g of inv.groups.values()) {
    if (g.name !== 'all' && g.parents.length === 0) addChild(inv, 'all', g.name);
  }
  const grouped = new Set<string>();
  for (const g of inv.groups.values()) if (g.name !== 'ungrouped' && g.name !== 'all') g.hosts.forEach((h) => grouped.add(h));
  const ungrouped = inv.groups.get('ungrouped')!;
  for (const h of inv.hosts.keys()) {
    if (grouped.has(h)) {
      const i = ungrouped.hosts.indexOf(h);
      if (i >= 0) ungrouped.hosts.splice(i, 1);
    } else if (!ungrouped.hosts.includes(h)) ungrouped.hosts.push(h);
  }
}

/** Depth of every group: the longest path from `all` (Ansible sorts group variables by it). */
export function groupDepths(inv: Inventory): Map<string, number> {
  const depth = new Map<string, number>();
  const visit = (g: string, d: number) => {
    if ((depth.get(g) ?? -1) >= d) return;
    depth.set(g, d);
    for (const c of inv.groups.get(g)?.children ?? []) visit(c, d + 1);
  };
  visit('all', 0);
  return depth;
}

/** Every group a host belongs to (direct groups and their ancestors), without `all`. */
export function hostGroups(inv: Inventory, host: string): Set<string> {
  const out = new Set<string>();
  const up = (g: string) => {
    if (out.has(g) || g === 'all') return;
    out.add(g);
    for (const p of inv.groups.get(g)?.parents ?? []) up(p);
  };
  for (const g of inv.groups.values()) if (g.hosts.includes(host)) up(g.name);
  return out;
}

/** Ansible's `sort_groups`: by depth, then `ansible_group_priority`, then name. */
export function sortGroups(names: Iterable<string>, depths: Map<string, number>, priority: (g: string) => number): string[] {
  return [...names].sort((a, b) => (depths.get(a) ?? 0) - (depths.get(b) ?? 0) || priority(a) - priority(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Hosts of a group, children included, in inventory order. */
export function groupHosts(inv: Inventory, group: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (g: string) => {
    if (seen.has(g)) return;
    seen.add(g);
    const grp = inv.groups.get(g);
    if (!grp) return;
    for (const h of grp.hosts) if (!out.includes(h)) out.push(h);
    for (const c of grp.children) walk(c);
  };
  if (group === 'all') return [...inv.hosts.keys()];
  walk(group);
  return out;
}

/** `query('inventory_hostnames', pattern)` for the patterns configs use: `a`, `a:b`, `a:&b`, `a:!b`, `all`. */
export function matchPattern(inv: Inventory, pattern: string): string[] {
  let out: string[] = [];
  for (const [i, raw] of pattern.split(/[:,]/).entries()) {
    const term = raw.trim();
    if (!term) continue;
    const op = term[0] === '&' || term[0] === '!' ? term[0] : '';
    const name = op ? term.slice(1) : term;
    const hosts = inv.groups.has(name) ? groupHosts(inv, name) : inv.hosts.has(name) ? [name] : [];
    if (op === '&') out = out.filter((h) => hosts.includes(h));
    else if (op === '!') out = out.filter((h) => !hosts.includes(h));
    else out = i === 0 ? hosts : [...out, ...hosts.filter((h) => !out.includes(h))];
  }
  return out;
}
