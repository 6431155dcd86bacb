/**
 * The host configuration of an imported host: what Kayobe's `host configure` would apply to it
 * (reference/kayobe.md §2.3), read from its effective variables after Kayobe's defaults
 * (./defaults.ts) and the configuration's layering. The generic names (`lvm_groups`, `users`, `swap`,
 * `sysctl_parameters`) come from the host's `<prefix>_*` variables through Kayobe's
 * `group_vars/<group>/*` files; errors name that `<prefix>_*` variable and where it is set.
 *
 * Secrets are not carried: users' passwords (and every other user key but the ones below) are dropped.
 */
import type { ConfiguredUser, EtcHostsEntry, HostConfiguration, LogicalVolume, LvmGroup, NtpServer, SwapSpace } from '@stackyard/proto/inventory/v1/inventory';
import { HOST_CONFIGURE_PREFIXES } from './defaults';
import { toBool } from './jinja';
import type { ImportedHost } from './config';
import type { Problem, SourceLocation } from './problems';

export const CONTAINER_ENGINES = ['docker', 'podman'] as const;

/** lvol sizes as Kayobe's LVM role passes them: `75%VG`, `100%FREE`, `100%PVS`, `20g`, `512M`. */
const LV_SIZE = /^(\d{1,3}%(VG|FREE|PVS)|\d+(\.\d+)?[bskmgtpeBSKMGTPE]?)$/;
const FS = ['ext2', 'ext3', 'ext4', 'xfs', 'btrfs'];

class Bad extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isNone = (v: unknown) => v === null || v === undefined || v === '';
const scalar = (v: unknown): v is string | number => typeof v === 'string' || typeof v === 'number';

function list(v: unknown, path: string): unknown[] {
  if (isNone(v)) return [];
  if (!Array.isArray(v)) throw new Bad(path, `must be a list, got ${JSON.stringify(v)}`);
  return v;
}

function str(v: unknown, path: string, required = false): string {
  if (isNone(v)) {
    if (required) throw new Bad(path, 'is required');
    return '';
  }
  if (!scalar(v)) throw new Bad(path, `must be a string, got ${JSON.stringify(v)}`);
  return String(v);
}

function strList(v: unknown, path: string): string[] {
  return list(v, path).map((x, i) => str(x, `${path}[${i}]`, true));
}

function users(v: unknown, path: string): ConfiguredUser[] {
  return list(v, path).map((u, i) => {
    const p = `${path}[${i}]`;
    if (!isMap(u)) throw new Bad(p, `must be a mapping with a username, got ${JSON.stringify(u)}`);
    const uid = u['uid'];
    if (!isNone(uid) && !(typeof uid === 'number' ? Number.isInteger(uid) && uid >= 0 : /^\d+$/.test(String(uid)))) throw new Bad(`${p}.uid`, `must be a non-negative integer, got ${JSON.stringify(uid)}`);
    const keys = u['ssh_key'];
    const sshKeys = Array.isArray(keys) ? strList(keys, `${p}.ssh_key`) : str(keys, `${p}.ssh_key`).split('\n').map((k) => k.trim()).filter(Boolean);
    const groups = typeof u['groups'] === 'string' ? u['groups'].split(',').map((g) => g.trim()).filter(Boolean) : strList(u['groups'], `${p}.groups`);
    return {
      name: str(u['username'], `${p}.username`, true),
      ...(isNone(uid) ? {} : { uid: Number(uid) }),
      shell: str(u['shell'], `${p}.shell`),
      home: str(u['home'], `${p}.home`),
      groups,
      sshKeys,
    };
  });
}

/** `chrony_ntp_servers` items: `{server, type, options: [{option, val}]}` (options may also be plain strings). */
function ntpServers(v: unknown, path: string): NtpServer[] {
  return list(v, path).map((s, i) => {
    const p = `${path}[${i}]`;
    if (scalar(s)) return { server: String(s), type: '', options: [] };
    if (!isMap(s)) throw new Bad(p, `must be a mapping with a server, got ${JSON.stringify(s)}`);
    const type = str(s['type'], `${p}.type`);
    if (type && !['server', 'pool', 'peer'].includes(type)) throw new Bad(`${p}.type`, `must be server, pool or peer, got ${JSON.stringify(type)}`);
    const options = list(s['options'], `${p}.options`).map((o, j) => {
      if (scalar(o)) return String(o);
      if (!isMap(o)) throw new Bad(`${p}.options[${j}]`, `must be {option, val}, got ${JSON.stringify(o)}`);
      const opt = str(o['option'], `${p}.options[${j}].option`, true);
      return isNone(o['val']) ? opt : `${opt} ${str(o['val'], `${p}.options[${j}].val`)}`;
    });
    return { server: str(s['server'], `${p}.server`, true), type, options };
  });
}

function sysctl(v: unknown, path: string): { name: string; value: string }[] {
  if (isNone(v)) return [];
  if (!isMap(v)) throw new Bad(path, `must be a mapping of sysctl names to values, got ${JSON.stringify(v)}`);
  return Object.keys(v)
    .sort()
    .map((name) => ({ name, value: str(v[name], `${path}.${name}`, true) }));
}

/** Kayobe's LVM groups (`mrlesmithjr.manage_lvm`): `{vgname, disks, create, lvnames: [{lvname, size, create, filesystem, mount, mntp}]}`. */
function lvmGroups(v: unknown, path: string): LvmGroup[] {
  return list(v, path).flatMap((g, i): LvmGroup[] => {
    const p = `${path}[${i}]`;
    if (!isMap(g)) throw new Bad(p, `must be a mapping with vgname, disks and lvnames, got ${JSON.stringify(g)}`);
    const name = str(g['vgname'], `${p}.vgname`, true);
    // Newer Kayobe also allows `disks: [{disk: /dev/sdb}]`.
    const disks = list(g['disks'], `${p}.disks`).map((d, j) => (isMap(d) ? str(d['disk'], `${p}.disks[${j}].disk`, true) : str(d, `${p}.disks[${j}]`, true)));
    if (disks.length === 0) throw new Bad(`${p}.disks`, `volume group ${name} has no disks`);
    disks.forEach((d, j) => {
      if (!/^\/dev\/[A-Za-z0-9._/-]+$/.test(d)) throw new Bad(`${p}.disks[${j}]`, `"${d}" is not a device path (/dev/...)`);
    });
    if (!isNone(g['create']) && !toBool(g['create'])) return [];
    const logicalVolumes = list(g['lvnames'], `${p}.lvnames`).flatMap((lv, j): LogicalVolume[] => {
      const lp = `${p}.lvnames[${j}]`;
      if (!isMap(lv)) throw new Bad(lp, `must be a mapping with lvname and size, got ${JSON.stringify(lv)}`);
      const lvName = str(lv['lvname'], `${lp}.lvname`, true);
      const size = str(lv['size'], `${lp}.size`, true);
      if (!LV_SIZE.test(size)) throw new Bad(`${lp}.size`, `"${size}" is not an LVM size (e.g. 75%VG, 100%FREE, 20g)`);
      const filesystem = str(lv['filesystem'], `${lp}.filesystem`);
      if (filesystem && !FS.includes(filesystem)) throw new Bad(`${lp}.filesystem`, `"${filesystem}" is not one of ${FS.join(', ')}`);
      if (!isNone(lv['create']) && !toBool(lv['create'])) return [];
      const mount = !isNone(lv['mount']) && toBool(lv['mount']);
      const mountPoint = mount ? str(lv['mntp'], `${lp}.mntp`, true) : '';
      if (mountPoint && !filesystem) throw new Bad(`${lp}.filesystem`, `logical volume ${lvName} is mounted at ${mountPoint} but has no filesystem`);
      return [{ name: lvName, size, filesystem, mountPoint }];
    });
    return [{ name, disks, logicalVolumes }];
  });
}

function swap(v: unknown, path: string): SwapSpace[] {
  return list(v, path).map((s, i) => {
    const p = `${path}[${i}]`;
    if (typeof s === 'string') return { device: s, path: '', sizeMb: 0 };
    if (!isMap(s)) throw new Bad(p, `must be {device} or {path, size_mb}, got ${JSON.stringify(s)}`);
    if (!isNone(s['device'])) return { device: str(s['device'], `${p}.device`), path: '', sizeMb: 0 };
    const file = str(s['path'], `${p}.path`, true);
    const size = Number(s['size_mb']);
    if (!Number.isInteger(size) || size <= 0) throw new Bad(`${p}.size_mb`, `a swap file needs a positive size_mb, got ${JSON.stringify(s['size_mb'])}`);
    return { device: '', path: file, sizeMb: size };
  });
}

function customEtcHosts(v: unknown, path: string): EtcHostsEntry[] {
  if (isNone(v)) return [];
  if (!isMap(v)) throw new Bad(path, `must be a mapping of host names to addresses, got ${JSON.stringify(v)}`);
  const byIp = new Map<string, string[]>();
  for (const name of Object.keys(v).sort()) {
    const ip = str(v[name], `${path}.${name}`, true);
    byIp.set(ip, [...(byIp.get(ip) ?? []), name]);
  }
  return [...byIp].map(([ip, names]) => ({ ip, names }));
}

/**
 * The host's configuration, or the problems (errors) that keep it from being one. A generic variable
 * set by Kayobe's `group_vars/<group>/*` is reported as the `<prefix>_*` variable it reads.
 */
export function hostConfigurationOf(h: ImportedHost): { configuration?: HostConfiguration; problems: Problem[] } {
  const problems: Problem[] = [];
  const fromDefaults = (name: string) => h.origins[name]?.file.match(/^\(kayobe defaults\)\/group_vars\/([^/]+)\//)?.[1];
  /** The variable an error is reported on, with where it is set. */
  const source = (name: string): { variable: string; at: SourceLocation } => {
    const group = fromDefaults(name);
    const prefix = group ? HOST_CONFIGURE_PREFIXES[group] : undefined;
    const variable = prefix && name !== 'container_engine_enabled' ? `${prefix}_${name}` : name;
    return { variable, at: h.origins[variable] ?? h.origins[name] ?? h.source };
  };
  const get = <T>(name: string, read: (v: unknown, path: string) => T, fallback: T): T => {
    if (!(name in h.vars) || h.unresolved.includes(name)) return fallback;
    const { variable, at } = source(name);
    try {
      return read(h.vars[name], variable);
    } catch (e) {
      if (!(e instanceof Bad)) throw e;
      problems.push({ severity: 'error', code: 'InvalidHostConfiguration', ...at, variable, hosts: [h.name], message: `${e.path}: ${e.message}` });
      return fallback;
    }
  };

  const osFamily =
    get('os_family', (v, p) => {
      const f = str(v, p).toLowerCase();
      if (f !== 'redhat' && f !== 'debian') throw new Bad(p, `"${String(v)}" is not RedHat or Debian`);
      return f;
    }, '') ||
    // Kayobe's os_family_map, when os_family itself is left to it.
    get('os_distribution', (v, p) => {
      const d = str(v, p).toLowerCase();
      const f = ({ centos: 'redhat', rocky: 'redhat', ubuntu: 'debian' } as Record<string, string>)[d];
      if (!f) throw new Bad(p, `"${String(v)}" is not one of centos, rocky, ubuntu`);
      return f;
    }, '');
  const inEngineGroup = h.groups.includes('container-engine') && get('container_engine_enabled', (v) => isNone(v) || toBool(v), true);
  const engine = get('container_engine', (v, p) => {
    const e = str(v, p);
    if (!(CONTAINER_ENGINES as readonly string[]).includes(e)) throw new Bad(p, `unknown container engine ${JSON.stringify(v)} (docker or podman)`);
    return e;
  }, 'docker');
  const registry = (prefix: 'docker' | 'podman'): string[] => {
    const reg = get(`${prefix}_registry`, str, '');
    const insecure = get(`${prefix}_registry_insecure`, (v) => !isNone(v) && toBool(v), false);
    return reg && insecure ? [reg] : [];
  };
  const liveRestore = engine === 'docker' ? get('docker_daemon_live_restore', (v) => (isNone(v) ? undefined : toBool(v)), undefined) : undefined;
  const rtcsync = get('chrony_rtcsync_enabled', (v) => (isNone(v) ? undefined : toBool(v)), undefined);

  const configuration: HostConfiguration = {
    osFamily,
    users: get('users', users, []),
    kollaUser: get('kolla_ansible_user', str, ''),
    kollaGroup: get('kolla_ansible_group', str, ''),
    ntpServers: get('chrony_ntp_servers', ntpServers, []),
    ...(rtcsync !== undefined ? { ntpRtcsync: rtcsync } : {}),
    sysctlParameters: get('sysctl_parameters', sysctl, []),
    lvmGroups: get('lvm_groups', lvmGroups, []),
    swap: get('swap', swap, []),
    containerEngine: inEngineGroup ? engine : '',
    registryMirrors: inEngineGroup ? get('docker_registry_mirrors', strList, []) : [],
    insecureRegistries: inEngineGroup ? registry(engine === 'podman' ? 'podman' : 'docker') : [],
    storageDriver: inEngineGroup && engine === 'docker' ? get('docker_storage_driver', str, '') : '',
    ...(inEngineGroup && liveRestore !== undefined ? { liveRestore } : {}),
    etcHostsNetwork: h.groups.includes('overcloud') ? get('etc_hosts_network', str, '') : '',
    customEtcHosts: get('custom_etc_hosts_entries', customEtcHosts, []),
  };
  return problems.length ? { problems } : { configuration, problems };
}
