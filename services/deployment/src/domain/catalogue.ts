/**
 * The Kolla-Ansible service catalogue and placement (reference/kayobe.md §5.1, §5.2). The data lives in
 * `kolla/catalogue.ts`, the placement rules in `kolla/placement.ts`; this module is the entry point the
 * application uses.
 */
export { COMPONENT_GROUPS, FLAGS, KOLLA_TOP_LEVEL_GROUPS, SERVICES, SERVICE_GROUPS, TOP_LEVEL_GROUP_MAP } from './kolla/catalogue';
export type { ContainerDef, FlagDef, GroupDef, ServiceDef, TopLevelGroupMap } from './kolla/catalogue';
export {
  DEFAULT_LAYOUT,
  containersFor,
  dependencyProblems,
  enabledServices,
  kollaGroupsOf,
  mappedKayobeGroups,
  placement,
  resolveFlags,
} from './kolla/placement';
export type { Flags, KollaLayout, PlacementOptions, PlannedContainer } from './kolla/placement';
