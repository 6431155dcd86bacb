/**
 * Ansible YAML inventories, read the way Ansible's `yaml` inventory plugin reads them (pure, no I/O).
 * Ansible hands a file to that plugin when its name ends in `.yml`, `.yaml` or `.json`; other files
 * of an inventory directory go to the INI parser (./inventory.ts). Both build the same Inventory.
 *
 * ```yaml
 * all:                      # any group may be at the top level
 *   hosts:
 *     localhost: {ansible_connection: local}
 *   vars: {ntp_servers: [pool.ntp.org]}
 *   children:
 *     controllers:
 *       hosts:
 *         ctl[01:03]:       # ranges, as in INI; `host:2222` sets ansible_port
 *       vars: {mtu: 9000}
 *     compute:
 *       children:
 *         controllers:      # null: a reference to a group declared elsewhere
 *     monitoring:           # null under all (or at the top level): declares an empty group
 * ```
 *
 * As in Ansible: a group's value is null or a mapping of `hosts`, `vars` and `children`; a section
 * given as a string means `{that: null}`; a host's value is null or a mapping of its variables;
 * children are defined in place (their hosts, vars and children) or referenced with null; values
 * are YAML 1.1 (PyYAML), `!vault` and `!unsafe` included.
 *
 * Stackyard is stricter where Ansible only warns or silently creates an empty group, so that a typo
 * cannot drop hosts: a key other than hosts/vars/children, a group or host value that is not a
 * mapping, and a child of a group other than `all` referenced with null that no inventory file
 * declares (by the end of this file, as for INI `[g:children]`) are errors. Like the INI parser it rejects circular children, a host
 * listed twice in one group and a host redefined with a conflicting variable. Every problem names the
 * file and line. A `plugin:` file (a dynamic inventory) is reported, not run.
 */
import { isAlias, isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { addChild, addGroup, declareHost, expandHostPattern, splitHostPort, type Inventory, type InventorySource } from './inventory';
import type { Problem, SourceLocation } from './problems';
import { TAGS } from './yaml-vars';

/** Ansible's yaml plugin extensions (its `yaml_extensions` default). */
export const YAML_INVENTORY = /\.(ya?ml|json)$/;

const SECTIONS = ['hosts', 'vars', 'children'];
/** Deeper nesting than this can only come from an alias that contains itself. */
const MAX_DEPTH = 64;

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kind(node: unknown, js: unknown): string {
  if (Array.isArray(js)) return 'a list';
  if (isScalar(node)) return `the ${typeof js} ${JSON.stringify(js)}`;
  return 'not a mapping';
}

interface Entry {
  readonly key: string;
  readonly line?: number;
  readonly node: unknown;
  readonly js: unknown;
}

/** Parses one YAML inventory file into `inv`, appending problems (file and line). */
export function parseYamlInventory(inv: Inventory, src: InventorySource, problems: Problem[]): void {
  const lc = new LineCounter();
  const doc: Document = parseDocument(src.text, { version: '1.1', customTags: TAGS, uniqueKeys: false, lineCounter: lc, prettyErrors: false });
  const err = (line: number | undefined, code: Problem['code'], message: string, variable?: string) =>
    problems.push({ severity: 'error', code, file: src.path, ...(line !== undefined ? { line } : {}), message, ...(variable ? { variable } : {}) });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? lc.linePos(first.pos[0]).line;
    return void err(line, 'MalformedYaml', `invalid YAML: ${first.message.split('\n')[0]}`);
  }
  const lineOf = (n: unknown): number | undefined => (isNode(n) && n.range ? lc.linePos(n.range[0]).line : undefined);
  const at = (line: number | undefined): SourceLocation => (line !== undefined ? { file: src.path, line } : { file: src.path });
  const resolve = (n: unknown): unknown => (isAlias(n) ? n.resolve(doc) : n);
  const isNull = (n: unknown) => n === null || n === undefined || (isScalar(n) && n.value === null);

  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    return void err(lineOf(doc.contents), 'MalformedYaml', `invalid YAML: ${(e as Error).message}`);
  }
  if (isNull(doc.contents)) return; // an empty file declares nothing
  if (!isMap(doc.contents) || !isDict(js)) {
    return void err(lineOf(doc.contents), 'MalformedInventory', 'a YAML inventory must be a mapping of group names to groups');
  }
  if ('plugin' in js) {
    problems.push({
      severity: 'warning',
      code: 'UnsupportedFeature',
      ...at(lineOf(doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'plugin')?.key)),
      message: `inventory plugin configuration ("plugin: ${String(js['plugin'])}"): dynamic inventories are not run by the import, so their hosts are missing`,
    });
    return;
  }

  /** The entries of a mapping node (in file order, duplicates included) with their converted values. */
  const entries = (node: unknown, jsMap: unknown): Entry[] | undefined => {
    const n = resolve(node);
    if (!isMap(n)) return undefined;
    return n.items.map((p) => {
      const key = isScalar(p.key) ? String(p.key.value) : String(p.key);
      return { key, line: lineOf(p.key), node: resolve(p.value), js: isDict(jsMap) ? jsMap[key] : undefined };
    });
  };

  const references: { child: string; parent: string; line?: number }[] = [];

  const group = (name: string, node: unknown, jsGroup: unknown, line: number | undefined, parent: string | undefined, depth: number): boolean => {
    if (depth > MAX_DEPTH) {
      err(line, 'MalformedInventory', `group "${name}" is nested more than ${MAX_DEPTH} levels deep (an alias that contains itself?)`);
      return false;
    }
    if (isNull(node)) {
      // At the top level or under `all`, naming a group declares it (INI `[g]`); under another
      // group it is a reference (INI `[parent:children]`), which must be declared somewhere.
      if (parent === undefined || parent === 'all') addGroup(inv, name, at(line));
      else {
        addGroup(inv, name);
        references.push({ child: name, parent, ...(line !== undefined ? { line } : {}) });
      }
      return true;
    }
    const items = entries(node, jsGroup);
    if (!items) {
      err(line, 'MalformedInventory', `group "${name}" must be a mapping of hosts, vars and children, not ${kind(node, jsGroup)}`);
      return false;
    }
    addGroup(inv, name, at(line));
    for (const section of items) {
      if (!SECTIONS.includes(section.key)) {
        err(section.line, 'MalformedInventory', `unexpected key "${section.key}" in group "${name}" (only hosts, vars and children are valid)`);
        continue;
      }
      if (isNull(section.node)) continue;
      const list: Entry[] | undefined =
        isScalar(section.node) && typeof section.js === 'string'
          ? [{ key: section.js, line: lineOf(section.node), node: null, js: null }]
          : entries(section.node, section.js);
      if (!list) {
        err(section.line, 'MalformedInventory', `"${section.key}" of group "${name}" must be a mapping, not ${kind(section.node, section.js)}`);
        continue;
      }
      if (section.key === 'vars') {
        const g = inv.groups.get(name)!;
        for (const v of list) {
          g.vars[v.key] = v.js ?? null;
          g.varLocations[v.key] = at(v.line);
        }
      } else if (section.key === 'children') {
        for (const c of list) {
          if (!group(c.key, c.node, c.js, c.line, name, depth + 1)) continue;
          // Every group is under `all` already: finishInventory attaches the parentless ones, as for
          // INI, so listing a group under `all` adds no edge (depths, the longest path, are the same).
          if (name === 'all') continue;
          const cycle = addChild(inv, name, c.key);
          if (cycle) err(c.line, 'CircularGroups', cycle);
        }
      } else {
        hosts(name, list);
      }
    }
    return true;
  };

  const hosts = (groupName: string, list: Entry[]) => {
    const seen = new Map<string, number | undefined>();
    for (const h of list) {
      const hostVars = isNull(h.node) ? [] : entries(h.node, h.js);
      if (!hostVars) {
        err(h.line, 'MalformedInventory', `host "${h.key}" in group "${groupName}" must have a mapping of variables or nothing, not ${kind(h.node, h.js)}`);
        continue;
      }
      const vars: Record<string, unknown> = {};
      const lines: Record<string, SourceLocation> = {};
      for (const v of hostVars) {
        vars[v.key] = v.js ?? null;
        lines[v.key] = at(v.line);
      }
      const { host, port } = splitHostPort(h.key);
      if (port !== undefined) {
        vars['ansible_port'] = port;
        lines['ansible_port'] = at(h.line);
      }
      for (const name of expandHostPattern(host)) {
        if (seen.has(name)) {
          const prev = seen.get(name);
          err(h.line, 'DuplicateHost', `host "${name}" is listed twice in the hosts of group "${groupName}"${prev !== undefined ? ` (first at line ${prev})` : ''}`);
          continue;
        }
        seen.set(name, h.line);
        // A host directly under `all` is ungrouped, as a host line before any INI section.
        declareHost(inv, name, groupName === 'all' ? 'ungrouped' : groupName, vars, (k) => lines[k] ?? at(h.line), at(h.line), (message, variable) =>
          err(lines[variable]?.line ?? h.line, 'DuplicateHost', message, variable),
        );
      }
    }
  };

  for (const top of entries(doc.contents, js)!) group(top.key, top.node, top.js, top.line, undefined, 0);

  const reported = new Set<string>();
  for (const r of references) {
    if (inv.groups.get(r.child)?.declaredAt || reported.has(r.child)) continue;
    reported.add(r.child);
    err(r.line, 'UnknownGroup', `group "${r.parent}" has child "${r.child}", which is not declared (it has no hosts, vars or children here and no inventory file declares it)`);
  }
}
