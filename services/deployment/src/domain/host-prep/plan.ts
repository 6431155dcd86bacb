/**
 * The pure planner: renders the files and commands that bring a host to its HostPrepSpec,
 * skipping everything that `current` already shows, so a second run yields an empty plan.
 */
import { parseLvSize, validateHostPrepSpec, type HostPrepSpec, type NtpSpec, type ContainerEngineSpec } from './spec';

/** What is already on the host, as an executor reported it. */
export interface HostState {
  /** Contents of files that exist (at least those the plan may manage). */
  readonly files: Readonly<Record<string, string>>;
  readonly users: readonly { readonly name: string; readonly groups: readonly string[] }[];
  readonly groups: readonly string[];
  readonly volumeGroups: readonly { readonly name: string; readonly disks: readonly string[]; readonly logicalVolumes: readonly string[] }[];
  /** Mount points currently mounted. */
  readonly mounts: readonly string[];
  /** Swap devices (and files) currently active. */
  readonly activeSwap: readonly string[];
  /** Installed packages, among those the plan may install (`enginePackages`); missing: none known. */
  readonly packages?: readonly string[];
}

export const EMPTY_HOST_STATE: HostState = { files: {}, users: [], groups: [], volumeGroups: [], mounts: [], activeSwap: [], packages: [] };

export interface FileStep {
  readonly kind: 'file';
  readonly path: string;
  readonly content: string;
  readonly mode: string;
  readonly owner: string;
}

export interface CommandStep {
  readonly kind: 'command';
  readonly argv: readonly string[];
  readonly reason: string;
}

export type PlanStep = FileStep | CommandStep;

export interface HostPrepPlan {
  readonly hostname: string;
  /** In the order an executor must apply them. Files: write atomically, creating parent dirs. */
  readonly steps: readonly PlanStep[];
  readonly files: readonly FileStep[];
  readonly commands: readonly CommandStep[];
  readonly changed: boolean;
  readonly summary: string;
}

export const BLOCK_BEGIN = '# BEGIN STACKYARD MANAGED BLOCK';
export const BLOCK_END = '# END STACKYARD MANAGED BLOCK';
const HEADER = '# Managed by Stackyard host-prep. Do not edit.\n';

/** Replaces (or appends) the managed block in `existing`; the rest of the file is kept. */
export function withManagedBlock(existing: string | undefined, body: string): string {
  const block = `${BLOCK_BEGIN}\n${body}${BLOCK_END}\n`;
  if (existing === undefined || existing === '') return block;
  const begin = existing.indexOf(`${BLOCK_BEGIN}\n`);
  const end = existing.indexOf(`${BLOCK_END}\n`, begin);
  if (begin >= 0 && end > begin) return existing.slice(0, begin) + block + existing.slice(end + BLOCK_END.length + 1);
  return `${existing}${existing.endsWith('\n') ? '' : '\n'}${block}`;
}

/** JSON with object keys sorted at every level, 2-space indent, trailing newline. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sort(o[k])]));
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function chronyPath(osFamily: HostPrepSpec['osFamily']): string {
  return osFamily === 'debian' ? '/etc/chrony/chrony.conf' : '/etc/chrony.conf';
}

export function renderChrony(ntp: NtpSpec, osFamily: HostPrepSpec['osFamily']): string {
  const sources = ntp.servers.map((s) => [s.type ?? 'server', s.server, ...(s.options ?? [])].join(' '));
  const drift = osFamily === 'debian' ? '/var/lib/chrony/chrony.drift' : '/var/lib/chrony/drift';
  const lines = [...sources, `driftfile ${drift}`, 'makestep 1.0 3', ...(ntp.rtcsync === false ? [] : ['rtcsync'])];
  return `${HEADER}${lines.join('\n')}\n`;
}

export const SYSCTL_PATH = '/etc/sysctl.d/50-kayobe.conf';

export function renderSysctl(params: Readonly<Record<string, string | number>>): string {
  const keys = Object.keys(params).sort(cmp);
  return `${HEADER}${keys.map((k) => `${k} = ${String(params[k])}`).join('\n')}\n`;
}

export function renderHostsBlock(hosts: HostPrepSpec['hosts']): string {
  return hosts.map((h) => `${h.ip} ${h.names.join(' ')}\n`).join('');
}

export function renderDockerDaemon(ce: ContainerEngineSpec): string {
  const cfg: Record<string, unknown> = { 'storage-driver': ce.storageDriver ?? 'overlay2' };
  if (ce.registryMirrors.length > 0) cfg['registry-mirrors'] = [...ce.registryMirrors];
  if (ce.insecureRegistries.length > 0) cfg['insecure-registries'] = [...ce.insecureRegistries].sort(cmp);
  if (ce.liveRestore !== undefined) cfg['live-restore'] = ce.liveRestore;
  return stableJson(cfg);
}

/** registries.conf v2: mirrors apply to docker.io (as docker's registry-mirrors do). */
export function renderPodmanRegistries(ce: ContainerEngineSpec): string {
  const out: string[] = [HEADER.trimEnd(), 'unqualified-search-registries = ["docker.io"]'];
  const insecure = [...ce.insecureRegistries].sort(cmp);
  if (ce.registryMirrors.length > 0 || insecure.includes('docker.io')) {
    out.push('', '[[registry]]', 'location = "docker.io"');
    if (insecure.includes('docker.io')) out.push('insecure = true');
    for (const m of ce.registryMirrors) out.push('', '[[registry.mirror]]', `location = ${JSON.stringify(m.replace(/^https?:\/\//, ''))}`);
  }
  for (const r of insecure.filter((x) => x !== 'docker.io')) out.push('', '[[registry]]', `location = ${JSON.stringify(r)}`, 'insecure = true');
  return `${out.join('\n')}\n`;
}

export function renderPodmanStorage(ce: ContainerEngineSpec): string {
  return `${HEADER}[storage]\ndriver = ${JSON.stringify(ce.storageDriver ?? 'overlay')}\n`;
}

const lvDevice = (vg: string, lv: string): string => `/dev/${vg}/${lv}`;

/** Docker CE's repository on Red Hat family hosts (Kolla-Ansible's docker role uses the same one). */
export const DOCKER_CE_REPO_PATH = '/etc/yum.repos.d/docker-ce.repo';
export function renderDockerCeRepo(): string {
  return `${HEADER}[docker-ce-stable]\nname=Docker CE Stable - $basearch\nbaseurl=https://download.docker.com/linux/centos/$releasever/$basearch/stable\nenabled=1\ngpgcheck=1\ngpgkey=https://download.docker.com/linux/centos/gpg\n`;
}

/**
 * The packages of the container engine (Kayobe's container-engine step): Docker CE from Docker's
 * repository on Red Hat family hosts, the distribution's `docker.io` on Debian family hosts, podman
 * from the distribution. Empty when the spec does not install an engine.
 */
export function enginePackages(spec: HostPrepSpec): string[] {
  const ce = spec.containerEngine;
  if (ce === undefined || ce.install === false) return [];
  if (ce.engine === 'podman') return ['podman'];
  return spec.osFamily === 'redhat' ? ['docker-ce', 'docker-ce-cli', 'containerd.io'] : ['docker.io'];
}

/** Plans host preparation. Validates `spec` first (ValidationError on bad input). */
export function planHostPrep(spec: HostPrepSpec, current: HostState = EMPTY_HOST_STATE): HostPrepPlan {
  validateHostPrepSpec(spec);
  const steps: PlanStep[] = [];
  const cmd = (reason: string, ...argv: string[]): void => {
    steps.push({ kind: 'command', argv, reason });
  };
  /** Adds the file when its content differs; returns whether it did. */
  const file = (path: string, content: string, mode = '0644', owner = 'root'): boolean => {
    if (current.files[path] === content) return false;
    steps.push({ kind: 'file', path, content, mode, owner });
    return true;
  };

  // Groups and users (users role; the kolla user is one of them).
  const users = [...spec.users].sort((a, b) => cmp(a.name, b.name));
  const knownGroups = new Set(current.groups);
  for (const g of [...new Set(users.flatMap((u) => u.groups))].sort(cmp)) {
    if (!knownGroups.has(g)) cmd(`create group ${g}`, 'groupadd', g);
  }
  for (const u of users) {
    const existing = current.users.find((c) => c.name === u.name);
    const home = u.home ?? `/home/${u.name}`;
    if (existing === undefined) {
      const argv = ['useradd', '--create-home', '--home-dir', home, '--user-group', '--shell', u.shell ?? '/bin/bash'];
      if (u.uid !== undefined) argv.push('--uid', String(u.uid));
      if (u.groups.length > 0) argv.push('--groups', [...u.groups].sort(cmp).join(','));
      cmd(`create user ${u.name}`, ...argv, u.name);
    } else {
      const missing = u.groups.filter((g) => !existing.groups.includes(g)).sort(cmp);
      if (missing.length > 0) cmd(`add ${u.name} to ${missing.join(', ')}`, 'usermod', '--append', '--groups', missing.join(','), u.name);
    }
    if (u.sshKeys.length > 0) file(`${home}/.ssh/authorized_keys`, `${u.sshKeys.join('\n')}\n`, '0600', u.name);
    if (u.sudo === true) file(`/etc/sudoers.d/${u.name}`, `${u.name} ALL=(ALL) NOPASSWD: ALL\n`, '0440');
  }

  // /etc/hosts (etc-hosts): only the managed block is ours.
  if (spec.hosts.length > 0) file('/etc/hosts', withManagedBlock(current.files['/etc/hosts'], renderHostsBlock(spec.hosts)));

  // sysctl.
  if (Object.keys(spec.sysctl).length > 0 && file(SYSCTL_PATH, renderSysctl(spec.sysctl))) cmd('load sysctl parameters', 'sysctl', '-p', SYSCTL_PATH);

  // time (chrony).
  if (spec.ntp !== undefined && spec.ntp.servers.length > 0 && file(chronyPath(spec.osFamily), renderChrony(spec.ntp, spec.osFamily))) {
    cmd('restart chrony', 'systemctl', 'restart', spec.osFamily === 'debian' ? 'chrony' : 'chronyd');
  }

  // lvm.
  const fstab: string[] = [];
  const toMount: string[] = [];
  for (const vg of spec.volumeGroups) {
    const have = current.volumeGroups.find((c) => c.name === vg.name);
    if (have === undefined) cmd(`create volume group ${vg.name}`, 'vgcreate', vg.name, ...vg.disks);
    else {
      const extra = vg.disks.filter((d) => !have.disks.includes(d));
      if (extra.length > 0) cmd(`extend volume group ${vg.name}`, 'vgextend', vg.name, ...extra);
    }
    for (const lv of vg.logicalVolumes) {
      const dev = lvDevice(vg.name, lv.name);
      const created = have === undefined || !have.logicalVolumes.includes(lv.name);
      if (created) {
        const size = parseLvSize(lv.size);
        const sizeArgs = size?.kind === 'percent' ? ['--extents', lv.size] : ['--size', lv.size];
        cmd(`create logical volume ${vg.name}/${lv.name}`, 'lvcreate', '--yes', '--name', lv.name, ...sizeArgs, vg.name);
        if (lv.filesystem !== undefined) cmd(`make ${lv.filesystem} on ${dev}`, `mkfs.${lv.filesystem}`, dev);
      }
      if (lv.mountPoint !== undefined && lv.filesystem !== undefined) {
        fstab.push(`${dev} ${lv.mountPoint} ${lv.filesystem} defaults 0 2\n`);
        if (!current.mounts.includes(lv.mountPoint)) toMount.push(lv.mountPoint);
      }
    }
  }

  // swap.
  const toSwapOn: string[] = [];
  for (const d of spec.swap) {
    fstab.push(`${d} none swap sw 0 0\n`);
    if (!current.activeSwap.includes(d)) {
      cmd(`make swap on ${d}`, 'mkswap', d);
      toSwapOn.push(d);
    }
  }
  for (const f of spec.swapFiles ?? []) {
    fstab.push(`${f.path} none swap sw 0 0\n`);
    if (!current.activeSwap.includes(f.path)) {
      cmd(`allocate swap file ${f.path}`, 'fallocate', '--length', `${f.sizeMb}MiB`, f.path);
      cmd(`restrict swap file ${f.path}`, 'chmod', '0600', f.path);
      cmd(`make swap on ${f.path}`, 'mkswap', f.path);
      toSwapOn.push(f.path);
    }
  }
  if (fstab.length > 0) file('/etc/fstab', withManagedBlock(current.files['/etc/fstab'], fstab.join('')));
  for (const m of toMount) {
    cmd(`create mount point ${m}`, 'mkdir', '-p', m);
    cmd(`mount ${m}`, 'mount', m);
  }
  for (const d of toSwapOn) cmd(`enable swap on ${d}`, 'swapon', d);

  // container-engine.
  // Packages first (a fresh install starts the service with the configuration written next).
  const ce = spec.containerEngine;
  const installed = new Set(current.packages ?? []);
  const missing = enginePackages(spec).filter((p) => !installed.has(p));
  if (missing.length > 0) {
    if (ce?.engine === 'docker' && spec.osFamily === 'redhat') file(DOCKER_CE_REPO_PATH, renderDockerCeRepo());
    if (spec.osFamily === 'redhat') cmd(`install ${missing.join(', ')}`, 'dnf', 'install', '-y', ...missing);
    else cmd(`install ${missing.join(', ')}`, 'apt-get', 'install', '-y', ...missing);
  }
  if (ce?.engine === 'docker') {
    const configured = file('/etc/docker/daemon.json', renderDockerDaemon(ce));
    if (missing.length > 0) cmd('enable and start docker', 'systemctl', 'enable', '--now', 'docker');
    else if (configured) cmd('restart docker', 'systemctl', 'restart', 'docker');
  } else if (ce?.engine === 'podman') {
    file('/etc/containers/registries.conf', renderPodmanRegistries(ce));
    file('/etc/containers/storage.conf', renderPodmanStorage(ce));
  }

  const files = steps.filter((s): s is FileStep => s.kind === 'file');
  const commands = steps.filter((s): s is CommandStep => s.kind === 'command');
  const changed = steps.length > 0;
  const summary = changed
    ? `${spec.hostname}: ${files.length} file(s) to write${files.length > 0 ? ` (${files.map((f) => f.path).join(', ')})` : ''}, ${commands.length} command(s) to run`
    : `${spec.hostname}: no changes`;
  return { hostname: spec.hostname, steps, files, commands, changed, summary };
}
