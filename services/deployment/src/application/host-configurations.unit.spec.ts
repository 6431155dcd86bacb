import { describe, expect, it } from 'vitest';
import { StepFailedError, isRetryable } from '@stackyard/errors';
import { Events, newEvent } from '@stackyard/events';
import { InMemoryAggregateStore } from '@stackyard/testing';
import type { Host, HostConfiguration } from '@stackyard/proto/inventory/v1/inventory';
import { LabHostPreparer } from '../adapters/host-prep/lab-preparer';
import { HostConfigurations } from './host-configurations';
import { HostPrep, importedVars, specFor, type HostPrepSettings } from './host-prep';
import type { HostConfigurationRecord, HostConfigurationRepository, Write } from './ports';

class Repo implements HostConfigurationRepository {
  readonly store = new InMemoryAggregateStore<HostConfigurationRecord>('host configuration');
  get(hostId: string) {
    return this.store.get(hostId);
  }
  save(r: HostConfigurationRecord, version: number | undefined, appliedKey: string): Promise<Write> {
    return version === undefined ? this.store.create(r.hostId, r, { appliedKey }) : this.store.update(r.hostId, version, r, { appliedKey });
  }
}

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0 kolla@seed';

/** What the import gives controller0 of kayobe-config-dev with Kayobe CI's host configure overrides (inventory host-config.int.spec.ts). */
const IMPORTED: HostConfiguration = {
  osFamily: '',
  users: [{ name: 'kayobe-test-user', shell: '', home: '', groups: ['stack'], sshKeys: [] }],
  kollaUser: 'kolla',
  kollaGroup: 'kolla',
  ntpServers: [{ server: 'time.cloudflare.com', type: 'pool', options: ['maxsources 2'] }],
  ntpRtcsync: true,
  sysctlParameters: [{ name: 'fs.mount-max', value: '99999' }],
  lvmGroups: [{ name: 'data', disks: ['/dev/mapper/loopback-crypt'], logicalVolumes: [{ name: 'docker-volumes', size: '75%VG', filesystem: 'ext4', mountPoint: '/var/lib/docker/volumes' }] }],
  swap: [{ device: '', path: '/swapfile', sizeMb: 256 }],
  containerEngine: 'docker',
  registryMirrors: [],
  insecureRegistries: ['192.168.33.5:4000'],
  storageDriver: 'overlay2',
  liveRestore: false,
  etcHostsNetwork: 'aio',
  customEtcHosts: [{ ip: '127.0.0.88', names: ['foo.example.com'] }],
};

const SETTINGS: HostPrepSettings = {
  defaults: { osFamily: 'redhat', users: [{ name: 'kolla', groups: ['docker'], sudo: true, sshKeys: [KEY] }], ntpServers: [{ server: 'ntp.default' }], containerEngine: 'docker', registryMirrors: ['https://default-mirror.example.com'] },
  groups: {},
  kollaSshKeys: [KEY],
};

const host = (over: Partial<Host> = {}): Host => ({
  id: 'dc1-controller0',
  siteId: 'dc1',
  name: 'controller0',
  groups: ['controllers', 'overcloud'],
  labels: {},
  hardwareProfile: '',
  version: 1,
  bmc: undefined,
  hardware: undefined,
  configuration: IMPORTED,
  ...over,
});
const REF = { hostId: 'dc1-controller0', siteId: 'dc1', name: 'controller0', groups: ['controllers', 'overcloud'] };
const registered = (h: Host) => newEvent({ type: Events.HostRegistered, site: 'dc1', entityId: h.id, service: 'inventory', data: { host: h } });
const updated = (h: Host, changedFields: string[]) => newEvent({ type: Events.HostUpdated, site: 'dc1', entityId: h.id, service: 'inventory', data: { host: h, changedFields } });

describe('the imported host configuration as a layer: DEPLOY_HOST_PREP_* < imported Kayobe configuration < HOST_PREP_FILE', () => {
  it('Given the import of controller0, then its spec has the configuration values and the kolla user with the operator keys', () => {
    const spec = specFor(SETTINGS, REF, [], importedVars(IMPORTED, [KEY]));
    expect(spec.users).toEqual([
      { name: 'kayobe-test-user', groups: ['stack'], sshKeys: [] },
      { name: 'kolla', groups: ['docker'], sudo: true, sshKeys: [KEY] },
    ]);
    expect(spec.osFamily).toBe('redhat'); // unknown at import: the default's
    expect(spec.ntp).toEqual({ servers: [{ server: 'time.cloudflare.com', type: 'pool', options: ['maxsources 2'] }], rtcsync: true });
    expect(spec.sysctl).toEqual({ 'fs.mount-max': '99999' });
    expect(spec.volumeGroups).toEqual([{ name: 'data', disks: ['/dev/mapper/loopback-crypt'], logicalVolumes: [{ name: 'docker-volumes', size: '75%VG', filesystem: 'ext4', mountPoint: '/var/lib/docker/volumes' }] }]);
    expect(spec.swap).toEqual([]);
    expect(spec.swapFiles).toEqual([{ path: '/swapfile', sizeMb: 256 }]);
    // The configuration's (empty) mirror list replaces the default's.
    expect(spec.containerEngine).toEqual({ engine: 'docker', registryMirrors: [], insecureRegistries: ['192.168.33.5:4000'], storageDriver: 'overlay2', liveRestore: false });
    expect(spec.hosts).toEqual([{ ip: '127.0.0.88', names: ['foo.example.com'] }]);
  });

  it('Given HOST_PREP_FILE groups, then they override the imported values (sysctl merged by key)', () => {
    const s: HostPrepSettings = { ...SETTINGS, groups: { all: { ntpServers: [{ server: 'ntp.operator' }] }, controllers: { sysctl: { 'vm.swappiness': 10 }, containerEngine: 'podman' } } };
    const spec = specFor(s, REF, [], importedVars(IMPORTED, [KEY]));
    expect(spec.ntp?.servers).toEqual([{ server: 'ntp.operator' }]);
    expect(spec.sysctl).toEqual({ 'fs.mount-max': '99999', 'vm.swappiness': 10 });
    expect(spec.containerEngine?.engine).toBe('podman');
  });

  it('Given a host not in the container-engine group, then no engine; podman keeps the kolla user out of the docker group', () => {
    expect(specFor(SETTINGS, REF, [], importedVars({ ...IMPORTED, containerEngine: '' }, [])).containerEngine).toBeUndefined();
    const podman = specFor(SETTINGS, REF, [], importedVars({ ...IMPORTED, containerEngine: 'podman', storageDriver: '' }, []));
    expect(podman.users.find((u) => u.name === 'kolla')?.groups).toEqual([]);
  });
});

describe('HostConfigurations (HostRegistered, HostUpdated) and HostPrep', () => {
  it('Given HostRegistered, then host prep applies the imported values; /etc/hosts uses the etc_hosts_network', async () => {
    const repo = new Repo();
    const configs = new HostConfigurations(repo);
    expect(await configs.onHostRegistered(registered(host()), { appliedKey: 'c~1' })).toBe('applied');
    const lab = new LabHostPreparer();
    const prep = new HostPrep(SETTINGS, lab, repo);
    const nodes = [
      { host: REF, addresses: [{ network: 'aio', address: '192.168.33.3' }] },
      { host: { ...REF, hostId: 'dc1-compute0', name: 'compute0' }, addresses: [{ network: 'aio', address: '192.168.33.6' }, { network: 'internal', address: '10.9.9.9' }] },
    ];
    const first = await prep.run({ host: REF, address: '192.168.33.3' }, nodes);
    expect(first.changed).toEqual(expect.arrayContaining(['create user kayobe-test-user', 'create user kolla', 'install docker-ce, docker-ce-cli, containerd.io', 'allocate swap file /swapfile', 'file /etc/docker/daemon.json']));
    const s = lab.stateOf('controller0');
    expect(s.files['/etc/hosts']).toBe('# BEGIN STACKYARD MANAGED BLOCK\n192.168.33.6 compute0\n192.168.33.3 controller0\n127.0.0.88 foo.example.com\n# END STACKYARD MANAGED BLOCK\n');
    expect(JSON.parse(s.files['/etc/docker/daemon.json']!)).toEqual({ 'insecure-registries': ['192.168.33.5:4000'], 'live-restore': false, 'storage-driver': 'overlay2' });
    expect(s.files['/etc/sysctl.d/50-kayobe.conf']).toContain('fs.mount-max = 99999\n');
    expect(s.volumeGroups).toEqual([{ name: 'data', disks: ['/dev/mapper/loopback-crypt'], logicalVolumes: ['docker-volumes'] }]);
    expect(s.packages).toEqual(['docker-ce', 'docker-ce-cli', 'containerd.io']);

    const second = await prep.run({ host: REF, address: '192.168.33.3' }, nodes);
    expect(second).toEqual({ changed: [], unchangedCount: first.changed.length });
  });

  it('Given no HostRegistered recorded yet, then host prep fails retryable (HostConfigurationPending); a host registered without a configuration gets the settings alone', async () => {
    const repo = new Repo();
    const prep = new HostPrep(SETTINGS, new LabHostPreparer(), repo);
    const e = await prep.run({ host: REF, address: undefined }, []).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StepFailedError);
    expect((e as StepFailedError).reason).toBe('HostConfigurationPending');
    expect(isRetryable(e)).toBe(true);

    const { configuration: _c, ...plain } = host();
    await new HostConfigurations(repo).onHostRegistered(registered(plain), { appliedKey: 'c~2' });
    const spec = await prep.specOf(REF, [{ host: REF, addresses: [{ network: 'internal', address: '10.1.0.3' }] }]);
    expect(spec.users.map((u) => u.name)).toEqual(['kolla']);
    expect(spec.containerEngine?.registryMirrors).toEqual(['https://default-mirror.example.com']);
    expect(spec.hosts).toEqual([{ ip: '10.1.0.3', names: ['controller0'] }]);
  });

  it('a re-import (HostUpdated naming configuration) replaces it; other updates, older versions and the same event twice change nothing', async () => {
    const repo = new Repo();
    const configs = new HostConfigurations(repo);
    await configs.onHostRegistered(registered(host()), { appliedKey: 'c~1' });
    const changed = host({ version: 3, configuration: { ...IMPORTED, registryMirrors: ['https://mirror.example.com'] } });
    expect(await configs.onHostUpdated(updated(host({ version: 2 }), ['labels']), { appliedKey: 'u~1' })).toBe('ignored');
    expect(await configs.onHostUpdated(updated(changed, ['configuration']), { appliedKey: 'u~2' })).toBe('applied');
    expect(await configs.onHostUpdated(updated(changed, ['configuration']), { appliedKey: 'u~2' })).toBe('duplicate'); // the same event (inbox key) again
    expect(await configs.onHostRegistered(registered(host({ version: 2 })), { appliedKey: 'c~3' })).toBe('ignored');
    expect((await repo.get('dc1-controller0'))?.data).toMatchObject({ hostVersion: 3, configuration: { registryMirrors: ['https://mirror.example.com'] } });
    expect(repo.store.writes).toBe(2);
  });

  it('rejects an event without host, naming the field', async () => {
    const configs = new HostConfigurations(new Repo());
    const bad = newEvent({ type: Events.HostRegistered, site: 'dc1', entityId: 'x', service: 'inventory', data: { host: undefined } });
    await expect(configs.onHostRegistered(bad, { appliedKey: 'k' })).rejects.toThrow(/host/);
  });
});
