import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetryable, StepFailedError } from '@stackyard/errors';
import { freePort, waitForPort } from '@stackyard/devinfra';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import { HostPrep, type HostPrepSettings } from '../../application/host-prep';
import { SshHostPreparer, type SshHostPreparerOptions } from './ssh-preparer';

// A private OpenSSH server on a free loopback port (as the network service's ssh applier test does),
// with its own host key and an authorised key generated here. The preparer runs the system ssh client
// for real; files are read and written under a temporary root, and the host's commands (useradd,
// vgcreate, mount, systemctl, …) are stand-ins first on the remote PATH that log their argv and keep
// the state the probe reads back (root's /etc/passwd and /etc/group, pvs/lvs, findmnt, swapon --show).
const SSHD = '/usr/sbin/sshd';
const dir = mkdtempSync(join(tmpdir(), 'stackyard-host-prep-'));
const ROOT = join(dir, 'root');
const BIN = join(dir, 'bin');
const STATE = join(dir, 'state');
const user = userInfo().username;
const host: HostRef = { hostId: 'dc1-ctl-01', siteId: 'dc1', name: 'ctl-01', groups: ['controllers'] };
let sshd: ChildProcess | undefined;
let sshdLog = '';
let port = 0;

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0 kolla@seed';
const SETTINGS: HostPrepSettings = {
  defaults: { osFamily: 'debian', users: [{ name: 'kolla', groups: ['docker'], sudo: true, sshKeys: [KEY] }], containerEngine: 'docker', registryMirrors: ['https://mirror.example.com'] },
  groups: { controllers: { ntpServers: [{ server: 'ntp.example.com', options: ['iburst'] }], sysctl: { 'net.ipv4.ip_forward': 1 }, lvmDataDisks: ['/dev/vdb'], swap: ['/dev/vdc'] } },
};
/** The site's nodes: their internal addresses go to /etc/hosts. */
const HOSTS = [
  { host, addresses: [{ network: 'internal', address: '10.1.0.11' }] },
  { host: { ...host, hostId: 'dc1-cmp-01', name: 'cmp-01', groups: ['compute'] }, addresses: [{ network: 'internal', address: '10.1.0.21' }] },
];

// The stand-in for the host's tools: one script, linked under each command's name.
const FAKE = `#!/bin/bash
set -u
cmd=$(basename "$0")
S=${JSON.stringify(STATE)}
R="\${STACKYARD_ROOT:-}"
echo "$cmd $*" >> "$S/log"
last="\${!#}"
opt() { local want=$1; shift; while [ $# -gt 0 ]; do [ "$1" = "$want" ] && { echo "$2"; return; }; shift; done; }
addmember() { awk -F: -v OFS=: -v g="$1" -v u="$2" '$1==g { $4 = ($4=="" ? u : $4","u) } {print}' "$R/etc/group" > "$R/etc/group.tmp" && mv "$R/etc/group.tmp" "$R/etc/group"; }
if [ -e "$S/fail-$cmd" ]; then echo "$cmd: $(cat "$S/fail-$cmd")" >&2; exit 3; fi
case "$cmd" in
  groupadd) echo "$last:x:$((2000 + $(wc -l < "$R/etc/group"))):" >> "$R/etc/group" ;;
  useradd)
    gid=$((3000 + $(wc -l < "$R/etc/group")))
    echo "$last:x:$gid:" >> "$R/etc/group"
    echo "$last:x:$gid:$gid::$(opt --home-dir "$@"):$(opt --shell "$@")" >> "$R/etc/passwd"
    for g in $(opt --groups "$@" | tr , ' '); do addmember "$g" "$last"; done ;;
  usermod) for g in $(opt --groups "$@" | tr , ' '); do addmember "$g" "$last"; done ;;
  vgcreate) vg=$1; shift; for d in "$@"; do echo "  $vg $d" >> "$S/pvs"; done ;;
  lvcreate) echo "  $last $(opt --name "$@")" >> "$S/lvs" ;;
  pvs) cat "$S/pvs" 2>/dev/null ;;
  lvs) cat "$S/lvs" 2>/dev/null ;;
  mount) echo "$last" >> "$S/mounts" ;;
  findmnt) cat "$S/mounts" 2>/dev/null ;;
  swapon) if [ "$1" = "--noheadings" ]; then cat "$S/swaps" 2>/dev/null; else echo "$last" >> "$S/swaps"; fi ;;
  mkdir) case "$last" in "$R"/*) exec /bin/mkdir "$@" ;; esac ;;
  apt-get) shift 2; for p in "$@"; do echo "$p" >> "$S/packages"; done ;;
  dpkg-query) grep -qx "$last" "$S/packages" 2>/dev/null && printf 'install ok installed' || exit 1 ;;
  rpm) exit 1 ;;
  *) ;;
esac
exit 0
`;
const COMMANDS = ['groupadd', 'useradd', 'usermod', 'vgcreate', 'vgextend', 'lvcreate', 'pvs', 'lvs', 'mkfs.ext4', 'mkswap', 'swapon', 'mount', 'findmnt', 'mkdir', 'chown', 'systemctl', 'sysctl', 'apt-get', 'dpkg-query', 'rpm'];

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'stackyard-test', '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen ${file}: ${r.stderr || r.error?.message}`);
}

function preparer(over: Partial<SshHostPreparerOptions> = {}): SshHostPreparer {
  return new SshHostPreparer({
    user,
    keyFile: join(dir, 'id_ed25519'),
    port,
    knownHosts: `accept-new:${join(dir, 'known_hosts')}`,
    connectTimeoutS: 5,
    commandTimeoutMs: 20_000,
    sudo: false,
    root: ROOT,
    pathPrepend: [BIN],
    ...over,
  });
}

const commandLog = (): string[] => (existsSync(join(STATE, 'log')) ? readFileSync(join(STATE, 'log'), 'utf8').trim().split('\n') : []);
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
const file = (p: string) => readFileSync(join(ROOT, p), 'utf8');

async function failure(p: Promise<unknown>): Promise<StepFailedError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(StepFailedError);
  return e as StepFailedError;
}

beforeAll(async () => {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: run scripts/setup.sh (installs openssh-server)`);
  for (const d of [join(ROOT, 'etc'), BIN, STATE]) mkdirSync(d, { recursive: true });
  writeFileSync(join(ROOT, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  writeFileSync(join(ROOT, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(ROOT, 'etc/hosts'), '127.0.0.1 localhost\n');
  writeFileSync(join(BIN, 'fake'), FAKE);
  chmodSync(join(BIN, 'fake'), 0o755);
  for (const c of COMMANDS) symlinkSync(join(BIN, 'fake'), join(BIN, c));
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'id_ed25519'));
  keygen(join(dir, 'wrong_key'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id_ed25519.pub')));
  port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'UsePAM no',
      'StrictModes no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      '',
    ].join('\n'),
  );
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  sshd = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  sshd.stderr!.setEncoding('utf8').on('data', (c: string) => (sshdLog += c));
  await waitForPort(port, 10_000, `sshd (${sshdLog})`, sshd);
});

afterAll(async () => {
  if (sshd && sshd.exitCode === null && sshd.signalCode === null) {
    const exited = new Promise((r) => sshd!.once('exit', r));
    sshd.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('SshHostPreparer against a real OpenSSH server', () => {
  const target = () => ({ host, address: '127.0.0.1' });

  it('Given a fresh host, then files are written with their modes, the commands run in order, and a second run changes nothing', async () => {
    const prep = new HostPrep(SETTINGS, preparer());
    const first = await prep.run(target(), HOSTS);

    expect(first.unchangedCount).toBe(0);
    expect(file('/etc/hosts')).toBe('127.0.0.1 localhost\n# BEGIN STACKYARD MANAGED BLOCK\n10.1.0.21 cmp-01\n10.1.0.11 ctl-01\n# END STACKYARD MANAGED BLOCK\n');
    expect(file('/etc/chrony/chrony.conf')).toContain('server ntp.example.com iburst\n');
    expect(file('/etc/sysctl.d/50-kayobe.conf')).toContain('net.ipv4.ip_forward = 1\n');
    expect(JSON.parse(file('/etc/docker/daemon.json'))).toEqual({ 'registry-mirrors': ['https://mirror.example.com'], 'storage-driver': 'overlay2' });
    expect(file('/home/kolla/.ssh/authorized_keys')).toBe(`${KEY}\n`);
    expect(mode(join(ROOT, 'home/kolla/.ssh/authorized_keys'))).toBe('600');
    expect(mode(join(ROOT, 'home/kolla/.ssh'))).toBe('700');
    expect(file('/etc/sudoers.d/kolla')).toBe('kolla ALL=(ALL) NOPASSWD: ALL\n');
    expect(mode(join(ROOT, 'etc/sudoers.d/kolla'))).toBe('440');
    expect(file('/etc/fstab')).toContain('/dev/data/docker-volumes /var/lib/docker/volumes ext4 defaults 0 2\n/dev/vdc none swap sw 0 0\n');

    const ran = commandLog().filter((l) => !/^(pvs|lvs|findmnt|swapon --noheadings|rpm -q|dpkg-query)/.test(l) && !l.startsWith(`mkdir -p ${ROOT}`));
    expect(ran).toEqual([
      'groupadd docker',
      'useradd --create-home --home-dir /home/kolla --user-group --shell /bin/bash --groups docker kolla',
      `chown kolla ${ROOT}/home/kolla/.ssh`,
      expect.stringMatching(new RegExp(`^chown kolla ${ROOT}/home/kolla/\\.ssh/\\.authorized_keys\\.stackyard-`)),
      expect.stringMatching(/^chown root .*sudoers\.d\/\.kolla\.stackyard-/),
      expect.stringMatching(/^chown root .*\/etc\/\.hosts\.stackyard-/),
      expect.stringMatching(/^chown root .*50-kayobe\.conf\.stackyard-/),
      'sysctl -p /etc/sysctl.d/50-kayobe.conf',
      expect.stringMatching(/^chown root .*chrony\.conf\.stackyard-/),
      'systemctl restart chrony',
      'vgcreate data /dev/vdb',
      'lvcreate --yes --name docker-volumes --extents 75%VG data',
      'mkfs.ext4 /dev/data/docker-volumes',
      'mkswap /dev/vdc',
      expect.stringMatching(/^chown root .*\/etc\/\.fstab\.stackyard-/),
      'mkdir -p /var/lib/docker/volumes',
      'mount /var/lib/docker/volumes',
      'swapon /dev/vdc',
      'apt-get install -y docker.io',
      expect.stringMatching(/^chown root .*daemon\.json\.stackyard-/),
      'systemctl enable --now docker',
    ]);
    expect(first.changed).toContain('create user kolla');
    expect(first.changed).toContain('file /etc/hosts');

    const before = commandLog().length;
    const second = await prep.run(target(), HOSTS);
    expect(second).toEqual({ changed: [], unchangedCount: first.changed.length });
    // Only the probe ran: no command changed anything.
    expect(commandLog().slice(before).map((l) => l.split(' ')[0])).toEqual(['pvs', 'lvs', 'findmnt', 'swapon', 'rpm', 'dpkg-query']);
  });

  it('Given a command that fails, then HostPrepCommandFailed names it, its exit and stderr, not retryable', async () => {
    unlinkSync(join(ROOT, 'etc/docker/daemon.json'));
    writeFileSync(join(STATE, 'fail-systemctl'), 'Unit docker.service not found.');
    try {
      const e = await failure(new HostPrep(SETTINGS, preparer()).run(target(), HOSTS));
      expect(e.reason).toBe('HostPrepCommandFailed');
      expect(isRetryable(e)).toBe(false);
      expect(e.message).toBe('ctl-01 (127.0.0.1): `systemctl restart docker` (restart docker) failed with exit 3: systemctl: Unit docker.service not found.');
    } finally {
      unlinkSync(join(STATE, 'fail-systemctl'));
    }
  });

  it('Given a key the server does not accept, then SshAuthFailed, not retryable', async () => {
    const e = await failure(preparer({ keyFile: join(dir, 'wrong_key') }).inspect(target(), []));
    expect(e.reason).toBe('SshAuthFailed');
    expect(isRetryable(e)).toBe(false);
  });

  it('Given nothing listening, then HostUnreachable, retryable', async () => {
    const e = await failure(preparer({ port: await freePort() }).inspect(target(), []));
    expect(e.reason).toBe('HostUnreachable');
    expect(isRetryable(e)).toBe(true);
  });

  it('Given no address for the host, then NoAddress', async () => {
    const e = await failure(preparer().inspect({ host, address: undefined }, []));
    expect(e.reason).toBe('NoAddress');
  });
});
