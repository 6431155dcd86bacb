import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '@stackyard/grpc';
import { freePort, waitForPort, type LocalServer } from '@stackyard/devinfra';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import type { Network } from '@stackyard/proto/network/v1/network';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';

// The saga with NETWORK_APPLIER=ssh: the network service logs in to each host's admin address with
// the system ssh client. The "hosts" are one private sshd (Debian's openssh-server) listening on
// 127.0.0.1 and 127.0.0.2; the admin network is 127.0.0.0/24 with the pool 127.0.0.1-127.0.0.2, so
// cmp-01 gets 127.0.0.1 (on lo: verified) and cmp-02 gets 127.0.0.2 (reachable, but no interface
// has it: AddressVerificationFailed). Files land under a temporary NETWORK_APPLY_ROOT.
describe('network: the ssh applier in the saga, against a real OpenSSH server', () => {
  const site = 'netssh';
  const dir = mkdtempSync(join(tmpdir(), 'stackyard-network-ssh-'));
  const user = userInfo().username;
  let sshd: ChildProcess | undefined;
  let nats: LocalServer;
  let p: Platform;

  const keygen = (file: string) => {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ssh-keygen ${file}: ${r.stderr || r.error?.message}`);
  };
  const progress = (hostId: string, state: NodeState) =>
    eventually(async () => {
      const pr = (await call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId }).catch(() => undefined))?.progress;
      return pr?.state === state ? pr : undefined;
    }, 45_000, `${hostId} in state ${state}`);

  beforeAll(async () => {
    if (!existsSync('/usr/sbin/sshd')) throw new Error('/usr/sbin/sshd is missing: run scripts/setup.sh (installs openssh-server)');
    keygen(join(dir, 'host_key'));
    keygen(join(dir, 'id_ed25519'));
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id_ed25519.pub')));
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        'ListenAddress 127.0.0.2',
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
    let log = '';
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    sshd.stderr!.setEncoding('utf8').on('data', (c: string) => (log += c));
    await waitForPort(port, 10_000, 'sshd', sshd).catch((e: Error) => Promise.reject(new Error(`${e.message}: ${log}`)));

    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('netssh'), {
      provisioning: { LAB_LATENCY_MS: '5' },
      network: {
        NETWORK_APPLIER: 'ssh',
        NETWORK_SSH_USER: user,
        NETWORK_SSH_KEY_FILE: join(dir, 'id_ed25519'),
        NETWORK_SSH_PORT: String(port),
        NETWORK_SSH_KNOWN_HOSTS: `accept-new:${join(dir, 'known_hosts')}`,
        NETWORK_SSH_SUDO: 'false',
        NETWORK_APPLY_ROOT: join(dir, 'root'),
        NETWORK_APPLY_RELOAD_COMMAND: `printf '%s\\n' {devices} >> ${join(dir, 'reloaded')}`,
        NETWORK_APPLY_VERIFY_TIMEOUT_MS: '1000',
      },
    });
    await p.startAll();
    await call(p.clients.inventory, p.clients.inventory.createSite, { id: site, displayName: site });
    const admin: Network = {
      siteId: site,
      name: 'provision_oc',
      cidr: '127.0.0.0/24',
      gateway: '',
      allocationPoolStart: '127.0.0.1',
      allocationPoolEnd: '127.0.0.2',
      vlan: 0,
      mtu: 0,
      groups: ['compute'],
      interface: '{nic0}',
      version: 0,
    };
    await call(p.clients.network, p.clients.network.defineNetwork, { network: admin });
  });

  afterAll(async () => {
    await p?.stopAll();
    await nats?.stop();
    if (sshd && sshd.exitCode === null && sshd.signalCode === null) {
      const exited = new Promise((r) => sshd!.once('exit', r));
      sshd.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the rendered networkd file on the host over ssh, runs the reload and verifies the address: the node reaches ready', async () => {
    await p.registerHost(site, 'cmp-01');
    await progress(`${site}-cmp-01`, NodeState.NODE_STATE_READY);
    const file = join(dir, 'root/etc/systemd/network/50-kayobe-eno1.network');
    expect(readFileSync(file, 'utf8')).toContain('Address=127.0.0.1/24');
    expect((statSync(file).mode & 0o777).toString(8)).toBe('644');
    expect(readFileSync(join(dir, 'reloaded'), 'utf8')).toBe('eno1\n');
  });

  it('fails the network step with AddressVerificationFailed naming the address no interface of the host has', async () => {
    await p.registerHost(site, 'cmp-02');
    const failed = await progress(`${site}-cmp-02`, NodeState.NODE_STATE_FAILED);
    expect(failed.lastFailure).toMatchObject({ step: 'network', reason: 'AddressVerificationFailed', retryable: false });
    expect(failed.lastFailure?.message).toContain('127.0.0.2');
  });
});
