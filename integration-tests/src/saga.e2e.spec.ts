import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { call, FIELD_KEY, REASON_KEY } from '@stackyard/grpc';
import { connectBus, type Bus } from '@stackyard/nats';
import type { LocalServer } from '@stackyard/devinfra';
import { NodeState, StepState } from '@stackyard/proto/monitoring/v1/monitoring';
import { ProvisionState } from '@stackyard/proto/provisioning/v1/provisioning';
import { NodeDeploymentState } from '@stackyard/proto/deployment/v1/deployment';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';
import { countBySubject, drained, replay } from './streams';

// The whole choreography on real servers: a private nats-server (JetStream) and the run's FerretDB.
describe('node saga end to end (real NATS JetStream + MongoDB-wire server)', () => {
  let nats: LocalServer;
  let p: Platform;
  let bus: Bus;
  const site = 'e2e';

  const progress = (hostId: string) => call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId }).then((r) => r.progress!);
  const ready = (hostId: string) =>
    eventually(async () => {
      const pr = await progress(hostId);
      return pr.state === NodeState.NODE_STATE_READY ? pr : undefined;
    }, 30_000, `${hostId} ready`);

  beforeAll(async () => {
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('saga'), { provisioning: { LAB_LATENCY_MS: '10', LAB_FAIL_STEPS: 'bad-01:inspect' } });
    await p.startAll();
    await p.defineSite(site);
    bus = await connectBus(nats.url, 'e2e-observer');
  });
  afterAll(async () => {
    await bus?.close();
    await p?.stopAll();
    await nats?.stop();
  });

  it('takes one node from registered to ready through all five services, each fact published once', async () => {
    const { host } = await p.registerHost(site, 'cmp-01');
    expect(host?.id).toBe('e2e-cmp-01');
    const pr = await ready('e2e-cmp-01');
    expect(pr.steps.map((s) => [s.name, s.state])).toEqual(
      ['registered', 'enrolled', 'inspected', 'provisioned', 'network-configured', 'services-deployed', 'ready'].map((n) => [n, StepState.STEP_STATE_DONE]),
    );
    const times = pr.steps.map((s) => s.atMs);
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    const node = (await call(p.clients.provisioning, p.clients.provisioning.getNode, { hostId: 'e2e-cmp-01' })).node!;
    expect(node.state).toBe(ProvisionState.PROVISION_STATE_ACTIVE);
    expect(node.hardware?.cpuCount).toBe(64);
    expect(node.hardware?.nics.map((n) => n.name)).toEqual(['eno1', 'eno2']);

    const cfg = (await call(p.clients.network, p.clients.network.getHostNetworkConfig, { hostId: 'e2e-cmp-01' })).config!;
    // Networks are attached in name order.
    expect(cfg.allocations.map((a) => [a.network, a.address])).toEqual([
      ['internal', '10.1.0.10'],
      ['provision_oc', '10.0.0.10'],
    ]);
    expect(cfg.files.map((f) => f.path)).toEqual([
      '/etc/systemd/network/50-kayobe-eno1.network',
      '/etc/systemd/network/50-kayobe-eno2.network',
      '/etc/systemd/network/50-kayobe-eno2.101.netdev',
      '/etc/systemd/network/50-kayobe-eno2.101.network',
    ]);

    const dep = (await call(p.clients.deployment, p.clients.deployment.getNodeDeployment, { hostId: 'e2e-cmp-01' })).deployment!;
    expect(dep.state).toBe(NodeDeploymentState.NODE_DEPLOYMENT_STATE_DEPLOYED);
    expect(dep.containers.map((c) => c.name)).toContain('nova_compute');
    expect(dep.containers.every((c) => c.healthy)).toBe(true);

    const inv = await eventually(async () => {
      const h = (await call(p.clients.inventory, p.clients.inventory.getHost, { id: 'e2e-cmp-01' })).host!;
      return h.hardware ? h : undefined;
    }, 10_000, 'hardware recorded');
    expect(inv.hardware?.memoryMib).toBe(524_288);

    await eventually(() => drained(bus.jsm), 10_000, 'consumers drained');
    const counts = await countBySubject(bus.jsm, `stackyard.${site}.*.*.e2e-cmp-01.*`);
    expect(counts).toEqual({
      'stackyard.e2e.inventory.host.e2e-cmp-01.registered': 1,
      'stackyard.e2e.inventory.host.e2e-cmp-01.hardware-recorded': 1,
      'stackyard.e2e.provisioning.node.e2e-cmp-01.enrolled': 1,
      'stackyard.e2e.provisioning.node.e2e-cmp-01.inspected': 1,
      'stackyard.e2e.network.host.e2e-cmp-01.admin-address-allocated': 1,
      'stackyard.e2e.provisioning.node.e2e-cmp-01.provisioned': 1,
      'stackyard.e2e.network.host.e2e-cmp-01.configured': 1,
      'stackyard.e2e.deployment.node.e2e-cmp-01.host-prepared': 1,
      'stackyard.e2e.deployment.node.e2e-cmp-01.deployed': 1,
      'stackyard.e2e.monitoring.node.e2e-cmp-01.ready': 1,
      // inventory records the host READY (issue 3)
      'stackyard.e2e.inventory.host.e2e-cmp-01.updated': 1,
    });
    // One correlation id (the registration's ce-id) runs through the whole saga.
    const registered = await bus.jsm.streams.getMessage('STACKYARD_INVENTORY', { last_by_subj: 'stackyard.e2e.inventory.host.e2e-cmp-01.registered' });
    const readyMsg = await bus.jsm.streams.getMessage('STACKYARD_MONITORING', { last_by_subj: 'stackyard.e2e.monitoring.node.e2e-cmp-01.ready' });
    expect(readyMsg?.header.get('ce-correlationid')).toBe(registered?.header.get('ce-id'));
    expect(readyMsg?.header.get('ce-type')).toBe('stackyard.monitoring.v1.NodeReady');
  });

  it('serves Prometheus scrape targets for ready nodes and alert rules that promtool accepts', async () => {
    await ready('e2e-cmp-01');
    const base = `http://127.0.0.1:${p.services.get('monitoring')!.httpPort}`;
    const targets = (await (await fetch(`${base}/api/prometheus/targets?site=${site}`)).json()) as { targets: string[]; labels: Record<string, string> }[];
    expect(targets.filter((t) => t.labels['host'] === 'cmp-01')).toEqual([
      { targets: ['10.1.0.10:9100'], labels: { job: 'node', site: 'e2e', host: 'cmp-01', groups: 'compute' } },
      { targets: ['10.1.0.10:18080'], labels: { job: 'cadvisor', site: 'e2e', host: 'cmp-01', groups: 'compute' } },
    ]);
    expect((await fetch(`${base}/api/prometheus/targets`)).status).toBe(400);
    const dir = mkdtempSync(join(tmpdir(), 'stackyard-prom-'));
    writeFileSync(join(dir, 'targets.json'), JSON.stringify(targets));
    writeFileSync(join(dir, 'rules.yml'), await (await fetch(`${base}/api/prometheus/rules`)).text());
    writeFileSync(
      join(dir, 'prometheus.yml'),
      ['rule_files: [rules.yml]', 'scrape_configs:', '  - job_name: stackyard', '    file_sd_configs:', '      - files: [targets.json]', ''].join('\n'),
    );
    const promtool = (...args: string[]) => execFileSync('promtool', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(promtool('check', 'rules', 'rules.yml')).toMatch(/SUCCESS: 6 rules found/);
    expect(promtool('check', 'config', 'prometheus.yml')).toMatch(/SUCCESS/);
    // promtool really checks: a broken rule is rejected.
    writeFileSync(join(dir, 'bad.yml'), 'groups:\n  - name: x\n    rules:\n      - alert: Bad\n        expr: up{ ==\n');
    expect(() => promtool('check', 'rules', 'bad.yml')).toThrow();
  });

  it('gives an event delivered twice exactly one effect (redelivery past the dedup window)', async () => {
    await ready('e2e-cmp-01');
    const versions = async () => ({
      node: (await call(p.clients.provisioning, p.clients.provisioning.getNode, { hostId: 'e2e-cmp-01' })).node!.version,
      net: (await call(p.clients.network, p.clients.network.getHostNetworkConfig, { hostId: 'e2e-cmp-01' })).config!.version,
      dep: (await call(p.clients.deployment, p.clients.deployment.getNodeDeployment, { hostId: 'e2e-cmp-01' })).deployment!.version,
      mon: (await progress('e2e-cmp-01')).version,
    });
    const before = await versions();
    for (const ev of ['inventory.host.e2e-cmp-01.registered', 'provisioning.node.e2e-cmp-01.enrolled', 'provisioning.node.e2e-cmp-01.inspected', 'provisioning.node.e2e-cmp-01.provisioned', 'network.host.e2e-cmp-01.configured', 'deployment.node.e2e-cmp-01.deployed']) {
      await replay(bus.jsm, bus.js, `stackyard.${site}.${ev}`);
    }
    await eventually(() => drained(bus.jsm), 15_000, 'replays consumed');
    expect(await versions()).toEqual(before);
    const counts = await countBySubject(bus.jsm, `stackyard.${site}.*.*.e2e-cmp-01.*`);
    // The replayed facts are in the streams twice; nothing they would cause happened again.
    expect(counts['stackyard.e2e.provisioning.node.e2e-cmp-01.provisioned']).toBe(2);
    expect(counts['stackyard.e2e.inventory.host.e2e-cmp-01.hardware-recorded']).toBe(1);
    expect(counts['stackyard.e2e.monitoring.node.e2e-cmp-01.ready']).toBe(1);
    const cfg = (await call(p.clients.network, p.clients.network.getHostNetworkConfig, { hostId: 'e2e-cmp-01' })).config!;
    expect(cfg.allocations.map((a) => a.address)).toEqual(['10.1.0.10', '10.0.0.10']);
  });

  it('fails one node with a typed reason without blocking another', async () => {
    await p.registerHost(site, 'bad-01');
    await p.registerHost(site, 'cmp-02');
    const failed = await eventually(async () => {
      const pr = await progress('e2e-bad-01');
      return pr.state === NodeState.NODE_STATE_FAILED ? pr : undefined;
    }, 30_000, 'bad-01 failed');
    expect(failed.lastFailure).toMatchObject({ step: 'inspect', reason: 'BmcError', retryable: false });
    expect(failed.steps.find((s) => s.name === 'inspected')?.state).toBe(StepState.STEP_STATE_FAILED);
    const node = (await call(p.clients.provisioning, p.clients.provisioning.getNode, { hostId: 'e2e-bad-01' })).node!;
    expect(node.state).toBe(ProvisionState.PROVISION_STATE_INSPECT_FAILED);
    await ready('e2e-cmp-02');
    // cmp-02 got the next free addresses; the failed node holds none in the network service.
    const cfg = (await call(p.clients.network, p.clients.network.getHostNetworkConfig, { hostId: 'e2e-cmp-02' })).config!;
    expect(cfg.allocations.map((a) => a.address)).toEqual(['10.1.0.11', '10.0.0.11']);
  });

  it('rejects bad input with INVALID_ARGUMENT naming the field, and persists and publishes nothing', async () => {
    const expectInvalid = async (p0: Promise<unknown>, field: string) => {
      const err = (await p0.then(() => undefined, (e: unknown) => e)) as { code: number; metadata: { get(k: string): unknown[] } } | undefined;
      expect(err, `expected INVALID_ARGUMENT on ${field}`).toBeDefined();
      expect(err!.code).toBe(status.INVALID_ARGUMENT);
      expect(err!.metadata.get(FIELD_KEY)).toEqual([field]);
      expect(err!.metadata.get(REASON_KEY)).toEqual(['InvalidArgument']);
    };
    const c = p.clients;
    const reg = (over: Record<string, unknown>) =>
      call(c.inventory, c.inventory.registerHost, {
        siteId: site,
        name: 'ok-name',
        groups: ['compute'],
        bmc: { address: '10.0.0.1', driver: 'lab', credentialRef: '' },
        labels: {},
        hardwareProfile: '',
        requestId: 'x',
        ...over,
      });
    await expectInvalid(reg({ name: 'Bad_Name!' }), 'name');
    await expectInvalid(reg({ name: 'no-groups', groups: [] }), 'groups');
    await expectInvalid(reg({ name: 'bad-group', groups: ['compute', 'a.b'] }), 'groups[1]');
    await expectInvalid(reg({ name: 'no-bmc', bmc: undefined }), 'bmc');
    await expectInvalid(reg({ name: 'bad-driver', bmc: { address: '10.0.0.1', driver: 'ipmi-magic', credentialRef: '' } }), 'bmc.driver');
    await expectInvalid(reg({ name: 'clear-secret', bmc: { address: '10.0.0.1', driver: 'lab', credentialRef: 'password:hunter2' } }), 'bmc.credential_ref');
    await expectInvalid(reg({ siteId: 'nosuchsite', name: 'orphan' }), 'site_id');
    const hosts = (await call(c.inventory, c.inventory.listHosts, { siteId: site, group: '', pageSize: 0, pageToken: '' })).hosts.map((h) => h.name);
    expect(hosts.sort()).toEqual(['bad-01', 'cmp-01', 'cmp-02']);
    const counts = await countBySubject(bus.jsm, 'stackyard.*.inventory.host.*.registered');
    expect(Object.keys(counts).some((s) => /bad-name|no-groups|bad-group|no-bmc|bad-driver|clear-secret|orphan/.test(s))).toBe(false);

    const net = (over: Record<string, unknown>) =>
      call(c.network, c.network.defineNetwork, {
        network: { siteId: site, name: 'storage', cidr: '10.5.0.0/24', gateway: '', allocationPoolStart: '', allocationPoolEnd: '', vlan: 0, mtu: 0, groups: ['compute'], interface: '', version: 0, ...over },
      });
    await expectInvalid(net({ cidr: '10.5.0.1/24' }), 'network.cidr');
    await expectInvalid(net({ allocationPoolStart: '10.6.0.10', allocationPoolEnd: '10.5.0.20' }), 'network.allocation_pool_start');
    await expectInvalid(net({ gateway: '10.5.0.15', allocationPoolStart: '10.5.0.10', allocationPoolEnd: '10.5.0.20' }), 'network.gateway');
    await expectInvalid(net({ vlan: 5000 }), 'network.vlan');
    await expectInvalid(net({ interface: 'a-very-long-interface-name' }), 'network.interface');
    await expectInvalid(net({ groups: ['Not A Group'] }), 'network.groups[0]');
    const missing = await call(c.network, c.network.getNetwork, { siteId: site, name: 'storage' }).catch((e: { code: number }) => e);
    expect((missing as { code: number }).code).toBe(status.NOT_FOUND);

    const dup = await reg({ name: 'cmp-01', groups: ['controllers'] }).catch((e: { code: number }) => e);
    expect((dup as { code: number }).code).toBe(status.ALREADY_EXISTS);
  });
});
