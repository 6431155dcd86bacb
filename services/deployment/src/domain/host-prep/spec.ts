/**
 * Host preparation ("host configure") as Kayobe does it with its `<group>_*` variables
 * (kayobe.md §2.3): users with SSH keys (`<group>_users`, the kolla user), `/etc/hosts`,
 * NTP via chrony (`chrony_ntp_servers`), sysctl (`<group>_sysctl_parameters`), LVM
 * (`<group>_lvm_groups`, data VG with the `docker-volumes` LV at 75%VG ext4), swap
 * (`<group>_swap`, a list of devices) and the container engine (`container_engine`,
 * `docker_registry_mirrors`, `docker_registry_insecure`, `docker_storage_driver`).
 * Pure: types and validation only.
 */
import { ValidationError } from '@stackyard/errors';

export type OsFamily = 'debian' | 'redhat';
export type ContainerEngineKind = 'docker' | 'podman';
export type NtpSourceType = 'server' | 'pool' | 'peer';
export type Filesystem = 'ext4' | 'xfs';

export interface HostUser {
  readonly name: string;
  readonly uid?: number;
  readonly shell?: string;
  /** Defaults to /home/<name>. */
  readonly home?: string;
  /** Supplementary groups (created if missing). */
  readonly groups: readonly string[];
  /** Passwordless sudo via /etc/sudoers.d/<name> (as for the kolla user). */
  readonly sudo?: boolean;
  readonly sshKeys: readonly string[];
}

export interface HostsEntry {
  readonly ip: string;
  readonly names: readonly string[];
}

/** One `chrony_ntp_servers` item; options are chrony words, e.g. `iburst`, `maxsources 3`. */
export interface NtpSource {
  readonly server: string;
  readonly type?: NtpSourceType;
  readonly options?: readonly string[];
}

export interface NtpSpec {
  readonly servers: readonly NtpSource[];
  /** `chrony_rtcsync_enabled`, default true. */
  readonly rtcsync?: boolean;
}

/** `size` in lvol notation: `75%VG`, `100%FREE`, `20g`, `512m`, `1t`. */
export interface LogicalVolume {
  readonly name: string;
  readonly size: string;
  readonly filesystem?: Filesystem;
  readonly mountPoint?: string;
}

export interface VolumeGroup {
  readonly name: string;
  readonly disks: readonly string[];
  /** Capacity of the disks, when known: lets absolute LV sizes be checked. */
  readonly sizeGiB?: number;
  readonly logicalVolumes: readonly LogicalVolume[];
}

export interface ContainerEngineSpec {
  readonly engine: ContainerEngineKind;
  readonly registryMirrors: readonly string[];
  readonly insecureRegistries: readonly string[];
  /** Default overlay2 (docker) / overlay (podman). */
  readonly storageDriver?: string;
  /** `docker_daemon_live_restore`; docker only. */
  readonly liveRestore?: boolean;
  /** Install the engine's packages and enable its service (default true), as Kayobe's container-engine step does. */
  readonly install?: boolean;
}

/** A swap file (`<group>_swap: [{path, size_mb}]`). */
export interface SwapFile {
  readonly path: string;
  readonly sizeMb: number;
}

export interface HostPrepSpec {
  readonly hostname: string;
  readonly osFamily: OsFamily;
  readonly users: readonly HostUser[];
  readonly hosts: readonly HostsEntry[];
  /** Omitted or no servers: chrony is not managed. */
  readonly ntp?: NtpSpec;
  /** Empty: no sysctl file is managed. */
  readonly sysctl: Readonly<Record<string, string | number>>;
  readonly volumeGroups: readonly VolumeGroup[];
  /** Swap devices (`<group>_swap: [{device: ...}]`). */
  readonly swap: readonly string[];
  /** Swap files (`<group>_swap: [{path: ..., size_mb: ...}]`). */
  readonly swapFiles?: readonly SwapFile[];
  readonly containerEngine?: ContainerEngineSpec;
}

export const DOCKER_STORAGE_DRIVERS = ['btrfs', 'fuse-overlayfs', 'overlay2', 'vfs', 'zfs'] as const;
export const PODMAN_STORAGE_DRIVERS = ['btrfs', 'overlay', 'vfs', 'zfs'] as const;

/** Kayobe's default data VG: `docker-volumes` (or `podman-volumes`) LV, 75%VG, ext4. */
export function kayobeDataVolumeGroup(disks: readonly string[], engine: ContainerEngineKind = 'docker'): VolumeGroup {
  return {
    name: 'data',
    disks,
    logicalVolumes: [
      engine === 'docker'
        ? { name: 'docker-volumes', size: '75%VG', filesystem: 'ext4', mountPoint: '/var/lib/docker/volumes' }
        : { name: 'podman-volumes', size: '75%VG', filesystem: 'ext4', mountPoint: '/var/lib/containers/storage/volumes' },
    ],
  };
}

export type ParsedSize = { readonly kind: 'percent'; readonly of: 'VG' | 'FREE'; readonly percent: number } | { readonly kind: 'absolute'; readonly gib: number };

const UNIT_GIB: Record<string, number> = { m: 1 / 1024, g: 1, t: 1024 };

/** Parses an lvol size; undefined when malformed. */
export function parseLvSize(size: string): ParsedSize | undefined {
  const pct = /^(\d{1,3})%(VG|FREE)$/.exec(size);
  if (pct) {
    const percent = Number(pct[1]);
    if (percent < 1 || percent > 100) return undefined;
    return { kind: 'percent', of: pct[2] === 'VG' ? 'VG' : 'FREE', percent };
  }
  const abs = /^(\d+(?:\.\d+)?)([mgt])$/i.exec(size);
  if (abs) {
    const gib = Number(abs[1]) * (UNIT_GIB[abs[2]!.toLowerCase()] ?? 1);
    return gib > 0 ? { kind: 'absolute', gib } : undefined;
  }
  return undefined;
}

const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4_RE = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6_RE = /^[0-9A-Fa-f:]+(:(\d{1,3}\.){3}\d{1,3})?$/;
const SYSCTL_KEY_RE = /^[a-z][a-z0-9_]*(\.[A-Za-z0-9_-]+)+$/;
const SSH_KEY_RE = /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\n\r]*)?$/;
const LVM_NAME_RE = /^[A-Za-z0-9+_][A-Za-z0-9+_.-]{0,126}$/;
const ABS_PATH_RE = /^\/[A-Za-z0-9._/-]*$/;
const DEVICE_RE = /^\/dev\/[A-Za-z0-9._/-]+$/;
const REGISTRY_RE = /^(https?:\/\/)?[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._/-]*)?$/;
const OPTION_RE = /^[a-z]+( [A-Za-z0-9.:_-]+)?$/;

function isIp(ip: string): boolean {
  return IPV4_RE.test(ip) || (ip.includes(':') && IPV6_RE.test(ip));
}

function dupes(values: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) return v;
    seen.add(v);
  }
  return undefined;
}

/** Throws ValidationError(field, message) on the first bad field; returns the spec unchanged. */
export function validateHostPrepSpec(spec: HostPrepSpec): HostPrepSpec {
  if (!HOSTNAME_RE.test(spec.hostname)) throw new ValidationError('hostname', `invalid hostname ${JSON.stringify(spec.hostname)}`);
  if (spec.osFamily !== 'debian' && spec.osFamily !== 'redhat') throw new ValidationError('osFamily', `must be debian or redhat, got ${JSON.stringify(spec.osFamily)}`);

  const userNames = new Set<string>();
  spec.users.forEach((u, i) => {
    const f = `users[${i}]`;
    if (!USER_RE.test(u.name)) throw new ValidationError(`${f}.name`, `invalid user name ${JSON.stringify(u.name)}`);
    if (userNames.has(u.name)) throw new ValidationError(`${f}.name`, `duplicate user ${JSON.stringify(u.name)}`);
    userNames.add(u.name);
    if (u.uid !== undefined && (!Number.isInteger(u.uid) || u.uid < 0 || u.uid > 4294967294)) throw new ValidationError(`${f}.uid`, `invalid uid ${u.uid}`);
    if (u.shell !== undefined && !ABS_PATH_RE.test(u.shell)) throw new ValidationError(`${f}.shell`, `must be an absolute path`);
    if (u.home !== undefined && !ABS_PATH_RE.test(u.home)) throw new ValidationError(`${f}.home`, `must be an absolute path`);
    u.groups.forEach((g, j) => {
      if (!USER_RE.test(g)) throw new ValidationError(`${f}.groups[${j}]`, `invalid group name ${JSON.stringify(g)}`);
    });
    const dg = dupes(u.groups);
    if (dg !== undefined) throw new ValidationError(`${f}.groups`, `duplicate group ${JSON.stringify(dg)}`);
    u.sshKeys.forEach((k, j) => {
      if (!SSH_KEY_RE.test(k)) throw new ValidationError(`${f}.sshKeys[${j}]`, 'not an OpenSSH public key line');
    });
    const dk = dupes(u.sshKeys);
    if (dk !== undefined) throw new ValidationError(`${f}.sshKeys`, 'duplicate ssh key');
  });

  const hostNames = new Set<string>();
  spec.hosts.forEach((h, i) => {
    if (!isIp(h.ip)) throw new ValidationError(`hosts[${i}].ip`, `invalid IP address ${JSON.stringify(h.ip)}`);
    if (h.names.length === 0) throw new ValidationError(`hosts[${i}].names`, 'at least one name is required');
    h.names.forEach((n, j) => {
      if (!HOSTNAME_RE.test(n)) throw new ValidationError(`hosts[${i}].names[${j}]`, `invalid host name ${JSON.stringify(n)}`);
      if (hostNames.has(n)) throw new ValidationError(`hosts[${i}].names[${j}]`, `duplicate host name ${JSON.stringify(n)}`);
      hostNames.add(n);
    });
  });

  spec.ntp?.servers.forEach((s, i) => {
    if (!HOSTNAME_RE.test(s.server) && !isIp(s.server)) throw new ValidationError(`ntp.servers[${i}].server`, `invalid NTP server ${JSON.stringify(s.server)}`);
    if (s.type !== undefined && !['server', 'pool', 'peer'].includes(s.type)) throw new ValidationError(`ntp.servers[${i}].type`, `must be server, pool or peer, got ${JSON.stringify(s.type)}`);
    (s.options ?? []).forEach((o, j) => {
      if (!OPTION_RE.test(o)) throw new ValidationError(`ntp.servers[${i}].options[${j}]`, `invalid chrony option ${JSON.stringify(o)}`);
    });
  });

  for (const [key, value] of Object.entries(spec.sysctl)) {
    if (!SYSCTL_KEY_RE.test(key)) throw new ValidationError(`sysctl.${key}`, `invalid sysctl key ${JSON.stringify(key)}`);
    const v = String(value);
    if (typeof value === 'number' ? !Number.isFinite(value) : v.trim() === '' || /[\n\r#]/.test(v)) throw new ValidationError(`sysctl.${key}`, `invalid value ${JSON.stringify(value)}`);
  }

  const vgNames = new Set<string>();
  const allDisks = new Set<string>();
  const mountPoints = new Set<string>();
  spec.volumeGroups.forEach((vg, i) => {
    const f = `volumeGroups[${i}]`;
    if (!LVM_NAME_RE.test(vg.name)) throw new ValidationError(`${f}.name`, `invalid volume group name ${JSON.stringify(vg.name)}`);
    if (vgNames.has(vg.name)) throw new ValidationError(`${f}.name`, `duplicate volume group ${JSON.stringify(vg.name)}`);
    vgNames.add(vg.name);
    if (vg.disks.length === 0) throw new ValidationError(`${f}.disks`, `the physical disk list has not been configured for volume group ${vg.name}`);
    vg.disks.forEach((d, j) => {
      if (!DEVICE_RE.test(d)) throw new ValidationError(`${f}.disks[${j}]`, `invalid device ${JSON.stringify(d)}`);
      if (allDisks.has(d)) throw new ValidationError(`${f}.disks[${j}]`, `disk ${d} is used twice`);
      allDisks.add(d);
    });
    if (vg.sizeGiB !== undefined && !(vg.sizeGiB > 0)) throw new ValidationError(`${f}.sizeGiB`, 'must be positive');
    const lvNames = new Set<string>();
    let pctVg = 0;
    let absGib = 0;
    let free = 0;
    vg.logicalVolumes.forEach((lv, j) => {
      const lf = `${f}.logicalVolumes[${j}]`;
      if (!LVM_NAME_RE.test(lv.name)) throw new ValidationError(`${lf}.name`, `invalid logical volume name ${JSON.stringify(lv.name)}`);
      if (lvNames.has(lv.name)) throw new ValidationError(`${lf}.name`, `duplicate logical volume ${JSON.stringify(lv.name)}`);
      lvNames.add(lv.name);
      const size = parseLvSize(lv.size);
      if (size === undefined) throw new ValidationError(`${lf}.size`, `invalid size ${JSON.stringify(lv.size)} (use e.g. 75%VG, 100%FREE, 20g)`);
      if (size.kind === 'percent' && size.of === 'VG') pctVg += size.percent;
      if (size.kind === 'percent' && size.of === 'FREE' && ++free > 1) throw new ValidationError(`${lf}.size`, 'only one logical volume per volume group may use %FREE');
      if (size.kind === 'absolute') {
        if (vg.sizeGiB !== undefined && size.gib > vg.sizeGiB) throw new ValidationError(`${lf}.size`, `${lv.size} is larger than volume group ${vg.name} (${vg.sizeGiB}g)`);
        absGib += size.gib;
      }
      if (pctVg > 100) throw new ValidationError(`${lf}.size`, `logical volumes of ${vg.name} add up to ${pctVg}%VG`);
      if (vg.sizeGiB !== undefined && absGib + (pctVg / 100) * vg.sizeGiB > vg.sizeGiB + 1e-9) throw new ValidationError(`${lf}.size`, `logical volumes of ${vg.name} do not fit in ${vg.sizeGiB}g`);
      if (lv.filesystem !== undefined && lv.filesystem !== 'ext4' && lv.filesystem !== 'xfs') throw new ValidationError(`${lf}.filesystem`, `must be ext4 or xfs, got ${JSON.stringify(lv.filesystem)}`);
      if (lv.mountPoint !== undefined) {
        if (lv.filesystem === undefined) throw new ValidationError(`${lf}.mountPoint`, 'a mount point needs a filesystem');
        if (!ABS_PATH_RE.test(lv.mountPoint) || lv.mountPoint === '/') throw new ValidationError(`${lf}.mountPoint`, `invalid mount point ${JSON.stringify(lv.mountPoint)}`);
        if (mountPoints.has(lv.mountPoint)) throw new ValidationError(`${lf}.mountPoint`, `mount point ${lv.mountPoint} is used twice`);
        mountPoints.add(lv.mountPoint);
      }
    });
  });

  spec.swap.forEach((d, i) => {
    if (!DEVICE_RE.test(d)) throw new ValidationError(`swap[${i}]`, `invalid device ${JSON.stringify(d)}`);
    if (allDisks.has(d)) throw new ValidationError(`swap[${i}]`, `device ${d} is already used`);
    allDisks.add(d);
  });

  (spec.swapFiles ?? []).forEach((f, i) => {
    if (!ABS_PATH_RE.test(f.path) || f.path === '/') throw new ValidationError(`swapFiles[${i}].path`, `invalid swap file path ${JSON.stringify(f.path)}`);
    if (!Number.isInteger(f.sizeMb) || f.sizeMb <= 0) throw new ValidationError(`swapFiles[${i}].sizeMb`, `must be a positive number of MiB, got ${f.sizeMb}`);
    if (allDisks.has(f.path) || mountPoints.has(f.path)) throw new ValidationError(`swapFiles[${i}].path`, `${f.path} is already used`);
    allDisks.add(f.path);
  });

  const ce = spec.containerEngine;
  if (ce !== undefined) {
    if (ce.engine !== 'docker' && ce.engine !== 'podman') throw new ValidationError('containerEngine.engine', `must be docker or podman, got ${JSON.stringify(ce.engine)}`);
    ce.registryMirrors.forEach((m, i) => {
      if (!/^https?:\/\//.test(m) || !REGISTRY_RE.test(m)) throw new ValidationError(`containerEngine.registryMirrors[${i}]`, `invalid mirror URL ${JSON.stringify(m)}`);
    });
    ce.insecureRegistries.forEach((r, i) => {
      if (/^https?:\/\//.test(r) || !REGISTRY_RE.test(r)) throw new ValidationError(`containerEngine.insecureRegistries[${i}]`, `invalid registry ${JSON.stringify(r)} (host[:port], no scheme)`);
    });
    const drivers: readonly string[] = ce.engine === 'docker' ? DOCKER_STORAGE_DRIVERS : PODMAN_STORAGE_DRIVERS;
    if (ce.storageDriver !== undefined && !drivers.includes(ce.storageDriver)) throw new ValidationError('containerEngine.storageDriver', `${JSON.stringify(ce.storageDriver)} is not a ${ce.engine} storage driver (${drivers.join(', ')})`);
    if (ce.liveRestore !== undefined && ce.engine !== 'docker') throw new ValidationError('containerEngine.liveRestore', 'only docker supports live-restore');
  }
  return spec;
}
