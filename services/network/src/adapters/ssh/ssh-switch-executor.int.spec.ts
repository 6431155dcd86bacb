import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepFailedError } from '@stackyard/errors';
import { freePort, waitForPort } from '@stackyard/devinfra';
import type { SwitchTarget } from '../../application/ports';
import { SshSwitchExecutor } from './ssh-switch-executor';

// A private OpenSSH server on a free loopback port (as in ssh-applier.int.spec.ts). Its sessions get a
// PATH (sshd's SetEnv) whose first directory holds fake vendor CLIs (Cli, clish, cli, nv): each records
// its arguments and what it read on stdin, and refuses a line containing REFUSE the way the vendor does.
const SSHD = '/usr/sbin/sshd';
const dir = mkdtempSync(join(tmpdir(), 'stackyard-ssh-switch-'));
const bin = join(dir, 'bin');
const rec = join(dir, 'received');
const user = userInfo().username;
let sshd: ChildProcess | undefined;
let sshdLog = '';
let port = 0;

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'stackyard-test', '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen ${file}: ${r.stderr || r.error?.message}`);
}

/** A fake CLI: saves argv and stdin under received/<name>.<n>; `refusal` is printed for a REFUSE line. */
function fakeCli(name: string, refusal: string, exitOnRefuse = 0): void {
  const script = [
    '#!/bin/sh',
    `n=$(ls ${rec} | grep -c '^${name}\\.' )`,
    `f=${rec}/${name}.$n`,
    'printf "%s\\n" "$*" > "$f.args"',
    'cat > "$f.in"',
    `if grep -q REFUSE "$f.in"; then echo '${refusal}'; exit ${exitOnRefuse}; fi`,
    `echo '${name}: ok'`,
    '',
  ].join('\n');
  writeFileSync(join(bin, name), script);
  chmodSync(join(bin, name), 0o755);
}

function executor(over: Partial<ConstructorParameters<typeof SshSwitchExecutor>[0]> = {}): SshSwitchExecutor {
  return new SshSwitchExecutor({
    user,
    keyFile: join(dir, 'id_ed25519'),
    port,
    knownHosts: `accept-new:${join(dir, 'known_hosts')}`,
    connectTimeoutS: 5,
    commandTimeoutMs: 20_000,
    clock: () => new Date('2026-01-02T03:04:05.678Z'),
    ...over,
  });
}

const target = (name: string, type: SwitchTarget['type']): SwitchTarget => ({ siteId: 'dc1', name, type, address: '127.0.0.1' });
const received = (file: string) => readFileSync(join(rec, file), 'utf8');

beforeAll(async () => {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: run scripts/setup.sh (installs openssh-server)`);
  mkdirSync(bin);
  mkdirSync(rec);
  fakeCli('Cli', '% Invalid input (at token 1: REFUSE)');
  fakeCli('clish', '% Error: Unrecognized command.');
  fakeCli('cli', 'syntax error.');
  // NVUE: the rendered text is a shell script of nv commands; the fake nv appends each call.
  writeFileSync(join(bin, 'nv'), `#!/bin/sh\nif [ "$2" = REFUSE ]; then echo 'Error: bad' >&2; exit 1; fi\nprintf '%s\\n' "$*" >> ${rec}/nv.calls\n`);
  chmodSync(join(bin, 'nv'), 0o755);
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'id_ed25519'));
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
      `SetEnv PATH=${bin}:/usr/local/bin:/usr/bin:/bin`,
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

async function failure(p: Promise<unknown>): Promise<StepFailedError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(StepFailedError);
  return e as StepFailedError;
}

describe('SshSwitchExecutor against a real OpenSSH server with fake vendor CLIs', () => {
  it('SWX-01 Arista EOS: the config goes to `Cli -p 15` inside a configure session, with the diff shown before the commit', async () => {
    const r = await executor().apply(target('leaf1', 'arista'), 'vlan 20\n   name internal\ninterface Ethernet1\n   switchport mode trunk\n');
    expect(r).toEqual({ outcome: 'applied', output: 'Cli: ok' });
    expect(received('Cli.0.args')).toBe('-p 15\n');
    expect(received('Cli.0.in')).toBe(
      'configure session stackyard-20260102T030405\nvlan 20\n   name internal\ninterface Ethernet1\n   switchport mode trunk\nshow session-config diffs\ncommit\n',
    );
  });

  it('SWX-02 Dell OS10 and Junos: configure terminal ... write memory; configure private ... show | compare, commit and-quit', async () => {
    await executor().apply(target('mgmt1', 'dellos10'), 'hostname mgmt1\n');
    expect(received('clish.0.in')).toBe('configure terminal\nhostname mgmt1\nend\nwrite memory\n');
    await executor().apply(target('leaf2', 'junos'), 'set vlans storage vlan-id 30\n');
    expect(received('cli.0.in')).toBe('configure private\nset vlans storage vlan-id 30\nshow | compare\ncommit and-quit\n');
  });

  it('SWX-03 Cumulus NVUE: the rendered nv commands run as a shell script, stopping at the first failure', async () => {
    await executor().apply(target('leaf3', 'nvue'), 'nv set interface swp1 description "ctl0"\nnv config apply --assume-yes\n');
    expect(readFileSync(join(rec, 'nv.calls'), 'utf8')).toBe('set interface swp1 description ctl0\nconfig apply --assume-yes\n');
    const e = await failure(executor().apply(target('leaf3', 'nvue'), 'nv set REFUSE\nnv config apply --assume-yes\n'));
    expect(e.reason).toBe('SwitchConfigRejected');
    expect(e.message).toMatch(/leaf3 \(NVIDIA Cumulus Linux \(NVUE\), 127\.0\.0\.1\): `sh -s` exited 1: Error: bad/);
    expect(readFileSync(join(rec, 'nv.calls'), 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('SWX-04 Given a line the CLI refuses while exiting 0, then the apply is SwitchConfigRejected with what the switch said', async () => {
    const e = await failure(executor().apply(target('leaf1', 'arista'), 'REFUSE\n'));
    expect(e.reason).toBe('SwitchConfigRejected');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('refused a line: % Invalid input (at token 1: REFUSE)');
    const j = await failure(executor().apply(target('leaf2', 'junos'), 'set REFUSE\n'));
    expect(j.message).toContain('syntax error.');
  });

  it('SWX-05 Given the wrong key or nobody listening, then the ssh reasons of the host applier (SshAuthFailed, HostUnreachable)', async () => {
    keygen(join(dir, 'wrong_key'));
    expect((await failure(executor({ keyFile: join(dir, 'wrong_key') }).apply(target('leaf1', 'arista'), 'x\n'))).reason).toBe('SshAuthFailed');
    const closed = await freePort();
    const e = await failure(executor({ port: closed }).apply(target('leaf1', 'arista'), 'x\n'));
    expect(e.reason).toBe('HostUnreachable');
    expect(e.retryable).toBe(true);
    expect(readdirSync(rec).filter((f) => f.startsWith('Cli.') && f.endsWith('.in'))).toHaveLength(2);
  });
});
