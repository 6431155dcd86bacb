import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '@stackyard/config';
import { configSchema } from '../../config';
import { keyfileConnections, modeFor, networkdDevices, reloadCommand, writeScript } from './remote-script';
import { addressesOf } from './ssh-applier';
import { sshArgv, sshFailure, type SshTarget } from '@stackyard/ssh';

const tmp = mkdtempSync(join(tmpdir(), 'stackyard-ssh-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const net = (name: string) => ({ path: `/etc/systemd/network/${name}`, content: '' });
const layout = { root: '/', prefix: '50-kayobe-' };
const target: SshTarget = { address: '10.0.0.5', user: 'stack', port: 22, keyFile: '/k/id', knownHosts: 'accept-new', connectTimeoutS: 10, commandTimeoutMs: 1000 };

describe('reload commands (Kayobe engines, reference/kayobe.md §3.7)', () => {
  it('Given networkd files, then networkctl reload and reconfigure of each existing rendered device', () => {
    const files = [net('50-kayobe-br0.netdev'), net('50-kayobe-br0.network'), net('50-kayobe-eth0.link'), net('50-kayobe-eth0.network'), net('50-kayobe-eth0.10.network')];
    expect(networkdDevices(files, '50-kayobe-')).toEqual(['br0', 'eth0', 'eth0.10']);
    expect(reloadCommand(files, { ...layout, engine: 'networkd' })).toBe(
      'networkctl reload && for d in br0 eth0 eth0.10; do if [ -e "/sys/class/net/$d" ]; then networkctl reconfigure "$d" || exit 1; fi; done',
    );
  });

  it('Given nmstate, then nmstatectl apply of the file under the apply root', () => {
    const files = [{ path: '/etc/nmstate/50-kayobe-network.yml', content: 'interfaces: []\n' }];
    expect(reloadCommand(files, { ...layout, engine: 'nmstate' })).toBe('nmstatectl apply /etc/nmstate/50-kayobe-network.yml');
    expect(reloadCommand(files, { root: '/tmp/r', prefix: '50-kayobe-', engine: 'nmstate' })).toBe('nmstatectl apply /tmp/r/etc/nmstate/50-kayobe-network.yml');
  });

  it('Given keyfiles, then nmcli connection reload and up per connection id, in file order', () => {
    const files = [
      { path: '/etc/NetworkManager/system-connections/eth1.nmconnection', content: '[connection]\nid=eth1\ntype=ethernet\n' },
      { path: '/etc/NetworkManager/system-connections/br ex.nmconnection', content: "[connection]\nid=br ex's\n" },
      { path: '/etc/NetworkManager/system-connections/p-x.nmconnection', content: '[ipv4]\nmethod=disabled\n' },
    ];
    expect(keyfileConnections(files)).toEqual(['eth1', "br ex's", 'p-x']);
    expect(reloadCommand(files, { ...layout, engine: 'nm-keyfile' })).toBe(
      "nmcli connection reload && nmcli connection up eth1 && nmcli connection up 'br ex'\\''s' && nmcli connection up p-x",
    );
    expect(modeFor(files[0]!.path)).toBe('0600');
    expect(modeFor('/etc/systemd/network/50-kayobe-eth0.network')).toBe('0644');
  });

  it('Given NETWORK_APPLY_RELOAD_COMMAND, then it replaces the default with {devices}, {files} and {connections} substituted', () => {
    const files = [net('50-kayobe-eth0.network')];
    expect(reloadCommand(files, { ...layout, engine: 'networkd', override: 'echo {devices} {files} [{connections}]' })).toBe('echo eth0 /etc/systemd/network/50-kayobe-eth0.network []');
  });
});

describe('write script', () => {
  it('Given a path outside the engine directories or not normalised, then it is refused before anything runs', () => {
    expect(() => writeScript([{ path: '/etc/passwd', content: 'x' }], { ...layout, engine: 'networkd' })).toThrow(/outside/);
    expect(() => writeScript([{ path: '/etc/systemd/network/../x', content: 'x' }], { ...layout, engine: 'networkd' })).toThrow(/normalised/);
  });

  it('Given an empty prefix, then no prefix cleanup is generated (it would match every file)', () => {
    expect(writeScript([net('eth0.network')], { root: '/', prefix: '', engine: 'networkd' })).not.toContain('for f in');
    expect(writeScript([net('50-kayobe-eth0.network')], { ...layout, engine: 'networkd' })).toContain('for f in /etc/systemd/network/50-kayobe-*; do');
  });
});

describe('ssh', () => {
  it('Then the client never prompts and offers only the configured key', () => {
    const argv = sshArgv(target, 'true');
    expect(argv.join(' ')).toContain('-o BatchMode=yes -o ConnectTimeout=10');
    expect(argv.join(' ')).toContain('-o IdentitiesOnly=yes');
    expect(argv.join(' ')).toContain('-o StrictHostKeyChecking=accept-new -i /k/id -p 22 -l stack -- 10.0.0.5 true');
    expect(sshArgv({ ...target, knownHosts: '/etc/stackyard/known_hosts' }, 'true').join(' ')).toContain('-o StrictHostKeyChecking=yes -o UserKnownHostsFile=/etc/stackyard/known_hosts');
  });

  it.each([
    ['stack@10.0.0.5: Permission denied (publickey).', 'SshAuthFailed', false],
    ['Host key verification failed.', 'SshHostKeyRejected', false],
    ['ssh: connect to host 10.0.0.5 port 22: Connection timed out', 'HostUnreachable', true],
    ['ssh: connect to host 10.0.0.5 port 22: No route to host', 'HostUnreachable', true],
    ['Connection closed by 10.0.0.5 port 22', 'HostUnreachable', true],
  ])('Given ssh saying %j, then %s (retryable: %s)', (stderr, reason, retryable) => {
    const e = sshFailure(target, stderr);
    expect([e.reason, e.retryable]).toEqual([reason, retryable]);
  });

  it('Given ip -j addr show output, then every interface address', () => {
    const out = JSON.stringify([
      { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
      { ifname: 'eth0', addr_info: [{ family: 'inet', local: '10.0.0.5', prefixlen: 24 }] },
      { ifname: 'eth1' },
    ]);
    expect([...addressesOf(out)]).toEqual(['127.0.0.1', '10.0.0.5']);
  });
});

describe('configuration', () => {
  const base = { GRPC_PORT: '0', HTTP_PORT: '0' };
  const problems = (env: Record<string, string>) => {
    try {
      parseConfig(configSchema, { ...base, ...env });
      return [];
    } catch (e) {
      return (e as ConfigError).problems;
    }
  };

  it('Given NETWORK_APPLIER=ssh without a key file, or with one that does not exist, then a clear error', () => {
    expect(problems({ NETWORK_APPLIER: 'ssh' })).toEqual(['NETWORK_SSH_KEY_FILE: required when NETWORK_APPLIER=ssh (the private key the service logs in to hosts with)']);
    expect(problems({ NETWORK_APPLIER: 'ssh', NETWORK_SSH_KEY_FILE: join(tmp, 'nope') })).toEqual([
      `NETWORK_SSH_KEY_FILE: no such file: ${join(tmp, 'nope')} (NETWORK_APPLIER=ssh needs a readable private key file)`,
    ]);
    expect(problems({ NETWORK_APPLIER: 'ssh', NETWORK_SSH_KEY_FILE: tmp, NETWORK_SSH_KNOWN_HOSTS: 'sometimes' })).toHaveLength(2);
  });

  it('Given a key file, then the defaults: user stack, port 22, accept-new, root /, sudo decided by the user', () => {
    const key = join(tmp, 'id');
    writeFileSync(key, 'not read by the config');
    const c = parseConfig(configSchema, { ...base, NETWORK_APPLIER: 'ssh', NETWORK_SSH_KEY_FILE: key });
    expect([c.NETWORK_SSH_USER, c.NETWORK_SSH_PORT, c.NETWORK_SSH_KNOWN_HOSTS, c.NETWORK_APPLY_ROOT, c.NETWORK_SSH_SUDO, c.NETWORK_APPLY_VERIFY_TIMEOUT_MS]).toEqual([
      'stack',
      22,
      'accept-new',
      '/',
      undefined,
      60_000,
    ]);
    expect(parseConfig(configSchema, base).NETWORK_APPLIER).toBe('lab');
  });
});
