import { describe, expect, it } from 'vitest';
import { ValidationError } from '@stackyard/errors';
import { configSchema } from '../../config';
import { specFor } from '../../application/host-prep';
import { hostPrepSettings, parseHostPrepFile } from './settings';

const FILE = `
all:
  ntp_servers: [ntp1.example.com, {server: pool.ntp.org, type: pool, options: [iburst]}]
controllers:
  sysctl_parameters: {net.ipv4.ip_forward: 1}
  lvm_data_disks: [/dev/sdb]
  swap: [{device: /dev/sdc}, {path: /swapfile, size_mb: 256}]
compute:
  container_engine: podman
  registry_mirrors: [https://mirror.example.com]
  users:
    - {name: stack, groups: [wheel], sudo: true, ssh_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0 op@seed"]}
`;

const config = (env: Record<string, string>) => configSchema.parse({ GRPC_PORT: '0', HTTP_PORT: '0', ...env });

describe('HOST_PREP_FILE and the DEPLOY_HOST_PREP_* defaults', () => {
  it('Given a YAML file keyed by group, then each group gets Kayobe-like variables over the defaults', () => {
    const s = hostPrepSettings(config({ HOST_PREP_FILE: '/etc/stackyard/host-prep.yml', DEPLOY_HOST_PREP_OS_FAMILY: 'debian' }), (p) => {
      expect(p).toBe('/etc/stackyard/host-prep.yml');
      return FILE;
    });
    const ctl = specFor(s, { hostId: 'h1', siteId: 'dc1', name: 'ctl-01', groups: ['controllers'] }, []);
    expect(ctl.osFamily).toBe('debian');
    expect(ctl.users).toEqual([{ name: 'kolla', groups: ['docker'], sudo: true, sshKeys: [] }]);
    expect(ctl.ntp?.servers).toEqual([{ server: 'ntp1.example.com' }, { server: 'pool.ntp.org', type: 'pool', options: ['iburst'] }]);
    expect(ctl.swap).toEqual(['/dev/sdc']);
    expect(ctl.swapFiles).toEqual([{ path: '/swapfile', sizeMb: 256 }]);
    expect(ctl.volumeGroups[0]?.disks).toEqual(['/dev/sdb']);
    expect(ctl.sysctl).toEqual({ 'net.ipv4.ip_forward': 1 });
    const cmp = specFor(s, { hostId: 'h2', siteId: 'dc1', name: 'cmp-01', groups: ['compute'] }, []);
    expect(cmp.users.map((u) => u.name)).toEqual(['stack']);
    expect(cmp.containerEngine).toEqual({ engine: 'podman', registryMirrors: ['https://mirror.example.com'], insecureRegistries: [] });
  });

  it('Given no file, then the defaults: the kolla user with the configured keys, chrony servers, docker', () => {
    const s = hostPrepSettings(config({ DEPLOY_HOST_PREP_NTP_SERVERS: 'ntp.example.com', DEPLOY_HOST_PREP_SSH_KEYS: 'ssh-ed25519 AAAAC3Nz kolla@seed' }));
    expect(s.groups).toEqual({});
    const spec = specFor(s, { hostId: 'h', siteId: 'dc1', name: 'x', groups: ['compute'] }, []);
    expect(spec.users).toEqual([{ name: 'kolla', groups: ['docker'], sudo: true, sshKeys: ['ssh-ed25519 AAAAC3Nz kolla@seed'] }]);
    expect(spec.ntp).toEqual({ servers: [{ server: 'ntp.example.com' }] });
    expect(spec.containerEngine?.engine).toBe('docker');
    expect(spec.osFamily).toBe('redhat');
  });

  it('rejects unknown keys and bad values with every problem, and an unreadable file', () => {
    const e = (() => {
      try {
        parseHostPrepFile('compute:\n  swapp: [/dev/sdc]\n  container_engine: lxc\n');
      } catch (x) {
        return x as ValidationError;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(ValidationError);
    expect(e?.field).toBe('HOST_PREP_FILE');
    expect(e?.message).toMatch(/compute\.container_engine/);
    expect(e?.message).toMatch(/swapp/);
    expect(() =>
      hostPrepSettings(config({ HOST_PREP_FILE: '/nope.yml' }), () => {
        throw new Error('ENOENT');
      }),
    ).toThrow(/HOST_PREP_FILE: cannot read \/nope.yml: ENOENT/);
  });

  it('requires a key file for the ssh preparer', () => {
    expect(() => config({ DEPLOY_HOST_PREP: 'ssh' })).toThrow(/DEPLOY_HOST_PREP_SSH_KEY_FILE/);
  });
});
