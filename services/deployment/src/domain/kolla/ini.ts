/**
 * Ansible's INI inventory format, the subset Kolla-Ansible and Kayobe use: `[group]` host lines
 * (`name key=value ...`), `[group:children]` and `[group:vars]`. Comments start with `#` or `;`.
 * Host ranges (`control[01:03]`) are not expanded; they are kept as written.
 */
export interface InventoryGroup {
  readonly name: string;
  readonly hosts: string[];
  readonly children: string[];
  readonly vars: Record<string, string>;
  readonly hostVars: Record<string, Record<string, string>>;
}

/** Groups in the order they first appear in the file (as a section or as a child). */
export interface Inventory {
  readonly groups: ReadonlyMap<string, InventoryGroup>;
  /** Section headers in file order, e.g. `nova-api:children`. */
  readonly sections: readonly string[];
}

export class InventoryParseError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'InventoryParseError';
  }
}

const SECTION = /^\[([^\]:\s]+)(?::(children|vars))?\]$/;

export function parseInventory(text: string): Inventory {
  const groups = new Map<string, InventoryGroup>();
  const group = (name: string): InventoryGroup => {
    let g = groups.get(name);
    if (!g) {
      g = { name, hosts: [], children: [], vars: {}, hostVars: {} };
      groups.set(name, g);
    }
    return g;
  };
  const sections: string[] = [];
  let current: { group: InventoryGroup; kind: 'hosts' | 'children' | 'vars' } | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    if (line.startsWith('[')) {
      const m = SECTION.exec(line);
      if (!m?.[1]) throw new InventoryParseError(i + 1, `bad section header ${JSON.stringify(line)}`);
      current = { group: group(m[1]), kind: (m[2] as 'children' | 'vars' | undefined) ?? 'hosts' };
      sections.push(m[2] ? `${m[1]}:${m[2]}` : m[1]);
      return;
    }
    if (!current) throw new InventoryParseError(i + 1, `entry outside a section: ${JSON.stringify(line)}`);
    const [first = '', ...rest] = line.split(/\s+/);
    if (current.kind === 'children') {
      if (!current.group.children.includes(first)) current.group.children.push(first);
      group(first);
    } else if (current.kind === 'vars') {
      const eq = line.indexOf('=');
      if (eq <= 0) throw new InventoryParseError(i + 1, `expected key=value, got ${JSON.stringify(line)}`);
      current.group.vars[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    } else {
      if (!current.group.hosts.includes(first)) current.group.hosts.push(first);
      if (rest.length) {
        const hv: Record<string, string> = (current.group.hostVars[first] ??= {});
        for (const kv of rest) {
          const eq = kv.indexOf('=');
          if (eq <= 0) throw new InventoryParseError(i + 1, `expected key=value after the host, got ${JSON.stringify(kv)}`);
          hv[kv.slice(0, eq)] = kv.slice(eq + 1);
        }
      }
    }
  });
  return { groups, sections };
}

/** Every host of a group, through its children (depth first, each host once, in file order). */
export function hostsOf(inv: Inventory, name: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (g: string, path: readonly string[]) => {
    if (path.includes(g)) return; // a cycle; ansible rejects it, we just stop
    const group = inv.groups.get(g);
    if (!group) return;
    for (const h of group.hosts) {
      if (seen.has(h)) continue;
      seen.add(h);
      out.push(h);
    }
    for (const c of group.children) visit(c, [...path, g]);
  };
  visit(name, []);
  return out;
}

/** The groups a host is in, directly or through children, in file order. */
export function groupsOf(inv: Inventory, host: string): string[] {
  return [...inv.groups.keys()].filter((g) => hostsOf(inv, g).includes(host));
}

/** Every host named anywhere in the inventory, in file order. */
export function allHosts(inv: Inventory): string[] {
  const out = new Set<string>();
  for (const g of inv.groups.values()) g.hosts.forEach((h) => out.add(h));
  return [...out];
}

/** The `[x:children]` sections as group definitions, in file order (e.g. custom components or services). */
export function childGroups(inv: Inventory): { name: string; children: string[] }[] {
  return inv.sections
    .filter((s) => s.endsWith(':children'))
    .map((s) => s.slice(0, -':children'.length))
    .map((name) => ({ name, children: [...(inv.groups.get(name)?.children ?? [])] }));
}
