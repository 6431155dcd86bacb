import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StepFailedError, ValidationError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import { InMemoryAggregateStore } from '@stackyard/testing';
import type { Container } from '@stackyard/proto/deployment/v1/deployment';
import type { DeployFailed, HostPrepared } from '@stackyard/proto/deployment/v1/events';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { NetworkConfigured } from '@stackyard/proto/network/v1/events';
import type { NodeRetryRequested } from '@stackyard/proto/monitoring/v1/events';
import { LabHostPreparer } from '../adapters/host-prep/lab-preparer';
import { EMPTY_HOST_STATE, type HostPrepPlan, type HostState } from '../domain/host-prep';
import { DeploymentService } from './deployment';
import { HostPrep, hostsEntries, specFor, validateHostPrepSettings, type HostPrepSettings } from './host-prep';
import type { ContainerRuntime, HostPreparer, HostPrepTarget, NodeDeploymentData, NodeDeploymentRepository, RuntimeRunResult, SiteControllerRepository, Write } from './ports';

class Repo implements NodeDeploymentRepository {
  readonly store = new InMemoryAggregateStore<NodeDeploymentData>('node deployment');
  get(hostId: string) {
    return this.store.get(hostId);
  }
  async listBySite(siteId: string) {
    return (await this.store.find((d) => d.host.siteId === siteId)).map((r) => r.data);
  }
  async listDeployed() {
    return (await this.store.find((d) => d.state === 'deployed')).map((r) => ({ data: r.data, version: r.version }));
  }
  save(d: NodeDeploymentData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
    return version === undefined ? this.store.create(d.host.hostId, d, { events, appliedKey }) : this.store.update(d.host.hostId, version, d, { events, appliedKey });
  }
}

class Controllers implements SiteControllerRepository {
  readonly hosts: HostRef[] = [];
  async record(host: HostRef) {
    this.hosts.push(host);
    return 'applied' as const;
  }
  async listBySite(siteId: string) {
    return this.hosts.filter((h) => h.siteId === siteId);
  }
}

class Runtime implements ContainerRuntime {
  readonly name = 'fake';
  readonly usesInputs = false;
  readonly calls: string[] = [];
  async deploy(host: HostRef): Promise<Container[]> {
    this.calls.push(host.name);
    return [{ service: 'common', name: 'cron', healthy: true }];
  }
  run(): Promise<RuntimeRunResult> {
    throw new Error('unused');
  }
  async health(): Promise<'unsupported'> {
    return 'unsupported';
  }
}

/** A preparer that throws the queued errors first, then behaves as the lab one. */
class Flaky implements HostPreparer {
  readonly name = 'flaky';
  readonly lab = new LabHostPreparer();
  readonly errors: unknown[] = [];
  inspect(t: HostPrepTarget, paths: readonly string[]): Promise<HostState> {
    const e = this.errors.shift();
    return e === undefined ? this.lab.inspect(t, paths) : Promise.reject(e);
  }
  apply(t: HostPrepTarget, plan: HostPrepPlan): Promise<void> {
    return this.lab.apply(t, plan);
  }
}

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0 kolla@seed';
const SETTINGS: HostPrepSettings = {
  defaults: { osFamily: 'redhat', users: [{ name: 'kolla', groups: ['docker'], sudo: true, sshKeys: [KEY] }], containerEngine: 'docker', registryMirrors: [] },
  groups: {
    all: { ntpServers: [{ server: 'ntp.example.com' }], sysctl: { 'net.ipv4.ip_forward': 1 } },
    controllers: { sysctl: { 'net.core.somaxconn': 4096 }, lvmDataDisks: ['/dev/sdb'], registryMirrors: ['https://mirror.example.com'] },
    compute: { swap: ['/dev/sdc'], containerEngine: 'podman', users: [] },
  },
};

const ref = (name: string, groups: string[]): HostRef => ({ hostId: `dc1-${name}`, siteId: 'dc1', name, groups });
const CTL = ref('ctl-01', ['controllers']);
const CMP = ref('cmp-01', ['compute']);
const ORIGIN = { id: 'origin', correlationId: 'corr-dc1' };

function configured(host: HostRef, internal: string): Envelope<NetworkConfigured> {
  return newEvent({
    type: Events.NetworkConfigured,
    site: 'dc1',
    entityId: host.hostId,
    service: 'network',
    data: {
      host,
      allocations: [
        { siteId: 'dc1', hostId: host.hostId, network: 'provision_oc', address: internal.replace(/^10\.1\./, '10.0.') },
        { siteId: 'dc1', hostId: host.hostId, network: 'internal', address: internal },
      ],
      files: [],
    },
    cause: ORIGIN,
  });
}

function retry(host: HostRef, step: string): Envelope<NodeRetryRequested> {
  return newEvent({ type: Events.NodeRetryRequested, site: 'dc1', entityId: host.hostId, service: 'monitoring', data: { host, step, attempt: 1, requestedBy: 'alice' }, cause: ORIGIN });
}

const ctx = (env: Envelope, lastAttempt = false) => ({ appliedKey: `k~${env.id}`, lastAttempt });

describe('specFor: per group, as Kayobe <group>_* variables', () => {
  it('Given a controller, then defaults, `all` and `controllers` are layered; sysctl merges by key; the data VG holds docker-volumes', () => {
    const spec = specFor(SETTINGS, CTL, [{ ip: '10.1.0.11', names: ['ctl-01'] }]);
    expect(spec).toEqual({
      hostname: 'ctl-01',
      osFamily: 'redhat',
      users: [{ name: 'kolla', groups: ['docker'], sudo: true, sshKeys: [KEY] }],
      hosts: [{ ip: '10.1.0.11', names: ['ctl-01'] }],
      ntp: { servers: [{ server: 'ntp.example.com' }] },
      sysctl: { 'net.ipv4.ip_forward': 1, 'net.core.somaxconn': 4096 },
      volumeGroups: [{ name: 'data', disks: ['/dev/sdb'], logicalVolumes: [{ name: 'docker-volumes', size: '75%VG', filesystem: 'ext4', mountPoint: '/var/lib/docker/volumes' }] }],
      swap: [],
      containerEngine: { engine: 'docker', registryMirrors: ['https://mirror.example.com'], insecureRegistries: [] },
    });
  });

  it('Given a compute host, then its group replaces lists (no users, podman) and adds swap', () => {
    const spec = specFor(SETTINGS, CMP, []);
    expect(spec.users).toEqual([]);
    expect(spec.swap).toEqual(['/dev/sdc']);
    expect(spec.sysctl).toEqual({ 'net.ipv4.ip_forward': 1 });
    expect(spec.containerEngine).toEqual({ engine: 'podman', registryMirrors: [], insecureRegistries: [] });
    expect(spec.volumeGroups).toEqual([]);
  });

  it('Given a host in two groups, then the later group of the host wins', () => {
    expect(specFor(SETTINGS, ref('x', ['controllers', 'compute']), []).containerEngine?.engine).toBe('podman');
    expect(specFor(SETTINGS, ref('x', ['compute', 'controllers']), []).containerEngine?.registryMirrors).toEqual(['https://mirror.example.com']);
  });

  it('validates every group at start, naming the group and field', () => {
    expect(validateHostPrepSettings(SETTINGS)).toBe(SETTINGS);
    const bad = { ...SETTINGS, groups: { ...SETTINGS.groups, storage: { swap: ['sdz'] } } };
    const e = (() => {
      try {
        validateHostPrepSettings(bad);
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('storage.swap[0]');
    expect((e as Error).message).toBe('storage.swap[0]: invalid device "sdz"');
  });

  it('hostsEntries: internal addresses only, sorted by name, each name once', () => {
    const nodes = [
      { host: CTL, addresses: [{ network: 'internal', address: '10.1.0.11' }] },
      { host: CMP, addresses: [{ network: 'provision_oc', address: '10.0.0.21' }, { network: 'internal', address: '10.1.0.21' }] },
      { host: ref('stor-01', ['storage']), addresses: [{ network: 'provision_oc', address: '10.0.0.31' }] },
      { host: CTL, addresses: [{ network: 'internal', address: '10.1.0.99' }] },
    ];
    expect(hostsEntries(nodes)).toEqual([
      { ip: '10.1.0.21', names: ['cmp-01'] },
      { ip: '10.1.0.11', names: ['ctl-01'] },
    ]);
  });
});

describe('HostPrep.run (lab preparer): idempotent', () => {
  it('Given a fresh host, then everything is changed; run again, then nothing is and all of it is unchanged', async () => {
    const lab = new LabHostPreparer();
    const prep = new HostPrep(SETTINGS, lab);
    const target = { host: CTL, address: '10.1.0.11' };
    const hosts = [{ host: CTL, addresses: [{ network: 'internal', address: '10.1.0.11' }] }];

    const first = await prep.run(target, hosts);
    expect(first.unchangedCount).toBe(0);
    expect(first.changed).toEqual(
      expect.arrayContaining(['create group docker', 'create user kolla', 'file /etc/hosts', 'file /etc/chrony.conf', 'create volume group data', 'mount /var/lib/docker/volumes', 'file /etc/docker/daemon.json']),
    );

    const second = await prep.run(target, hosts);
    expect(second).toEqual({ changed: [], unchangedCount: first.changed.length });
    expect(lab.stateOf('ctl-01').files['/etc/hosts']).toContain('10.1.0.11 ctl-01\n');

    // Another node appears on the internal network: only /etc/hosts changes.
    const third = await prep.run(target, [...hosts, { host: { ...CTL, hostId: 'dc1-ctl-02', name: 'ctl-02' }, addresses: [{ network: 'internal', address: '10.1.0.12' }] }]);
    expect(third.changed).toEqual(['file /etc/hosts']);
  });
});

describe('DeploymentService with host preparation', () => {
  let repo: Repo;
  let runtime: Runtime;

  beforeEach(() => {
    repo = new Repo();
    runtime = new Runtime();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const service = (preparer: HostPreparer, gating?: Controllers) => new DeploymentService(repo, runtime, undefined, gating ? { controllers: gating } : undefined, new HostPrep(SETTINGS, preparer));

  it('Given NetworkConfigured, then the host is prepared (HostPrepared, /etc/hosts from the site) before the services deploy', async () => {
    const lab = new LabHostPreparer();
    const svc = service(lab);
    const a = configured(CTL, '10.1.0.11');
    await svc.onNetworkConfigured(a, ctx(a));
    const b = configured(CMP, '10.1.0.21');
    expect(await svc.onNetworkConfigured(b, ctx(b))).toBe('applied');

    expect(repo.store.outbox.map((e) => `${e.type.split('.').pop()} ${e.subject.split('.')[4]}`)).toEqual([
      'HostPrepared dc1-ctl-01',
      'ServicesDeployed dc1-ctl-01',
      'HostPrepared dc1-cmp-01',
      'ServicesDeployed dc1-cmp-01',
    ]);
    const prepared = repo.store.eventsOfType(Events.HostPrepared.type) as Envelope<HostPrepared>[];
    expect(prepared[1]?.subject).toBe('stackyard.dc1.deployment.node.dc1-cmp-01.host-prepared');
    expect(prepared[1]?.causationId).toBe(b.id);
    expect(prepared[1]?.data.changed).toContain('file /etc/hosts');
    expect(prepared[1]?.data.unchangedCount).toBe(0);
    expect(lab.stateOf('cmp-01').files['/etc/hosts']).toBe('# BEGIN STACKYARD MANAGED BLOCK\n10.1.0.21 cmp-01\n10.1.0.11 ctl-01\n# END STACKYARD MANAGED BLOCK\n');
    const stored = await repo.get('dc1-cmp-01');
    expect(stored?.data).toMatchObject({ state: 'deployed', hostPrep: { changed: prepared[1]?.data.changed, unchangedCount: 0 } });
    expect(runtime.calls).toEqual(['ctl-01', 'cmp-01']);
  });

  it('Given a site read before, then /etc/hosts comes from what changed since (a node removed meanwhile leaves it), and from the whole site again after a minute', async () => {
    /** Records which reads host preparation asks for; knows when each node deployment was written. */
    class ChangingRepo extends Repo {
      readonly reads: string[] = [];
      private readonly writtenAt = new Map<string, number>();
      override async listBySite(siteId: string) {
        this.reads.push('site');
        return super.listBySite(siteId);
      }
      async changedSince(siteId: string, since: Date) {
        this.reads.push('changes');
        return (await super.listBySite(siteId)).filter((n) => (this.writtenAt.get(n.host.hostId) ?? 0) >= since.getTime());
      }
      override save(d: NodeDeploymentData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write> {
        this.writtenAt.set(d.host.hostId, Date.now());
        return super.save(d, version, events, appliedKey);
      }
    }
    vi.useFakeTimers({ toFake: ['Date'] });
    const changing = new ChangingRepo();
    repo = changing;
    const lab = new LabHostPreparer();
    const svc = service(lab);
    const prepare = async (h: HostRef, ip: string) => {
      const e = configured(h, ip);
      expect(await svc.onNetworkConfigured(e, ctx(e))).toBe('applied');
      return lab.stateOf(h.name).files['/etc/hosts'];
    };
    const later = (ms: number) => vi.setSystemTime(Date.now() + ms);

    await prepare(CTL, '10.1.0.11');
    expect(await prepare(CMP, '10.1.0.21')).toContain('10.1.0.11 ctl-01\n'); // prepared by this replica: in the view at once
    // Another replica deploys cmp-02.
    const cmp2 = ref('cmp-02', ['compute']);
    await changing.save({ host: cmp2, state: 'deployed', containers: [], lastFailure: undefined, addresses: [{ network: 'internal', address: '10.1.0.22' }] }, undefined, [], 'other');
    later(6000);
    expect(await prepare(ref('cmp-03', ['compute']), '10.1.0.23')).toContain('10.1.0.22 cmp-02\n');
    // cmp-02 is removed (its services and addresses gone).
    const v = (await changing.get(cmp2.hostId))!;
    await changing.save({ ...v.data, state: 'removed' }, v.version, [], 'removed');
    later(6000);
    const hosts = await prepare(ref('cmp-04', ['compute']), '10.1.0.24');
    expect(hosts).not.toContain('cmp-02');
    for (const line of ['10.1.0.11 ctl-01', '10.1.0.21 cmp-01', '10.1.0.23 cmp-03', '10.1.0.24 cmp-04']) expect(hosts).toContain(`${line}\n`);
    expect(changing.reads).toEqual(['site', 'changes', 'changes']);
    later(61_000);
    await prepare(ref('cmp-05', ['compute']), '10.1.0.25');
    expect(changing.reads).toEqual(['site', 'changes', 'changes', 'site']);
  });

  it('Given NetworkConfigured delivered again after the deploy failed retryably, then the host is not prepared twice', async () => {
    const lab = new LabHostPreparer();
    const svc = service(lab);
    const env = configured(CMP, '10.1.0.21');
    runtime.deploy = async () => {
      throw new StepFailedError('ContainersUnhealthy', 'nova_compute', true);
    };
    await expect(svc.onNetworkConfigured(env, ctx(env))).rejects.toMatchObject({ reason: 'ContainersUnhealthy' });
    expect((await repo.get('dc1-cmp-01'))?.data.state).toBe('prepared');
    runtime.deploy = Runtime.prototype.deploy;

    expect(await svc.onNetworkConfigured(env, ctx(env))).toBe('applied');
    expect(repo.store.outbox.map((e) => e.type)).toEqual([Events.HostPrepared.type, Events.ServicesDeployed.type]);
  });

  it('Given host preparation fails for good, then DeployFailed (step host-prep) is recorded with the reason and no service deploys', async () => {
    const svc = service(new LabHostPreparer(['cmp-01:1']));
    const env = configured(CMP, '10.1.0.21');

    expect(await svc.onNetworkConfigured(env, ctx(env))).toBe('applied');

    const [event, ...more] = repo.store.outbox as Envelope<DeployFailed>[];
    expect(more).toEqual([]);
    const failure = { step: 'host-prep', reason: 'HostPrepFailed', message: 'lab: host preparation of cmp-01 fails by configuration', retryable: false };
    expect(event?.type).toBe(Events.DeployFailed.type);
    expect(event?.data.failure).toEqual(failure);
    expect((await repo.get('dc1-cmp-01'))?.data).toMatchObject({ state: 'failed', lastFailure: failure });
    expect(runtime.calls).toEqual([]);
  });

  it('Given an unreachable host with deliveries left, then it throws (redelivery) and writes nothing; on the last, DeployFailed retryable', async () => {
    const flaky = new Flaky();
    const svc = service(flaky);
    const env = configured(CMP, '10.1.0.21');
    flaky.errors.push(new StepFailedError('HostUnreachable', 'ssh root@10.1.0.21:22: Connection refused', true));
    await expect(svc.onNetworkConfigured(env, ctx(env))).rejects.toMatchObject({ reason: 'HostUnreachable' });
    expect(repo.store.outbox).toEqual([]);

    flaky.errors.push(new StepFailedError('HostUnreachable', 'ssh root@10.1.0.21:22: Connection refused', true));
    expect(await svc.onNetworkConfigured(env, ctx(env, true))).toBe('applied');
    expect((repo.store.outbox[0] as Envelope<DeployFailed>).data.failure).toMatchObject({ step: 'host-prep', reason: 'HostUnreachable', retryable: true });
  });

  it('Given a host-prep failure, when the operator retries step host-prep, then the host is prepared and its services deploy, once', async () => {
    const svc = service(new LabHostPreparer(['cmp-01:1']));
    const env = configured(CMP, '10.1.0.21');
    await svc.onNetworkConfigured(env, ctx(env));
    expect(await svc.onRetryRequested(retry(CMP, 'enroll'), ctx(env))).toBe('ignored');

    const r = retry(CMP, 'host-prep');
    expect(await svc.onRetryRequested(r, ctx(r))).toBe('applied');

    expect(repo.store.outbox.map((e) => e.type)).toEqual([Events.DeployFailed.type, Events.HostPrepared.type, Events.ServicesDeployed.type]);
    expect(repo.store.outbox[2]?.causationId).toBe(r.id);
    expect((await repo.get('dc1-cmp-01'))?.data).toMatchObject({ state: 'deployed', lastFailure: undefined, hostPrep: { unchangedCount: 0 } });
    expect(runtime.calls).toEqual(['cmp-01']);
    // Retried again (a duplicate request): the node is not failed any more.
    expect(await svc.onRetryRequested(r, ctx(r))).toBe('ignored');
  });

  it('Given a services failure after host prep, when step host-prep is retried, then it is ignored; a services retry deploys without preparing again', async () => {
    const svc = service(new LabHostPreparer());
    let fail = true;
    runtime.deploy = async (host: HostRef) => {
      if (fail) throw new StepFailedError('ContainerStartFailed', 'boom', false);
      runtime.calls.push(host.name);
      return [];
    };
    const env = configured(CMP, '10.1.0.21');
    await svc.onNetworkConfigured(env, ctx(env));
    expect((await repo.get('dc1-cmp-01'))?.data).toMatchObject({ state: 'failed', lastFailure: { step: 'services' }, hostPrep: { unchangedCount: 0 } });
    expect(await svc.onRetryRequested(retry(CMP, 'host-prep'), ctx(env))).toBe('ignored');
    fail = false;
    const r = retry(CMP, 'services');
    expect(await svc.onRetryRequested(r, ctx(r))).toBe('applied');
    expect(repo.store.outbox.map((e) => e.type)).toEqual([Events.HostPrepared.type, Events.DeployFailed.type, Events.ServicesDeployed.type]);
  });

  it('Given quorum gating, then a compute is prepared before it waits, and is not prepared again when released', async () => {
    const controllers = new Controllers();
    await controllers.record(CTL);
    const lab = new LabHostPreparer();
    const svc = service(lab, controllers);
    const c = configured(CMP, '10.1.0.21');
    await svc.onNetworkConfigured(c, ctx(c));
    expect(repo.store.outbox.map((e) => e.type)).toEqual([Events.HostPrepared.type, Events.NodeDeploymentWaiting.type]);
    expect((await repo.get('dc1-cmp-01'))?.data).toMatchObject({ state: 'waiting', hostPrep: { unchangedCount: 0 } });

    const a = configured(CTL, '10.1.0.11');
    await svc.onNetworkConfigured(a, ctx(a));
    const deployed = repo.store.eventsOfType(Events.ServicesDeployed.type)[0]!;
    await svc.onControlPlaneChanged(deployed as never, { appliedKey: 'cp' });
    const released = repo.store.eventsOfType(Events.NodeDeploymentReleased.type)[0]!;
    await svc.onReleased(released as never, ctx(released));

    expect(repo.store.outbox.map((e) => `${e.type.split('.').pop()} ${e.subject.split('.')[4]}`)).toEqual([
      'HostPrepared dc1-cmp-01',
      'NodeDeploymentWaiting dc1-cmp-01',
      'HostPrepared dc1-ctl-01',
      'ServicesDeployed dc1-ctl-01',
      'NodeDeploymentReleased dc1-cmp-01',
      'ServicesDeployed dc1-cmp-01',
    ]);
    expect((await repo.get('dc1-cmp-01'))?.data.hostPrep).toBeDefined();
  });

  it('Given no host preparation configured, then NetworkConfigured goes straight to the services deploy', async () => {
    const svc = new DeploymentService(repo, runtime);
    const env = configured(CMP, '10.1.0.21');
    await svc.onNetworkConfigured(env, ctx(env));
    expect(repo.store.outbox.map((e) => e.type)).toEqual([Events.ServicesDeployed.type]);
    expect(EMPTY_HOST_STATE.users).toEqual([]);
  });
});
