/**
 * The host configuration (what host preparation applies) of the reference Kayobe configurations,
 * read from disk, against what Kayobe computes from those files and its defaults
 * (openstack+kayobe/ansible/inventory/group_vars). Expected values are literal; the comments name the
 * file each comes from. Bad host configuration variables fail the import naming variable and file.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostConfiguration } from '@stackyard/proto/inventory/v1/inventory';
import { importKayobeFiles, type KayobeImport } from '../../domain/kayobe/config';
import { renderTemplateFile, Undef, type Scope } from '../../domain/kayobe/jinja';
import { KayobeConfigError } from '../../domain/kayobe/problems';
import { importKayobeConfig, readKayobeConfigDir } from './reader';

const REF = '/work/shared/reference/kayobe-configs';
const DEV = `${REF}/openstack+kayobe-config-dev/etc/kayobe`;

const config = (imp: KayobeImport, host: string): HostConfiguration => {
  const h = imp.hosts.find((x) => x.name === host);
  if (!h?.configuration) throw new Error(`no configuration for ${host}`);
  return h.configuration;
};

/** Kayobe's defaults (group_vars/all/time, kolla, container-engine). */
const DEFAULT_NTP = [{ server: 'pool.ntp.org', type: 'pool', options: ['iburst', 'minpoll 8'] }];

describe('host configuration of openstack/kayobe-config-dev', () => {
  it('controller0 (controllers, compute, monitoring, overcloud, container-engine): Kayobe defaults, /etc/hosts on aio', async () => {
    const imp = await importKayobeConfig(DEV);
    expect(config(imp, 'controller0')).toEqual({
      // globals.yml: os_distribution is a lookup('pipe', ...) on the control host: not known at import.
      osFamily: '',
      users: [],
      kollaUser: 'kolla',
      kollaGroup: 'kolla',
      ntpServers: DEFAULT_NTP,
      ntpRtcsync: true,
      sysctlParameters: [],
      lvmGroups: [],
      swap: [],
      // container-engine.yml sets nothing: Kayobe's docker, overlay2, no mirrors, no registry.
      containerEngine: 'docker',
      registryMirrors: [],
      insecureRegistries: [],
      storageDriver: 'overlay2',
      liveRestore: false,
      // overcloud → etc_hosts_network = internal_net_name (networks.yml: aio).
      etcHostsNetwork: 'aio',
      customEtcHosts: [],
    });
  });

  it('seed has docker but no /etc/hosts; seed-hypervisor and infra-vm-1 no engine; ansible0 none (ansible_control_container_engine_enabled)', async () => {
    const imp = await importKayobeConfig(DEV);
    expect(config(imp, 'seed')).toMatchObject({ containerEngine: 'docker', etcHostsNetwork: '' });
    for (const h of ['seed-hypervisor', 'infra-vm-1', 'ansible0']) expect(config(imp, h)).toMatchObject({ containerEngine: '', registryMirrors: [], storageDriver: '', etcHostsNetwork: '' });
  });
});

describe('host configuration of stackhpc/a-universe-from-nothing', () => {
  it('the seed registry is insecure for every engine host (container-engine.yml docker_registry, docker-registry.yml docker_registry_enabled, no TLS)', async () => {
    const imp = await importKayobeConfig(`${REF}/stackhpc+a-universe-from-nothing/etc/kayobe`);
    for (const h of ['controller0', 'compute0', 'seed']) {
      expect(config(imp, h)).toMatchObject({ containerEngine: 'docker', insecureRegistries: ['192.168.33.5:4000'], storageDriver: 'overlay2', ntpServers: DEFAULT_NTP });
    }
    expect(config(imp, 'compute0').etcHostsNetwork).toBe('aio');
    expect(config(imp, 'seed-hypervisor')).toMatchObject({ containerEngine: '', insecureRegistries: [] });
  });
});

describe("host configuration of openstack/kayobe's etc/kayobe with dev-vagrant.yml", () => {
  it('dev-vagrant.yml: docker_storage_driver overlay, controller_lvm_groups [], internal_net_name aio', async () => {
    const files = await readKayobeConfigDir(`${REF}/openstack+kayobe/etc/kayobe`);
    const dev = `${REF}/openstack+kayobe/dev/dev-vagrant.yml`;
    const imp = importKayobeFiles([...files, { path: 'inventory/zz-test-hosts', text: '[controllers]\ncontroller1\n' }], {
      extraVars: [{ path: dev, text: await readFile(dev, 'utf8') }],
    });
    expect(config(imp, 'controller1')).toMatchObject({ containerEngine: 'docker', storageDriver: 'overlay', lvmGroups: [], etcHostsNetwork: 'aio', kollaUser: 'kolla' });
  });
});

/** Zuul's variables and a Rocky host's facts, as the kayobe-overcloud-host-configure-base job renders its overrides. */
const ZUUL: Record<string, unknown> = {
  zuul_site_mirror_fqdn: 'mirror.example.org',
  container_engine: 'docker',
  fail2ban_enabled: false,
  ansible_os_family: 'RedHat',
  ansible_facts: { os_family: 'RedHat' },
};
const scope: Scope = { variable: (n) => (n in ZUUL ? ZUUL[n] : new Undef(n)), inventoryHostnames: () => [], hostVariable: () => new Undef('hostvars'), hasHost: () => false };

describe("Kayobe CI's host configure overrides (playbooks/kayobe-overcloud-host-configure-base/overrides.yml.j2) over kayobe-config-dev", () => {
  it('controller0 gets its users (no password), the data VG on the LUKS device, sysctl, chrony, a swap file and a custom /etc/hosts entry', async () => {
    const path = `${REF}/openstack+kayobe/playbooks/kayobe-overcloud-host-configure-base/overrides.yml.j2`;
    const rendered = renderTemplateFile(path, await readFile(path, 'utf8'), scope);
    if (!rendered.ok) throw new Error(rendered.message);
    const imp = importKayobeFiles(await readKayobeConfigDir(DEV), { extraVars: [{ path: 'overrides.yml', text: rendered.text }] });
    const c = config(imp, 'controller0');
    // controller_users: kayobe-test-user in group stack; its password stays in the configuration.
    expect(c.users).toEqual([{ name: 'kayobe-test-user', shell: '', home: '', groups: ['stack'], sshKeys: [] }]);
    expect(JSON.stringify(c)).not.toContain('kayobe-test-user-password');
    // controller_lvm_groups: [controller_lvm_group_data] with controller_lvm_group_data_disks: [/dev/mapper/loopback-crypt];
    // Kayobe's data VG: docker-volumes, 75%VG, ext4, mounted at docker_volumes_path.
    expect(c.lvmGroups).toEqual([
      { name: 'data', disks: ['/dev/mapper/loopback-crypt'], logicalVolumes: [{ name: 'docker-volumes', size: '75%VG', filesystem: 'ext4', mountPoint: '/var/lib/docker/volumes' }] },
    ]);
    expect(c.sysctlParameters).toEqual([{ name: 'fs.mount-max', value: '99999' }]);
    expect(c.ntpServers).toEqual([{ server: 'time.cloudflare.com', type: 'pool', options: ['maxsources 2'] }]);
    expect(c.swap).toEqual([{ device: '', path: '/swapfile', sizeMb: 256 }]);
    expect(c.customEtcHosts).toEqual([{ ip: '127.0.0.88', names: ['foo.example.com'] }]);
  });

  it('with container_engine: podman (as kayobe-overcloud-base sets it), the data VG carries podman-volumes instead', async () => {
    const path = `${REF}/openstack+kayobe/playbooks/kayobe-overcloud-host-configure-base/overrides.yml.j2`;
    const rendered = renderTemplateFile(path, await readFile(path, 'utf8'), scope);
    if (!rendered.ok) throw new Error(rendered.message);
    const imp = importKayobeFiles(await readKayobeConfigDir(DEV), {
      extraVars: [
        { path: 'overrides.yml', text: rendered.text },
        { path: 'engine.yml', text: 'container_engine: podman\n' },
      ],
    });
    const c = config(imp, 'controller0');
    expect(c.containerEngine).toBe('podman');
    expect(c.storageDriver).toBe('');
    expect(c.lvmGroups[0]?.logicalVolumes).toEqual([{ name: 'podman-volumes', size: '75%VG', filesystem: 'ext4', mountPoint: '/var/lib/containers/storage/volumes' }]);
  });
});

describe('bad host configuration variables fail the import, naming the variable and the file', () => {
  const rejected = async (text: string): Promise<KayobeConfigError> => {
    try {
      importKayobeFiles(await readKayobeConfigDir(DEV), { extraVars: [{ path: 'bad.yml', text }] });
    } catch (e) {
      expect(e).toBeInstanceOf(KayobeConfigError);
      return e as KayobeConfigError;
    }
    throw new Error('accepted');
  };

  it('an unknown container engine', async () => {
    const e = await rejected('---\ncontainer_engine: lxc\n');
    expect(e.problems).toContainEqual(expect.objectContaining({ severity: 'error', code: 'InvalidHostConfiguration', file: 'bad.yml', line: 2, variable: 'container_engine' }));
    expect(e.message).toContain('bad.yml:2: container_engine: container_engine: unknown container engine "lxc" (docker or podman)');
  });

  it('an LVM group whose disks are not a list, one without vgname, an LV with a bad size', async () => {
    const e = await rejected('controller_lvm_groups:\n  - vgname: data\n    disks: /dev/sdb\n');
    expect(e.problems).toContainEqual(expect.objectContaining({ file: 'bad.yml', line: 1, variable: 'controller_lvm_groups', hosts: ['controller0'] }));
    expect(e.message).toContain('controller_lvm_groups[0].disks: must be a list, got "/dev/sdb"');
    expect((await rejected('controller_lvm_groups:\n  - disks: [/dev/sdb]\n')).message).toContain('controller_lvm_groups[0].vgname: is required');
    const size = await rejected('controller_lvm_groups:\n  - vgname: data\n    disks: [/dev/sdb]\n    lvnames:\n      - {lvname: a, size: lots}\n');
    expect(size.message).toContain('controller_lvm_groups[0].lvnames[0].size: "lots" is not an LVM size');
  });

  it("the data VG enabled without disks: Kayobe's placeholder 'changeme' is not a device", async () => {
    const e = await rejected('controller_lvm_group_data_enabled: true\n');
    expect(e.message).toContain('controller_lvm_groups[0].disks[0]: "changeme" is not a device path (/dev/...)');
  });

  it('a user without username, a swap file without size, sysctl parameters that are a list', async () => {
    expect((await rejected('controller_users:\n  - name: Someone\n')).message).toContain('controller_users[0].username: is required');
    expect((await rejected('controller_swap:\n  - path: /swapfile\n')).message).toContain('controller_swap[0].size_mb: a swap file needs a positive size_mb');
    const s = await rejected('controller_sysctl_parameters: [fs.mount-max]\n');
    expect(s.problems).toContainEqual(expect.objectContaining({ file: 'bad.yml', line: 1, variable: 'controller_sysctl_parameters' }));
  });

  it('a Jinja that resolves to a bad value is reported where it is set', async () => {
    const e = await rejected('my_engine: rkt\ncontainer_engine: "{{ my_engine }}"\n');
    expect(e.problems).toContainEqual(expect.objectContaining({ file: 'bad.yml', line: 2, variable: 'container_engine' }));
  });
});

describe('the host configuration is carried without secrets', () => {
  it('a user password under any key is not in the configuration', async () => {
    const imp = importKayobeFiles(await readKayobeConfigDir(DEV), {
      extraVars: [{ path: join('x', 'users.yml'), text: 'controller_users:\n  - {username: ops, password: s3cr3t-value, ssh_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0 ops@x", groups: [wheel]}\n' }],
    });
    const c = config(imp, 'controller0');
    expect(c.users).toEqual([{ name: 'ops', shell: '', home: '', groups: ['wheel'], sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0 ops@x'] }]);
    expect(JSON.stringify(c)).not.toContain('s3cr3t');
  });
});
