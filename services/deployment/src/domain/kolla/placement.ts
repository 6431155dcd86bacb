import {
  COMPONENT_GROUPS,
  FLAGS,
  KOLLA_TOP_LEVEL_GROUPS,
  SERVICES,
  SERVICE_GROUPS,
  TOP_LEVEL_GROUP_MAP,
  type Condition,
  type FlagDefault,
  type GroupDef,
  type ServiceDef,
  type TopLevelGroupMap,
} from './catalogue';

/**
 * How Kayobe groups become Kolla groups: the top-level map plus the component and service layouts.
 * Each part can be replaced, like Kayobe's `kolla_overcloud_inventory_top_level_group_map`,
 * `kolla_overcloud_inventory_custom_components` and `kolla_overcloud_inventory_custom_services`.
 */
export interface KollaLayout {
  readonly topLevel: TopLevelGroupMap;
  readonly topLevelGroups: readonly string[];
  readonly components: readonly GroupDef[];
  readonly services: readonly GroupDef[];
}

export const DEFAULT_LAYOUT: KollaLayout = {
  topLevel: TOP_LEVEL_GROUP_MAP,
  topLevelGroups: KOLLA_TOP_LEVEL_GROUPS,
  components: COMPONENT_GROUPS,
  services: SERVICE_GROUPS,
};

export type Flags = Readonly<Record<string, boolean>>;

/** Every catalogue flag resolved: overrides win, the rest follow their defaults (which may follow other flags). */
export function resolveFlags(overrides: Flags = {}): Flags {
  const defs = new Map(FLAGS.map((f) => [f.name, f.default] as const));
  const out: Record<string, boolean> = {};
  const value = (name: string, path: readonly string[]): boolean => {
    const o = overrides[name];
    if (o !== undefined) return o;
    if (name in out) return out[name] as boolean;
    if (path.includes(name)) throw new Error(`flag cycle: ${[...path, name].join(' -> ')}`);
    const d: FlagDefault | undefined = defs.get(name);
    const v =
      d === undefined ? false : typeof d === 'boolean' ? d : 'all' in d ? d.all.every((x) => value(x, [...path, name])) : d.any.some((x) => value(x, [...path, name]));
    out[name] = v;
    return v;
  };
  for (const f of FLAGS) out[f.name] = value(f.name, []);
  for (const [name, v] of Object.entries(overrides)) out[name] = v;
  return out;
}

const holds = (flags: Flags, cond: Condition) => (cond.startsWith('!') ? !flags[cond.slice(1)] : flags[cond] === true);

export const serviceEnabled = (svc: ServiceDef, flags: Flags): boolean => svc.flag === undefined || flags[svc.flag] === true;

/** Enabled services in deploy order. */
export function enabledServices(flags: Flags): ServiceDef[] {
  return SERVICES.filter((s) => serviceEnabled(s, flags));
}

/** Enabled services whose dependencies are disabled, e.g. `nova needs rabbitmq (enable_rabbitmq is false)`. */
export function dependencyProblems(flags: Flags): string[] {
  const byName = new Map(SERVICES.map((s) => [s.name, s]));
  const out: string[] = [];
  for (const s of enabledServices(flags)) {
    for (const d of s.dependsOn) {
      const dep = byName.get(d);
      if (dep && !serviceEnabled(dep, flags)) out.push(`${s.name} needs ${d} (${dep.flag ?? d} is false)`);
    }
  }
  return out;
}

/** The Kayobe groups a layout maps into the Kolla inventory (the hosts of these groups are "overcloud"). */
export function mappedKayobeGroups(layout: KollaLayout = DEFAULT_LAYOUT): string[] {
  return [...new Set(Object.values(layout.topLevel).flatMap((m) => m.groups))];
}

/**
 * The Kolla inventory groups a host with these Kayobe groups is in: the mapped Kayobe groups, their
 * Kolla top-level groups, then every component and service group reached through `children`.
 */
export function kollaGroupsOf(kayobeGroups: readonly string[], layout: KollaLayout = DEFAULT_LAYOUT): Set<string> {
  const member = new Set<string>();
  const mapped = new Set(mappedKayobeGroups(layout));
  for (const kg of kayobeGroups) if (mapped.has(kg)) member.add(kg);
  for (const [kolla, m] of Object.entries(layout.topLevel)) if (m.groups.some((x) => member.has(x))) member.add(kolla);
  const all = [...layout.components, ...layout.services];
  let grew = member.size > 0;
  while (grew) {
    grew = false;
    for (const gdef of all) {
      if (!member.has(gdef.name) && gdef.children.some((ch) => member.has(ch))) {
        member.add(gdef.name);
        grew = true;
      }
    }
  }
  return member;
}

export interface PlannedContainer {
  readonly service: string;
  readonly name: string;
}

/** The containers of a host that is in these Kolla inventory groups, in deploy order, each once. */
export function containersFor(kollaGroups: ReadonlySet<string>, flags: Flags): PlannedContainer[] {
  const out: PlannedContainer[] = [];
  const seen = new Set<string>();
  for (const svc of enabledServices(flags)) {
    for (const ct of svc.containers) {
      if (seen.has(ct.name) || !ct.when.every((w) => holds(flags, w)) || !ct.groups.some((x) => kollaGroups.has(x))) continue;
      seen.add(ct.name);
      out.push({ service: svc.name, name: ct.name });
    }
  }
  return out;
}

export interface PlacementOptions {
  /** `enable_<x>` overrides (Kayobe's `kolla_enable_<x>`); the rest take Kayobe's defaults. */
  readonly flags?: Flags;
  readonly layout?: KollaLayout;
}

/**
 * The containers a host with these Kayobe groups runs, in deploy order. A host in no mapped group
 * is not an overcloud host and runs nothing.
 */
export function placement(kayobeGroups: readonly string[], opts: PlacementOptions = {}): PlannedContainer[] {
  return containersFor(kollaGroupsOf(kayobeGroups, opts.layout), resolveFlags(opts.flags));
}
