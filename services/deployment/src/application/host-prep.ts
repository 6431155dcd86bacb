/**
 * Host preparation as a step of the node saga (between NetworkConfigured and the services deploy):
 * the host's HostPrepSpec from the per-group settings (as Kayobe's `<group>_*` variables), planned
 * against the host's current state and applied through a HostPreparer.
 */
import { ValidationError } from '@stackyard/errors';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import {
  EMPTY_HOST_STATE,
  kayobeDataVolumeGroup,
  planHostPrep,
  type ContainerEngineKind,
  type HostPrepSpec,
  type HostUser,
  type HostsEntry,
  type NtpSource,
  type OsFamily,
  type PlanStep,
  type VolumeGroup,
} from '../domain/host-prep';
import type { Address, HostPreparer, HostPrepTarget } from './ports';

/** The network whose addresses go to /etc/hosts and that host preparation connects to (Kolla's api_interface network). */
export const INTERNAL_NETWORK = 'internal';

/** One group's host preparation variables (all optional: unset ones come from earlier layers). */
export interface HostPrepVars {
  readonly osFamily?: OsFamily;
  /** Kayobe's `<group>_users`; replaces the default kolla user when given. */
  readonly users?: readonly HostUser[];
  readonly ntpServers?: readonly NtpSource[];
  readonly ntpRtcsync?: boolean;
  /** `<group>_sysctl_parameters`: merged by key across layers. */
  readonly sysctl?: Readonly<Record<string, string | number>>;
  /** Disks of Kayobe's data VG (`<group>_lvm_group_data_disks`) with its docker-volumes LV. */
  readonly lvmDataDisks?: readonly string[];
  /** Other volume groups (`<group>_lvm_groups`), after the data VG. */
  readonly volumeGroups?: readonly VolumeGroup[];
  readonly swap?: readonly string[];
  readonly containerEngine?: ContainerEngineKind | 'none';
  readonly registryMirrors?: readonly string[];
  readonly insecureRegistries?: readonly string[];
  readonly storageDriver?: string;
  readonly liveRestore?: boolean;
}

/**
 * The layers: `defaults` (the DEPLOY_HOST_PREP_* settings), then `groups.all`, then each of the host's
 * groups in the host's order (HOST_PREP_FILE). A later layer's value replaces an earlier one; sysctl
 * parameters are merged by key.
 */
export interface HostPrepSettings {
  readonly defaults: HostPrepVars;
  readonly groups: Readonly<Record<string, HostPrepVars>>;
}

export function varsFor(settings: HostPrepSettings, groups: readonly string[]): HostPrepVars {
  const layers = [settings.defaults, settings.groups.all, ...groups.filter((g) => g !== 'all').map((g) => settings.groups[g])];
  let out: HostPrepVars = {};
  for (const l of layers) {
    if (!l) continue;
    const defined = Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)) as HostPrepVars;
    out = { ...out, ...defined, ...(l.sysctl ? { sysctl: { ...out.sysctl, ...l.sysctl } } : {}) };
  }
  return out;
}

/** The host's spec: its groups' variables and /etc/hosts from the given entries. */
export function specFor(settings: HostPrepSettings, host: HostRef, hosts: readonly HostsEntry[]): HostPrepSpec {
  const v = varsFor(settings, host.groups);
  const engine = v.containerEngine === 'none' ? undefined : (v.containerEngine ?? 'docker');
  const volumeGroups = [...(v.lvmDataDisks?.length ? [kayobeDataVolumeGroup(v.lvmDataDisks, engine ?? 'docker')] : []), ...(v.volumeGroups ?? [])];
  return {
    hostname: host.name,
    osFamily: v.osFamily ?? 'redhat',
    users: v.users ?? [],
    hosts,
    ...(v.ntpServers?.length ? { ntp: { servers: v.ntpServers, ...(v.ntpRtcsync !== undefined ? { rtcsync: v.ntpRtcsync } : {}) } } : {}),
    sysctl: v.sysctl ?? {},
    volumeGroups,
    swap: v.swap ?? [],
    ...(engine
      ? {
          containerEngine: {
            engine,
            registryMirrors: v.registryMirrors ?? [],
            insecureRegistries: v.insecureRegistries ?? [],
            ...(v.storageDriver ? { storageDriver: v.storageDriver } : {}),
            ...(v.liveRestore !== undefined && engine === 'docker' ? { liveRestore: v.liveRestore } : {}),
          },
        }
      : {}),
  };
}

/** Checks the spec every group (and the defaults alone) would give; ValidationError naming the group and field. */
export function validateHostPrepSettings(settings: HostPrepSettings): HostPrepSettings {
  for (const g of ['', ...Object.keys(settings.groups)]) {
    try {
      planHostPrep(specFor(settings, { hostId: 'check', siteId: 'check', name: 'check', groups: g ? [g] : [] }, []));
    } catch (e) {
      if (e instanceof ValidationError) throw new ValidationError(g ? `${g}.${e.field}` : e.field, e.message.slice(e.field.length + 2));
      throw e;
    }
  }
  return settings;
}

/**
 * /etc/hosts entries: every node of the site with an address on the internal network (the service
 * knows them from NetworkConfigured), one name each, sorted by name; the first address per name wins.
 */
export function hostsEntries(nodes: readonly { host: HostRef; addresses?: readonly Address[] }[]): HostsEntry[] {
  const byName = new Map<string, string>();
  for (const n of nodes) {
    const a = n.addresses?.find((x) => x.network === INTERNAL_NETWORK);
    if (a && !byName.has(n.host.name)) byName.set(n.host.name, a.address);
  }
  return [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, ip]) => ({ ip, names: [name] }));
}

/** The address host preparation reaches the host at: its internal address, else its first one. */
export function targetAddress(addresses: readonly Address[]): string | undefined {
  return (addresses.find((a) => a.network === INTERNAL_NETWORK) ?? addresses[0])?.address;
}

/** A step as HostPrepared lists it. */
export function describeStep(s: PlanStep): string {
  return s.kind === 'file' ? `file ${s.path}` : s.reason;
}

export interface HostPrepOutcome {
  readonly changed: string[];
  readonly unchangedCount: number;
}

/** Runs host preparation: spec, the host's current state, plan, apply. Idempotent through the planner. */
export class HostPrep {
  constructor(
    private readonly settings: HostPrepSettings,
    readonly preparer: HostPreparer,
  ) {}

  async run(target: HostPrepTarget, hosts: readonly HostsEntry[]): Promise<HostPrepOutcome> {
    const spec = specFor(this.settings, target.host, hosts);
    // Everything the spec manages on a fresh host (validates the spec: ValidationError naming the field).
    const full = planHostPrep(spec, EMPTY_HOST_STATE);
    const current = await this.preparer.inspect(target, full.files.map((f) => f.path));
    const plan = planHostPrep(spec, current);
    if (plan.changed) await this.preparer.apply(target, plan);
    return { changed: plan.steps.map(describeStep), unchangedCount: Math.max(0, full.steps.length - plan.steps.length) };
  }
}
