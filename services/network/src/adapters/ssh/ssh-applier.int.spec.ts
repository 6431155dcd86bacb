import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetryable, StepFailedError } from '@stackyard/errors';
import { freePort, waitForPort } from '@stackyard/devinfra';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { Logger } from '@stackyard/telemetry';
import { MANIFEST } from './remote-script';
import { SshApplier, type SshApplierOptions } from './ssh-applier';

// A private OpenSSH server (Debian's openssh-server, installed by scripts/setup.sh) on a free loopback
// port, with its own host key and an authorized key generated here. The applier runs the system ssh
// client against it for real; files land under a temporary NETWORK_APPLY_ROOT and the reload is a
// command writing a marker file. 127.0.0.1 (on lo) stands for an address the host must have.
const SSHD = '/usr/sbin/sshd';
const dir = mkdtempSync(join(tmpdir(), 'stackyard-ssh-applier-'));
const user = userInfo().username;
const host: HostRef = { hostId: 'dc1-ctl-01', siteId: 'dc1', name: 'ctl-01', groups: ['controllers'] };
let sshd: ChildProcess | undefined;
let sshdLog = '';
let port = 0;

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'stackyard-test', '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen ${file}: ${r.stderr || r.error?.message}`);
}

/** Log lines the applier wrote, to check that no key material ever reaches them. */
const logged: string[] = [];
const log: Logger = {
  info: (o, m) => logged.push(JSON.stringify([o, m])),
  warn: (o, m) => logged.push(JSON.stringify([o, m])),
  error: (o, m) => logged.push(JSON.stringify([o, m])),
  debug: (o, m) => logged.push(JSON.stringify([o, m])),
  child: () => log,
};

function applier(over: Partial<SshApplierOptions> = {}): SshApplier {
  return new SshApplier({
    user,
    keyFile: join(dir, 'id_ed25519'),
    port,
    knownHosts: `accept-new:${join(dir, 'known_hosts')}`,
    connectTimeoutS: 5,
    commandTimeoutMs: 20_000,
    sudo: false,
    root: join(dir, 'root'),
    engine: 'networkd',
    filePrefix: '50-kayobe-',
    reloadCommand: `printf '%s\\n' {devices} > ${join(dir, 'reloaded')}`,
    verifyTimeoutMs: 2_000,
    verifyIntervalMs: 200,
    log,
    ...over,
  });
}

async function failure(p: Promise<unknown>): Promise<StepFailedError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(StepFailedError);
  return e as StepFailedError;
}

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
const NET = join(dir, 'root/etc/systemd/network');

beforeAll(async () => {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: run scripts/setup.sh (installs openssh-server)`);
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
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  // sshd running as root refuses to start without its privilege separation directory.
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

describe('SshApplier against a real OpenSSH server', () => {
  it('Given networkd files and a stale 50-kayobe- file, then each file is written with mode 0644, the stale one removed, the reload run and 127.0.0.1 verified', async () => {
    mkdirSync(NET, { recursive: true });
    writeFileSync(join(NET, '50-kayobe-old0.network'), '[Match]\nName=old0\n');
    writeFileSync(join(NET, '10-operator.network'), '[Match]\nName=mgmt\n');
    const files = [
      { path: '/etc/systemd/network/50-kayobe-br0.netdev', content: '[NetDev]\nName=br0\nKind=bridge\n' },
      { path: '/etc/systemd/network/50-kayobe-br0.network', content: '[Match]\nName=br0\n\n[Network]\nAddress=127.0.0.1/8\n' },
      { path: '/etc/systemd/network/50-kayobe-eth0.network', content: "[Match]\nName=eth0\n\n[Network]\nBridge=br0\n# it's quoted\n" },
    ];
    await applier().apply(host, files, ['127.0.0.1'], '127.0.0.1');

    for (const f of files) {
      const p = join(dir, 'root', f.path);
      expect(readFileSync(p, 'utf8')).toBe(f.content);
      expect(mode(p)).toBe('644');
    }
    expect(existsSync(join(NET, '50-kayobe-old0.network'))).toBe(false);
    expect(readFileSync(join(NET, '10-operator.network'), 'utf8')).toBe('[Match]\nName=mgmt\n');
    expect(readdirSync(NET).sort()).toEqual(['10-operator.network', '50-kayobe-br0.netdev', '50-kayobe-br0.network', '50-kayobe-eth0.network']);
    expect(readFileSync(join(dir, 'reloaded'), 'utf8')).toBe('br0\neth0\n');
    expect(readFileSync(join(dir, 'root', MANIFEST), 'utf8')).toBe(`${files.map((f) => f.path).join('\n')}\n`);
    // accept-new learned the server's key on first contact.
    const hostKey = readFileSync(join(dir, 'host_key.pub'), 'utf8').split(' ')[1]!;
    expect(readFileSync(join(dir, 'known_hosts'), 'utf8')).toContain(hostKey);

    // Applied again with one device fewer: the file written before and not rendered now goes.
    await applier().apply(host, files.slice(1), ['127.0.0.1'], '127.0.0.1');
    expect(readdirSync(NET).sort()).toEqual(['10-operator.network', '50-kayobe-br0.network', '50-kayobe-eth0.network']);
  });

  it('Given NetworkManager keyfiles, then they are mode 0600, the reload gets the connection ids, and a keyfile of the previous apply is removed (no prefix: the manifest)', async () => {
    const keyfile = (dev: string) => ({ path: `/etc/NetworkManager/system-connections/${dev}.nmconnection`, content: `[connection]\nid=${dev}\ntype=ethernet\ninterface-name=${dev}\n\n[ipv4]\nmethod=disabled\n` });
    const opts = { engine: 'nm-keyfile' as const, root: join(dir, 'root-nm'), reloadCommand: `printf '%s\\n' {connections} > ${join(dir, 'nm-reloaded')}` };
    await applier(opts).apply(host, [keyfile('eth1'), keyfile('eth2')], ['127.0.0.1'], '127.0.0.1');
    const nm = join(dir, 'root-nm/etc/NetworkManager/system-connections');
    expect(readdirSync(nm).sort()).toEqual(['eth1.nmconnection', 'eth2.nmconnection']);
    expect(mode(join(nm, 'eth1.nmconnection'))).toBe('600');
    expect(readFileSync(join(dir, 'nm-reloaded'), 'utf8')).toBe('eth1\neth2\n');

    writeFileSync(join(nm, 'operator.nmconnection'), '[connection]\nid=operator\n');
    await applier(opts).apply(host, [keyfile('eth2')], ['127.0.0.1'], '127.0.0.1');
    expect(readdirSync(nm).sort()).toEqual(['eth2.nmconnection', 'operator.nmconnection']);
  });

  it('Given a key the server does not accept, then the step fails with SshAuthFailed, not retryable', async () => {
    const e = await failure(applier({ keyFile: join(dir, 'wrong_key') }).apply(host, [], ['127.0.0.1'], '127.0.0.1'));
    expect(e.reason).toBe('SshAuthFailed');
    expect(isRetryable(e)).toBe(false);
    expect(e.message).toContain(`${user}@127.0.0.1:${port}`);
  });

  it('Given nothing listening on the port, then HostUnreachable, retryable', async () => {
    const closed = await freePort();
    const e = await failure(applier({ port: closed }).apply(host, [], ['127.0.0.1'], '127.0.0.1'));
    expect(e.reason).toBe('HostUnreachable');
    expect(isRetryable(e)).toBe(true);
    expect(e.message).toMatch(/Connection refused/);
  });

  it('Given an address the host never gets, then AddressVerificationFailed naming it, after retrying for the verify timeout', async () => {
    const started = Date.now();
    const e = await failure(applier({ verifyTimeoutMs: 1_000 }).apply(host, [], ['127.0.0.1', '192.0.2.77'], '127.0.0.1'));
    expect(e.reason).toBe('AddressVerificationFailed');
    expect(isRetryable(e)).toBe(false);
    expect(e.message).toContain('192.0.2.77');
    expect(e.message).not.toContain('127.0.0.1,');
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
  });

  it('Given a reload command that fails, then NetworkReloadFailed with its exit code and output', async () => {
    const e = await failure(applier({ reloadCommand: 'echo networkctl says no >&2; exit 3' }).apply(host, [], ['127.0.0.1'], '127.0.0.1'));
    expect(e.reason).toBe('NetworkReloadFailed');
    expect(e.message).toContain('exit 3');
    expect(e.message).toContain('networkctl says no');
  });

  it('Given a known-hosts file with another key for the host, then SshHostKeyRejected, not retryable', async () => {
    const other = readFileSync(join(dir, 'wrong_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(join(dir, 'pinned_hosts'), `[127.0.0.1]:${port} ${other}\n`);
    const e = await failure(applier({ knownHosts: join(dir, 'pinned_hosts') }).apply(host, [], ['127.0.0.1'], '127.0.0.1'));
    expect(e.reason).toBe('SshHostKeyRejected');
    expect(isRetryable(e)).toBe(false);
  });

  it('Given no admin address, then NoAdminAddress, not retryable', async () => {
    const e = await failure(applier().apply(host, [], ['10.0.0.5']));
    expect(e.reason).toBe('NoAdminAddress');
    expect(isRetryable(e)).toBe(false);
  });

  it('Given sudo on a host where the user may use it, then the files are written through sudo -n', async () => {
    if (spawnSync('sudo', ['-n', 'true']).status !== 0) return; // no passwordless sudo for this user here
    const root = join(dir, 'root-sudo');
    await applier({ sudo: true, root }).apply(host, [{ path: '/etc/systemd/network/50-kayobe-eth9.network', content: '[Match]\nName=eth9\n' }], ['127.0.0.1'], '127.0.0.1');
    expect(readFileSync(join(root, 'etc/systemd/network/50-kayobe-eth9.network'), 'utf8')).toBe('[Match]\nName=eth9\n');
  });

  it('Then no log line carries key material', () => {
    const secret = readFileSync(join(dir, 'id_ed25519'), 'utf8').split('\n')[1]!;
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join('\n')).not.toContain(secret);
    expect(logged.join('\n')).not.toContain('PRIVATE KEY');
  });
});
