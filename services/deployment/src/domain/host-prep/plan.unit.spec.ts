import { describe, expect, it } from 'vitest';
import { ValidationError } from '@stackyard/errors';
import { EMPTY_HOST_STATE, planHostPrep, withManagedBlock, type HostPrepPlan, type HostState } from './plan';
import { kayobeDataVolumeGroup, type HostPrepSpec } from './spec';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0 kolla@seed';

const spec: HostPrepSpec = {
  hostname: 'ctl-01',
  osFamily: 'debian',
  users: [{ name: 'kolla', groups: ['docker'], sudo: true, sshKeys: [KEY] }],
  hosts: [
    { ip: '10.0.0.11', names: ['ctl-01.internal', 'ctl-01'] },
    { ip: '10.0.0.12', names: ['ctl-02'] },
  ],
  ntp: { servers: [{ server: 'pool.ntp.org', type: 'pool', options: ['iburst', 'maxsources 3'] }] },
  sysctl: { 'net.ipv4.ip_forward': 1, 'net.core.somaxconn': 4096 },
  volumeGroups: [kayobeDataVolumeGroup(['/dev/sdb'])],
  swap: ['/dev/sdc'],
  containerEngine: { engine: 'docker', registryMirrors: ['https://mirror.example.com'], insecureRegistries: ['reg.local:4000'] },
};

/** What the host looks like after applying `plan` to `before` (a fake executor). */
function applied(plan: HostPrepPlan, before: HostState): HostState {
  const files = { ...before.files };
  for (const f of plan.files) files[f.path] = f.content;
  const s = {
    ...before,
    files,
    users: [...before.users],
    groups: [...before.groups],
    volumeGroups: [...before.volumeGroups],
    mounts: [...before.mounts],
    activeSwap: [...before.activeSwap],
    packages: [...(before.packages ?? [])],
  };
  for (const c of plan.commands) {
    const a = c.argv;
    const last = a[a.length - 1]!;
    if (a[0] === 'groupadd') s.groups.push(last);
    if (a[0] === 'useradd') s.users.push({ name: last, groups: (a[a.indexOf('--groups') + 1] ?? '').split(',') });
    if (a[0] === 'vgcreate') s.volumeGroups.push({ name: a[1]!, disks: a.slice(2), logicalVolumes: [] });
    if (a[0] === 'lvcreate') {
      const i = s.volumeGroups.findIndex((v) => v.name === last);
      const vg = s.volumeGroups[i]!;
      s.volumeGroups[i] = { ...vg, logicalVolumes: [...vg.logicalVolumes, a[a.indexOf('--name') + 1]!] };
    }
    if (a[0] === 'mount') s.mounts.push(last);
    if (a[0] === 'swapon') s.activeSwap.push(last);
    if ((a[0] === 'dnf' || a[0] === 'apt-get') && a[1] === 'install') s.packages.push(...a.slice(3));
  }
  return s;
}

describe('planHostPrep on a fresh host', () => {
  const plan = planHostPrep(spec, EMPTY_HOST_STATE);
  const content = (path: string): string | undefined => plan.files.find((f) => f.path === path)?.content;

  it('renders /etc/hosts as a managed block', () => {
    expect(content('/etc/hosts')).toBe(
      '# BEGIN STACKYARD MANAGED BLOCK\n10.0.0.11 ctl-01.internal ctl-01\n10.0.0.12 ctl-02\n# END STACKYARD MANAGED BLOCK\n',
    );
  });

  it('renders chrony.conf at the Debian path', () => {
    expect(content('/etc/chrony/chrony.conf')).toBe(
      '# Managed by Stackyard host-prep. Do not edit.\npool pool.ntp.org iburst maxsources 3\ndriftfile /var/lib/chrony/chrony.drift\nmakestep 1.0 3\nrtcsync\n',
    );
    expect(plan.commands.map((c) => c.argv.join(' '))).toContain('systemctl restart chrony');
  });

  it('uses /etc/chrony.conf and chronyd on Red Hat family hosts', () => {
    const p = planHostPrep({ ...spec, osFamily: 'redhat' });
    expect(p.files.find((f) => f.path === '/etc/chrony.conf')?.content).toContain('driftfile /var/lib/chrony/drift\n');
    expect(p.commands.map((c) => c.argv.join(' '))).toContain('systemctl restart chronyd');
  });

  it('renders sysctl with sorted keys', () => {
    expect(content('/etc/sysctl.d/50-kayobe.conf')).toBe('# Managed by Stackyard host-prep. Do not edit.\nnet.core.somaxconn = 4096\nnet.ipv4.ip_forward = 1\n');
  });

  it('renders docker daemon.json with sorted keys', () => {
    expect(content('/etc/docker/daemon.json')).toBe(
      '{\n  "insecure-registries": [\n    "reg.local:4000"\n  ],\n  "registry-mirrors": [\n    "https://mirror.example.com"\n  ],\n  "storage-driver": "overlay2"\n}\n',
    );
  });

  it('renders authorized_keys (0600, owned by the user) and sudoers', () => {
    expect(plan.files.find((f) => f.path === '/home/kolla/.ssh/authorized_keys')).toEqual({
      kind: 'file',
      path: '/home/kolla/.ssh/authorized_keys',
      content: `${KEY}\n`,
      mode: '0600',
      owner: 'kolla',
    });
    expect(content('/etc/sudoers.d/kolla')).toBe('kolla ALL=(ALL) NOPASSWD: ALL\n');
  });

  it('renders fstab for the docker-volumes LV and swap', () => {
    expect(content('/etc/fstab')).toBe(
      '# BEGIN STACKYARD MANAGED BLOCK\n/dev/data/docker-volumes /var/lib/docker/volumes ext4 defaults 0 2\n/dev/sdc none swap sw 0 0\n# END STACKYARD MANAGED BLOCK\n',
    );
  });

  it('orders the commands', () => {
    expect(plan.commands.map((c) => c.argv.join(' '))).toEqual([
      'groupadd docker',
      'useradd --create-home --home-dir /home/kolla --user-group --shell /bin/bash --groups docker kolla',
      'sysctl -p /etc/sysctl.d/50-kayobe.conf',
      'systemctl restart chrony',
      'vgcreate data /dev/sdb',
      'lvcreate --yes --name docker-volumes --extents 75%VG data',
      'mkfs.ext4 /dev/data/docker-volumes',
      'mkswap /dev/sdc',
      'mkdir -p /var/lib/docker/volumes',
      'mount /var/lib/docker/volumes',
      'swapon /dev/sdc',
      'apt-get install -y docker.io',
      'systemctl enable --now docker',
    ]);
    expect(plan.changed).toBe(true);
    expect(plan.summary).toMatch(/^ctl-01: 7 file\(s\) to write \(.*\), 13 command\(s\) to run$/);
  });

  it('is byte-stable: the same spec with keys in another order gives the same plan', () => {
    const reordered: HostPrepSpec = { ...spec, sysctl: { 'net.core.somaxconn': 4096, 'net.ipv4.ip_forward': 1 } };
    expect(JSON.stringify(planHostPrep(reordered))).toBe(JSON.stringify(plan));
  });
});

describe('idempotency', () => {
  it('a second run on the prepared host is empty and says "no changes"', () => {
    const first = planHostPrep(spec, EMPTY_HOST_STATE);
    const again = planHostPrep(spec, applied(first, EMPTY_HOST_STATE));
    expect(again.steps).toEqual([]);
    expect(again.changed).toBe(false);
    expect(again.summary).toBe('ctl-01: no changes');
  });

  it('only the changed file and its restart are planned after a sysctl change', () => {
    const state = applied(planHostPrep(spec), EMPTY_HOST_STATE);
    const p = planHostPrep({ ...spec, sysctl: { ...spec.sysctl, 'vm.swappiness': 10 } }, state);
    expect(p.files.map((f) => f.path)).toEqual(['/etc/sysctl.d/50-kayobe.conf']);
    expect(p.commands.map((c) => c.argv.join(' '))).toEqual(['sysctl -p /etc/sysctl.d/50-kayobe.conf']);
  });

  it('adds missing groups to an existing user and extends a VG with a new disk', () => {
    const state = applied(planHostPrep(spec), EMPTY_HOST_STATE);
    const p = planHostPrep(
      {
        ...spec,
        users: [{ name: 'kolla', groups: ['docker', 'wheel'], sudo: true, sshKeys: [KEY] }],
        volumeGroups: [{ ...kayobeDataVolumeGroup(['/dev/sdb', '/dev/sdd']) }],
      },
      { ...state, groups: [...state.groups, 'wheel'] },
    );
    expect(p.commands.map((c) => c.argv.join(' '))).toEqual(['usermod --append --groups wheel kolla', 'vgextend data /dev/sdd']);
  });

  it('keeps the rest of /etc/hosts and replaces only the managed block', () => {
    const existing = '127.0.0.1 localhost\n# BEGIN STACKYARD MANAGED BLOCK\n10.9.9.9 old\n# END STACKYARD MANAGED BLOCK\n::1 ip6-localhost\n';
    expect(withManagedBlock(existing, '10.0.0.1 new\n')).toBe(
      '127.0.0.1 localhost\n# BEGIN STACKYARD MANAGED BLOCK\n10.0.0.1 new\n# END STACKYARD MANAGED BLOCK\n::1 ip6-localhost\n',
    );
    expect(withManagedBlock('127.0.0.1 localhost', 'x\n')).toBe('127.0.0.1 localhost\n# BEGIN STACKYARD MANAGED BLOCK\nx\n# END STACKYARD MANAGED BLOCK\n');
  });
});

describe('container engine install (Kayobe container-engine step)', () => {
  const redhat: HostPrepSpec = { ...spec, osFamily: 'redhat' };

  it('on Red Hat family hosts: the Docker CE repository, the packages, daemon.json, then enable and start', () => {
    const p = planHostPrep(redhat);
    const repo = p.files.find((f) => f.path === '/etc/yum.repos.d/docker-ce.repo');
    expect(repo?.content).toContain('baseurl=https://download.docker.com/linux/centos/$releasever/$basearch/stable\n');
    const steps = p.steps.map((x) => (x.kind === 'file' ? `file ${x.path}` : x.argv.join(' ')));
    expect(steps.slice(steps.indexOf('file /etc/yum.repos.d/docker-ce.repo'))).toEqual([
      'file /etc/yum.repos.d/docker-ce.repo',
      'dnf install -y docker-ce docker-ce-cli containerd.io',
      'file /etc/docker/daemon.json',
      'systemctl enable --now docker',
    ]);
  });

  it('installs only what is missing; installed and configured: nothing; a new mirror: daemon.json and a restart only', () => {
    const state = applied(planHostPrep(redhat), EMPTY_HOST_STATE);
    expect(state.packages).toEqual(['docker-ce', 'docker-ce-cli', 'containerd.io']);
    expect(planHostPrep(redhat, state).summary).toBe('ctl-01: no changes');
    const partly = planHostPrep(redhat, { ...state, packages: ['docker-ce'] });
    expect(partly.commands.map((c) => c.argv.join(' '))).toEqual(['dnf install -y docker-ce-cli containerd.io', 'systemctl enable --now docker']);
    const mirror = planHostPrep({ ...redhat, containerEngine: { ...redhat.containerEngine!, registryMirrors: ['https://other.example.com'] } }, state);
    expect(mirror.steps.map((x) => (x.kind === 'file' ? `file ${x.path}` : x.argv.join(' ')))).toEqual(['file /etc/docker/daemon.json', 'systemctl restart docker']);
  });

  it('podman from the distribution, on both families; install: false installs nothing', () => {
    const podman = { engine: 'podman' as const, registryMirrors: [], insecureRegistries: [] };
    expect(planHostPrep({ ...redhat, containerEngine: podman }).commands.map((c) => c.argv.join(' '))).toContain('dnf install -y podman');
    expect(planHostPrep({ ...spec, containerEngine: podman }).commands.map((c) => c.argv.join(' '))).toContain('apt-get install -y podman');
    const none = planHostPrep({ ...spec, containerEngine: { ...spec.containerEngine!, install: false } });
    expect(none.commands.some((c) => c.argv[0] === 'apt-get' || c.argv.includes('enable'))).toBe(false);
    expect(none.commands.map((c) => c.argv.join(' '))).toContain('systemctl restart docker');
  });
});

describe('swap files (<group>_swap: [{path, size_mb}])', () => {
  it('allocates, restricts, formats and enables the file once, with an fstab line', () => {
    const withFile: HostPrepSpec = { ...spec, swap: [], swapFiles: [{ path: '/swapfile', sizeMb: 256 }] };
    const p = planHostPrep(withFile);
    expect(p.commands.map((c) => c.argv.join(' ')).filter((c) => c.includes('/swapfile'))).toEqual([
      'fallocate --length 256MiB /swapfile',
      'chmod 0600 /swapfile',
      'mkswap /swapfile',
      'swapon /swapfile',
    ]);
    expect(p.files.find((f) => f.path === '/etc/fstab')?.content).toContain('/swapfile none swap sw 0 0\n');
    expect(planHostPrep(withFile, applied(p, EMPTY_HOST_STATE)).changed).toBe(false);
  });

  it('rejects a relative path and a zero size', () => {
    expect(() => planHostPrep({ ...spec, swapFiles: [{ path: 'swapfile', sizeMb: 1 }] })).toThrow(/swapFiles\[0\]\.path/);
    expect(() => planHostPrep({ ...spec, swapFiles: [{ path: '/swapfile', sizeMb: 0 }] })).toThrow(/swapFiles\[0\]\.sizeMb/);
  });
});

describe('podman', () => {
  it('renders registries.conf and storage.conf and no docker file', () => {
    const p = planHostPrep({
      ...spec,
      containerEngine: { engine: 'podman', registryMirrors: ['https://mirror.example.com'], insecureRegistries: ['reg.local:4000'] },
    });
    expect(p.files.find((f) => f.path === '/etc/containers/registries.conf')?.content).toBe(
      '# Managed by Stackyard host-prep. Do not edit.\nunqualified-search-registries = ["docker.io"]\n\n[[registry]]\nlocation = "docker.io"\n\n[[registry.mirror]]\nlocation = "mirror.example.com"\n\n[[registry]]\nlocation = "reg.local:4000"\ninsecure = true\n',
    );
    expect(p.files.find((f) => f.path === '/etc/containers/storage.conf')?.content).toBe('# Managed by Stackyard host-prep. Do not edit.\n[storage]\ndriver = "overlay"\n');
    expect(p.files.some((f) => f.path === '/etc/docker/daemon.json')).toBe(false);
  });
});

describe('validation names the bad field', () => {
  const bad = (patch: Partial<HostPrepSpec>, field: string): void => {
    let err: unknown;
    try {
      planHostPrep({ ...spec, ...patch } as HostPrepSpec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe(field);
  };

  it('rejects an LV larger than its VG', () =>
    bad({ volumeGroups: [{ name: 'data', disks: ['/dev/sdb'], sizeGiB: 100, logicalVolumes: [{ name: 'big', size: '200g' }] }] }, 'volumeGroups[0].logicalVolumes[0].size'));
  it('rejects LVs adding up to more than the VG', () =>
    bad(
      { volumeGroups: [{ name: 'data', disks: ['/dev/sdb'], logicalVolumes: [{ name: 'a', size: '75%VG' }, { name: 'b', size: '50%VG' }] }] },
      'volumeGroups[0].logicalVolumes[1].size',
    ));
  it('rejects mixed absolute and percent sizes that do not fit', () =>
    bad(
      { volumeGroups: [{ name: 'data', disks: ['/dev/sdb'], sizeGiB: 100, logicalVolumes: [{ name: 'a', size: '75%VG' }, { name: 'b', size: '30g' }] }] },
      'volumeGroups[0].logicalVolumes[1].size',
    ));
  it('rejects a malformed LV size', () => bad({ volumeGroups: [{ name: 'data', disks: ['/dev/sdb'], logicalVolumes: [{ name: 'a', size: 'lots' }] }] }, 'volumeGroups[0].logicalVolumes[0].size'));
  it('rejects a VG without disks', () => bad({ volumeGroups: [{ name: 'data', disks: [], logicalVolumes: [] }] }, 'volumeGroups[0].disks'));
  it('rejects an unknown engine', () => bad({ containerEngine: { engine: 'rkt' as 'docker', registryMirrors: [], insecureRegistries: [] } }, 'containerEngine.engine'));
  it('rejects a storage driver of the other engine', () =>
    bad({ containerEngine: { engine: 'docker', registryMirrors: [], insecureRegistries: [], storageDriver: 'overlay' } }, 'containerEngine.storageDriver'));
  it('rejects a mirror without scheme', () => bad({ containerEngine: { engine: 'docker', registryMirrors: ['mirror.example.com'], insecureRegistries: [] } }, 'containerEngine.registryMirrors[0]'));
  it('rejects an invalid sysctl key', () => bad({ sysctl: { 'net ipv4': 1 } }, 'sysctl.net ipv4'));
  it('rejects a sysctl value with a newline', () => bad({ sysctl: { 'vm.swappiness': '10\nkernel.x = 1' } }, 'sysctl.vm.swappiness'));
  it('rejects a duplicate user', () =>
    bad(
      {
        users: [
          { name: 'kolla', groups: [], sshKeys: [] },
          { name: 'kolla', groups: [], sshKeys: [] },
        ],
      },
      'users[1].name',
    ));
  it('rejects a bad ssh key', () => bad({ users: [{ name: 'kolla', groups: [], sshKeys: ['not a key'] }] }, 'users[0].sshKeys[0]'));
  it('rejects a bad /etc/hosts IP and a duplicate name', () => {
    bad({ hosts: [{ ip: '10.0.0.256', names: ['a'] }] }, 'hosts[0].ip');
    bad({ hosts: [{ ip: '10.0.0.1', names: ['a'] }, { ip: 'fd00::1', names: ['a'] }] }, 'hosts[1].names[0]');
  });
  it('rejects an unknown NTP source type', () => bad({ ntp: { servers: [{ server: 'ntp.example.com', type: 'broadcast' as 'server' }] } }, 'ntp.servers[0].type'));
  it('rejects a swap device also used by LVM', () => bad({ swap: ['/dev/sdb'] }, 'swap[0]'));
});
