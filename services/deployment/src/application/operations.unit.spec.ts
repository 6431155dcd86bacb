import { beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, StepFailedError, ValidationError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import { InMemoryAggregateStore } from '@stackyard/testing';
import type { Container } from '@stackyard/proto/deployment/v1/deployment';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { PlannedContainer } from '../domain/catalogue';
import { DeploymentService } from './deployment';
import { SiteOperations } from './operations';
import type {
  ContainerRuntime,
  NodeDeploymentData,
  NodeDeploymentRepository,
  RuntimeOperation,
  RuntimeRunResult,
  SiteDeploymentData,
  SiteDeploymentRepository,
  SiteInputs,
  Write,
} from './ports';

class Nodes implements NodeDeploymentRepository {
  readonly store = new InMemoryAggregateStore<NodeDeploymentData>('node deployment');
  get(id: string) {
    return this.store.get(id);
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

class Sites implements SiteDeploymentRepository {
  readonly store = new InMemoryAggregateStore<SiteDeploymentData>('site deployment');
  get(id: string) {
    return this.store.get(id);
  }
  save(d: SiteDeploymentData, version: number | undefined): Promise<Write> {
    return version === undefined ? this.store.create(d.siteId, d) : this.store.update(d.siteId, version, d);
  }
}

/** Records operations; hosts in `failing` fail with a task error. Uses inputs, like kolla-ansible. */
class RecordingRuntime implements ContainerRuntime {
  readonly name = 'recording';
  readonly usesInputs = true;
  async health(): Promise<'unsupported'> {
    return 'unsupported';
  }
  readonly ops: RuntimeOperation[] = [];
  readonly deploys: { host: string; inputs: SiteInputs | undefined }[] = [];
  failing: string[] = [];
  async deploy(host: HostRef, containers: readonly PlannedContainer[], _a: readonly string[], inputs?: SiteInputs): Promise<Container[]> {
    this.deploys.push({ host: host.name, inputs });
    return containers.map((c) => ({ ...c, healthy: true }));
  }
  async run(op: RuntimeOperation): Promise<RuntimeRunResult> {
    this.ops.push(op);
    return {
      action: op.action,
      hosts: op.inputs.hosts.map((host) =>
        this.failing.includes(host)
          ? { host, outcome: 'failed' as const, containers: [], error: new StepFailedError('KollaTaskFailed', `${host}: failed in task "x": boom`, false) }
          : { host, outcome: 'ok' as const, containers: [] },
      ),
    };
  }
}

const SETTINGS = { openstackRelease: '2025.1', baseDistro: 'rocky', baseDistroVersion: '9', internalVipAddress: '10.1.0.5' };
const host = (name: string, groups: string[]): HostRef => ({ hostId: `dc1-${name}`, siteId: 'dc1', name, groups });

let nodes: Nodes;
let sites: Sites;
let runtime: RecordingRuntime;
let ops: SiteOperations;
let svc: DeploymentService;

async function configured(h: HostRef, address: string) {
  const env = newEvent({
    type: Events.NetworkConfigured,
    site: 'dc1',
    entityId: h.hostId,
    service: 'network',
    data: { host: h, allocations: [{ siteId: 'dc1', hostId: h.hostId, network: 'internal', address }], files: [] },
  });
  return svc.onNetworkConfigured(env, { appliedKey: `k~${env.id}`, lastAttempt: false });
}

beforeEach(async () => {
  nodes = new Nodes();
  sites = new Sites();
  runtime = new RecordingRuntime();
  ops = new SiteOperations(nodes, sites, runtime, SETTINGS, { clock: () => new Date('2025-06-01T00:00:00Z') });
  svc = new DeploymentService(nodes, runtime, ops);
  await configured(host('ctl-01', ['controllers', 'network']), '10.1.0.11');
  await configured(host('cmp-01', ['compute']), '10.1.0.21');
});

describe('the saga with a runtime that uses generated inputs', () => {
  it('Given nodes deployed one by one, then each deploy gets the site inputs including itself, and they are recorded as applied', async () => {
    expect(runtime.deploys.map((d) => [d.host, d.inputs?.hosts])).toEqual([
      ['ctl-01', ['ctl-01']],
      ['cmp-01', ['cmp-01', 'ctl-01']],
    ]);
    const cmp = runtime.deploys[1]!.inputs!;
    expect(cmp.files.map((f) => f.path)).toEqual(['globals.yml', 'inventory/overcloud/hosts', 'inventory/overcloud/host_vars/cmp-01', 'inventory/overcloud/host_vars/ctl-01']);
    expect(cmp.files.find((f) => f.path.endsWith('cmp-01'))?.content).toBe('---\nansible_host: "10.1.0.21"\n');
    expect((await sites.get('dc1'))?.data.applied).toEqual({ files: cmp.files, action: 'deploy', at: '2025-06-01T00:00:00.000Z' });
    expect(await ops.diffConfig('dc1')).toEqual({ siteId: 'dc1', diff: '', changedFiles: [], appliedAt: '2025-06-01T00:00:00.000Z' });
  });
});

describe('SiteOperations', () => {
  it('Given an upgrade, then the diff before shows the release change in globals.yml only; after it succeeded there is none', async () => {
    const up = await ops.upgrade('dc1', '2025.2', 'req-1');
    expect(up).toEqual({ siteId: 'dc1', action: 'upgrade', release: '2025.2', succeeded: true, hosts: [{ host: 'cmp-01', outcome: 'ok' }, { host: 'ctl-01', outcome: 'ok' }] });
    expect(runtime.ops.at(-1)?.inputs.files.find((f) => f.path === 'globals.yml')?.content).toContain('openstack_release: "2025.2"');
    expect((await ops.diffConfig('dc1')).diff).toBe('');
    // The release sticks for later reconfigures.
    await ops.reconfigure('dc1');
    expect(runtime.ops.at(-1)).toMatchObject({ action: 'reconfigure' });
    expect(runtime.ops.at(-1)?.inputs.files[0]?.content).toContain('openstack_release: "2025.2"');
  });

  it('Given a changed site (a new node) since the last apply, then DiffConfig shows the inventory and host_vars changes', async () => {
    await nodes.save({ host: host('cmp-02', ['compute']), state: 'failed', containers: [], lastFailure: undefined, addresses: [{ network: 'internal', address: '10.1.0.22' }] }, undefined, [], 'x');
    const d = await ops.diffConfig('dc1');
    expect(d.changedFiles).toEqual(['inventory/overcloud/host_vars/cmp-02', 'inventory/overcloud/hosts']);
    expect(d.diff).toContain('+++ generated/inventory/overcloud/hosts\n');
    expect(d.diff).toMatch(/^ cmp-01\n\+cmp-02$/m);
  });

  it('Given a host failing during reconfigure, then the result names it and the applied inputs stay as they were', async () => {
    const before = (await sites.get('dc1'))!.data.applied;
    runtime.failing = ['cmp-01'];
    await ops.upgrade('dc1', '2026.1');
    const r = await ops.reconfigure('dc1');
    expect(r.succeeded).toBe(false);
    expect(r.hosts[0]).toEqual({ host: 'cmp-01', outcome: 'failed', failure: { step: 'reconfigure', reason: 'KollaTaskFailed', message: 'cmp-01: failed in task "x": boom', retryable: false } });
    expect((await sites.get('dc1'))!.data.applied).toEqual(before);
    expect((await sites.get('dc1'))!.data.release).toBeNull();
    expect((await ops.diffConfig('dc1')).changedFiles).toEqual([]);
  });

  it('Given the same request_id twice, then the second call returns the first result without running again', async () => {
    const a = await ops.reconfigure('dc1', 'req-7');
    const b = await ops.reconfigure('dc1', 'req-7');
    expect(b).toEqual(a);
    expect(runtime.ops).toHaveLength(1);
  });

  it('Given destroy, then confirm must equal the site id (ValidationError naming confirm, nothing runs); with it the run is confirmed and nothing is applied after', async () => {
    for (const confirm of ['', 'DC1', 'yes']) {
      const e = await ops.destroy('dc1', confirm).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).field).toBe('confirm');
    }
    expect(runtime.ops).toEqual([]);
    const r = await ops.destroy('dc1', 'dc1');
    expect(r.succeeded).toBe(true);
    expect(runtime.ops[0]).toMatchObject({ action: 'destroy', confirm: true });
    expect((await sites.get('dc1'))!.data.applied).toBeNull();
    expect((await ops.diffConfig('dc1')).changedFiles).toHaveLength(4);
  });

  it('validates site_id and release, and reports an unknown site as NotFound', async () => {
    await expect(ops.diffConfig('')).rejects.toMatchObject({ field: 'site_id' });
    await expect(ops.reconfigure('Bad.Site')).rejects.toMatchObject({ field: 'site_id' });
    await expect(ops.upgrade('dc1', '')).rejects.toMatchObject({ field: 'release' });
    await expect(ops.upgrade('dc1', '../x')).rejects.toMatchObject({ field: 'release' });
    await expect(ops.diffConfig('nosuch')).rejects.toBeInstanceOf(NotFoundError);
    expect(runtime.ops).toEqual([]);
  });

  it('Given no internal VIP configured, then generating inputs fails naming kolla_internal_vip_address', async () => {
    const noVip = new SiteOperations(nodes, sites, runtime, { ...SETTINGS, internalVipAddress: undefined } as never);
    await expect(noVip.diffConfig('dc1')).rejects.toMatchObject({ field: 'kolla_internal_vip_address' });
  });
});
