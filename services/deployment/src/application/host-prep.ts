/**
 * Host preparation as a step of the node saga (between NetworkConfigured and the services deploy):
 * the host's HostPrepSpec from its layers (the DEPLOY_HOST_PREP_* defaults, the host configuration of
 * an imported Kayobe configuration, then HOST_PREP_FILE's groups), planned against the host's current
 * state and applied through a HostPreparer.
 */
import { StepFailedError, ValidationError } from '@stackyard/errors';
import type { HostConfiguration, HostRef } from '@stackyard/proto/inventory/v1/inventory';
import {
  EMPTY_HOST_STATE,
  enginePackages,
  kayobeDataVolumeGroup,
  planHostPrep,
  type ContainerEngineKind,
  type HostPrepSpec,
  type HostUser,
  type HostsEntry,
  type NtpSource,
  type OsFamily,
  type PlanStep,
  type SwapFile,
  type VolumeGroup,
} from '../domain/host-prep';
import type { Address, HostConfigurationRepository, HostPreparer, HostPrepTarget } from './ports';

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
  readonly swapFiles?: readonly SwapFile[];
  readonly containerEngine?: ContainerEngineKind | 'none';
  readonly registryMirrors?: readonly string[];
  readonly insecureRegistries?: readonly string[];
  readonly storageDriver?: string;
  readonly liveRestore?: boolean;
  /** Install the engine's packages (default true). */
  readonly installEngine?: boolean;
  /** The network whose addresses go to /etc/hosts (Kayobe's `etc_hosts_network`); '' : /etc/hosts not managed. */
  readonly etcHostsNetwork?: string;
  /** Kayobe's `custom_etc_hosts_entries`, after the site's hosts. */
  readonly extraHosts?: readonly HostsEntry[];
}

/**
 * The layers, lowest first: `defaults` (the DEPLOY_HOST_PREP_* settings), the host's imported Kayobe
 * configuration (Kayobe's defaults < the configuration, computed at import), then HOST_PREP_FILE:
 * `groups.all`, then each of the host's groups in the host's order. A later layer's value replaces an
 * earlier one; sysctl parameters are merged by key.
 */
export interface HostPrepSettings {
  readonly defaults: HostPrepVars;
  readonly groups: Readonly<Record<string, HostPrepVars>>;
  /** Keys authorised for the kolla user of an imported configuration (DEPLOY_HOST_PREP_SSH_KEYS). */
  readonly kollaSshKeys?: readonly string[];
}

/**
 * An imported host configuration as a layer: Kayobe's `users` plus its kolla user
 * (`kolla_ansible_user`, in `kolla_ansible_group` and docker's group, passwordless sudo, the operator's
 * keys), chrony, sysctl, LVM groups, swap, the container engine and /etc/hosts.
 */
export function importedVars(c: HostConfiguration, kollaSshKeys: readonly string[] = []): HostPrepVars {
  const engine = c.containerEngine === 'docker' || c.containerEngine === 'podman' ? c.containerEngine : 'none';
  const users: HostUser[] = c.users.map((u) => ({
    name: u.name,
    ...(u.uid !== undefined ? { uid: u.uid } : {}),
    ...(u.shell ? { shell: u.shell } : {}),
    ...(u.home ? { home: u.home } : {}),
    groups: [...u.groups],
    sshKeys: [...u.sshKeys],
  }));
  if (c.kollaUser && !users.some((u) => u.name === c.kollaUser)) {
    const groups = [...new Set([...(c.kollaGroup && c.kollaGroup !== c.kollaUser ? [c.kollaGroup] : []), ...(engine === 'docker' ? ['docker'] : [])])];
    users.push({ name: c.kollaUser, groups, sudo: true, sshKeys: [...kollaSshKeys] });
  }
  return {
    ...(c.osFamily === 'redhat' || c.osFamily === 'debian' ? { osFamily: c.osFamily } : {}),
    users,
    ntpServers: c.ntpServers.map((n) => ({ server: n.server, ...(n.type ? { type: n.type as NtpSource['type'] } : {}), ...(n.options.length ? { options: [...n.options] } : {}) })),
    ...(c.ntpRtcsync !== undefined ? { ntpRtcsync: c.ntpRtcsync } : {}),
    sysctl: Object.fromEntries(c.sysctlParameters.map((p) => [p.name, p.value])),
    // Kayobe's data VG is one of its lvm_groups: no separate data disks.
    lvmDataDisks: [],
    volumeGroups: c.lvmGroups.map((g) => ({
      name: g.name,
      disks: [...g.disks],
      logicalVolumes: g.logicalVolumes.map((lv) => ({
        name: lv.name,
        size: lv.size,
        ...(lv.filesystem ? { filesystem: lv.filesystem as 'ext4' | 'xfs' } : {}),
        ...(lv.mountPoint ? { mountPoint: lv.mountPoint } : {}),
      })),
    })),
    swap: c.swap.filter((x) => x.device).map((x) => x.device),
    swapFiles: c.swap.filter((x) => !x.device).map((x) => ({ path: x.path, sizeMb: x.sizeMb })),
    containerEngine: engine,
    registryMirrors: [...c.registryMirrors],
    insecureRegistries: [...c.insecureRegistries],
    ...(c.storageDriver ? { storageDriver: c.storageDriver } : {}),
    ...(c.liveRestore !== undefined ? { liveRestore: c.liveRestore } : {}),
    etcHostsNetwork: c.etcHostsNetwork,
    extraHosts: c.customEtcHosts.map((e) => ({ ip: e.ip, names: [...e.names] })),
  };
}

export function varsFor(settings: HostPrepSettings, groups: readonly string[], imported?: HostPrepVars): HostPrepVars {
  const layers = [settings.defaults, imported, settings.groups.all, ...groups.filter((g) => g !== 'all').map((g) => settings.groups[g])];
  let out: HostPrepVars = {};
  for (const l of layers) {
    if (!l) continue;
    const defined = Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)) as HostPrepVars;
    out = { ...out, ...defined, ...(l.sysctl ? { sysctl: { ...out.sysctl, ...l.sysctl } } : {}) };
  }
  return out;
}

/** The host's spec: its layers' variables and /etc/hosts from the given entries (then the extra ones). */
export function specFor(settings: HostPrepSettings, host: HostRef, hosts: readonly HostsEntry[], imported?: HostPrepVars): HostPrepSpec {
  const v = varsFor(settings, host.groups, imported);
  const engine = v.containerEngine === 'none' ? undefined : (v.containerEngine ?? 'docker');
  const volumeGroups = [...(v.lvmDataDisks?.length ? [kayobeDataVolumeGroup(v.lvmDataDisks, engine ?? 'docker')] : []), ...(v.volumeGroups ?? [])];
  return {
    hostname: host.name,
    osFamily: v.osFamily ?? 'redhat',
    users: v.users ?? [],
    hosts: [...hosts, ...(v.extraHosts ?? [])],
    ...(v.ntpServers?.length ? { ntp: { servers: v.ntpServers, ...(v.ntpRtcsync !== undefined ? { rtcsync: v.ntpRtcsync } : {}) } } : {}),
    sysctl: v.sysctl ?? {},
    volumeGroups,
    swap: v.swap ?? [],
    ...(v.swapFiles?.length ? { swapFiles: v.swapFiles } : {}),
    ...(engine
      ? {
          containerEngine: {
            engine,
            registryMirrors: v.registryMirrors ?? [],
            insecureRegistries: v.insecureRegistries ?? [],
            ...(v.storageDriver ? { storageDriver: v.storageDriver } : {}),
            ...(v.liveRestore !== undefined && engine === 'docker' ? { liveRestore: v.liveRestore } : {}),
            ...(v.installEngine === false ? { install: false } : {}),
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
export function hostsEntries(nodes: readonly SiteNode[], network: string = INTERNAL_NETWORK): HostsEntry[] {
  const byName = new Map<string, string>();
  for (const n of nodes) {
    const a = n.addresses?.find((x) => x.network === network);
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

/** A node of the site as host preparation sees it (its addresses give /etc/hosts). */
export interface SiteNode {
  readonly host: HostRef;
  readonly addresses?: readonly Address[];
}

/** Runs host preparation: spec, the host's current state, plan, apply. Idempotent through the planner. */
export class HostPrep {
  constructor(
    private readonly settings: HostPrepSettings,
    readonly preparer: HostPreparer,
    /** Imported host configurations (from HostRegistered/HostUpdated); without it only the settings count. */
    private readonly configurations?: HostConfigurationRepository,
  ) {}

  /** The host's imported layer: undefined for a host registered without a configuration. */
  private async imported(host: HostRef): Promise<HostPrepVars | undefined> {
    if (!this.configurations) return undefined;
    const r = await this.configurations.get(host.hostId);
    // Every host reaching this step was registered: its HostRegistered is not recorded yet (retry).
    if (!r) throw new StepFailedError('HostConfigurationPending', `the host configuration of ${host.name} (HostRegistered) has not been recorded yet`, true);
    return r.data.configuration ? importedVars(r.data.configuration, this.settings.kollaSshKeys) : undefined;
  }

  /** The spec of a host, with /etc/hosts from the site's nodes on its /etc/hosts network. */
  async specOf(host: HostRef, nodes: readonly SiteNode[]): Promise<HostPrepSpec> {
    const imported = await this.imported(host);
    const network = varsFor(this.settings, host.groups, imported).etcHostsNetwork;
    return specFor(this.settings, host, network === '' ? [] : hostsEntries(nodes, network ?? INTERNAL_NETWORK), imported);
  }

  async run(target: HostPrepTarget, nodes: readonly SiteNode[]): Promise<HostPrepOutcome> {
    const spec = await this.specOf(target.host, nodes);
    // Everything the spec manages on a fresh host (validates the spec: ValidationError naming the field).
    const full = planHostPrep(spec, EMPTY_HOST_STATE);
    const current = await this.preparer.inspect(target, full.files.map((f) => f.path), enginePackages(spec));
    const plan = planHostPrep(spec, current);
    if (plan.changed) await this.preparer.apply(target, plan);
    return { changed: plan.steps.map(describeStep), unchangedCount: Math.max(0, full.steps.length - plan.steps.length) };
  }
}
