import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '@stackyard/grpc';
import { LabHostPreparer, type RunningDeployment } from '@stackyard/deployment';
import type { LocalServer } from '@stackyard/devinfra';
import { NodeDeploymentState } from '@stackyard/proto/deployment/v1/deployment';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { connectBus, type Bus } from '@stackyard/nats';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';
import { countBySubject, drained } from './streams';

// Host preparation (deployment, between NetworkConfigured and the Kolla services) with the lab
// preparer: cmp-02's preparation fails its first attempt; the others go ready. An operator retry
// runs host preparation alone on cmp-02, then its services deploy, and it goes ready.
describe('host preparation in the saga: one node fails, is retried alone, goes ready', () => {
  let nats: LocalServer;
  let p: Platform;
  let bus: Bus;
  const site = 'hp';

  beforeAll(async () => {
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('hostprep'), {
      provisioning: { LAB_LATENCY_MS: '0' },
      deployment: { LAB_HOST_PREP_FAIL_HOSTS: 'cmp-02:1' },
    });
    await p.startAll();
    await p.defineSite(site);
    bus = await connectBus(nats.url, 'observer');
  });
  afterAll(async () => {
    await bus?.close();
    await p?.stopAll();
    await nats?.stop();
  });

  const progress = (hostId: string) => call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId }).then((r) => r.progress!);
  const deployment = (hostId: string) => call(p.clients.deployment, p.clients.deployment.getNodeDeployment, { hostId }).then((r) => r.deployment!);
  const until = (hostId: string, state: NodeState) =>
    eventually(async () => {
      const x = await progress(hostId);
      return x.state === state ? x : undefined;
    }, 30_000, `${hostId} ${NodeState[state]}`);

  it('prepares every host before its services (behind the quorum gate), records a failure with its step, and a retry runs host prep alone', async () => {
    await p.registerHost(site, 'ctl-01', ['controllers']);
    for (const c of ['cmp-01', 'cmp-02', 'cmp-03']) await p.registerHost(site, c);

    for (const h of ['ctl-01', 'cmp-01', 'cmp-03']) await until(`${site}-${h}`, NodeState.NODE_STATE_READY);
    const failed = await until(`${site}-cmp-02`, NodeState.NODE_STATE_FAILED);
    expect(failed.lastFailure).toEqual({ step: 'host-prep', reason: 'HostPrepFailed', message: 'lab: host preparation of cmp-02 fails by configuration', retryable: false });
    const dep = await deployment(`${site}-cmp-02`);
    expect(dep.state).toBe(NodeDeploymentState.NODE_DEPLOYMENT_STATE_FAILED);
    expect(dep.hostPrep).toBeUndefined();
    expect(dep.containers).toEqual([]);

    // The others' host prep is recorded, with /etc/hosts from the site's internal addresses.
    const ok = await deployment(`${site}-cmp-01`);
    expect(ok.state).toBe(NodeDeploymentState.NODE_DEPLOYMENT_STATE_DEPLOYED);
    expect(ok.hostPrep?.changed).toEqual(expect.arrayContaining(['create user kolla', 'file /etc/hosts', 'file /etc/docker/daemon.json']));
    expect(ok.hostPrep?.unchangedCount).toBe(0);

    const r = await call(p.clients.monitoring, p.clients.monitoring.retryNode, { hostId: `${site}-cmp-02`, requestedBy: 'alice' });
    expect(r.progress?.state).toBe(NodeState.NODE_STATE_IN_PROGRESS);
    const ready = await until(`${site}-cmp-02`, NodeState.NODE_STATE_READY);
    expect(ready.retries).toBe(1);
    expect(ready.lastFailure).toBeUndefined();
    const after = await deployment(`${site}-cmp-02`);
    expect(after.state).toBe(NodeDeploymentState.NODE_DEPLOYMENT_STATE_DEPLOYED);
    expect(after.hostPrep?.changed).toContain('file /etc/hosts');
    expect(after.containers.map((c) => c.name)).toContain('nova_compute');

    await eventually(() => drained(bus.jsm), 15_000, 'drained');
    const counts = await countBySubject(bus.jsm, `stackyard.${site}.*.*.${site}-cmp-02.*`);
    const s = (x: string) => `stackyard.${site}.${x.replace('{id}', `${site}-cmp-02`)}`;
    // Every earlier step's fact once; host prep failed once and succeeded once; one retry; services once.
    expect(counts).toMatchObject({
      [s('inventory.host.{id}.registered')]: 1,
      [s('provisioning.node.{id}.enrolled')]: 1,
      [s('provisioning.node.{id}.inspected')]: 1,
      [s('network.host.{id}.admin-address-allocated')]: 1,
      [s('provisioning.node.{id}.provisioned')]: 1,
      [s('network.host.{id}.configured')]: 1,
      [s('deployment.node.{id}.deploy-failed')]: 1,
      [s('monitoring.node.{id}.retry-requested')]: 1,
      [s('deployment.node.{id}.host-prepared')]: 1,
      [s('deployment.node.{id}.deployed')]: 1,
      [s('monitoring.node.{id}.ready')]: 1,
    });
    for (const h of ['ctl-01', 'cmp-01', 'cmp-03']) {
      const c = await countBySubject(bus.jsm, `stackyard.${site}.deployment.node.${site}-${h}.*`);
      expect(c[`stackyard.${site}.deployment.node.${site}-${h}.host-prepared`]).toBe(1);
      expect(c[`stackyard.${site}.deployment.node.${site}-${h}.deployed`]).toBe(1);
      expect(c[`stackyard.${site}.deployment.node.${site}-${h}.deploy-failed`]).toBeUndefined();
    }
  }, 90_000);

  // An imported Kayobe configuration (kayobe-config-dev plus host configure variables) drives host
  // preparation of its registered host: the lab preparer's state is what it applied.
  it('applies the host configuration of an imported kayobe-config: users, LVM, sysctl, chrony, swap, /etc/hosts, docker', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stackyard-hostprep-kayobe-'));
    try {
      await cp('/work/shared/reference/kayobe-configs/openstack+kayobe-config-dev/etc/kayobe', dir, { recursive: true });
      await writeFile(
        join(dir, 'host-configure.yml'),
        [
          'controller_users:',
          '  - {username: ops, password: not-carried, groups: [wheel], ssh_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0 ops@desk"}',
          'controller_lvm_group_data_enabled: true',
          'controller_lvm_group_data_disks: [/dev/sdb]',
          'controller_sysctl_parameters: {net.ipv4.ip_forward: 1}',
          'controller_swap: [{path: /swapfile, size_mb: 512}]',
          'chrony_ntp_servers: [{server: ntp.example.org, type: server, options: [{option: iburst}]}]',
          'docker_registry_mirrors: [https://mirror.example.org]',
          'custom_etc_hosts_entries: {registry.example.org: 192.168.33.250}',
          '',
        ].join('\n'),
      );
      const site = 'hpk';
      const importConfig = (dryRun: boolean) =>
        call(p.clients.inventory, p.clients.inventory.importKayobeConfig, { configPath: dir, environment: '', siteId: site, dryRun, requestId: '', registerHosts: true, registerGroups: [], bmcDriver: 'lab' }, { deadlineMs: 60_000 });
      const plan = await importConfig(true);
      await call(p.clients.inventory, p.clients.inventory.createSite, { id: site, displayName: site });
      for (const n of plan.networks) {
        await call(p.clients.network, p.clients.network.defineNetwork, {
          network: { siteId: site, name: n.name, cidr: n.cidr, gateway: n.gateway, allocationPoolStart: n.allocationPoolStart, allocationPoolEnd: n.allocationPoolEnd, vlan: n.vlan, mtu: n.mtu, groups: n.groups, interface: n.interface, version: 0 },
        } as never);
      }
      const r = await importConfig(false);
      const controller = r.hosts.find((h) => h.name === 'controller0');
      expect(controller?.registered).toBe(true);
      expect(controller?.host?.configuration?.sysctlParameters).toEqual([{ name: 'net.ipv4.ip_forward', value: '1' }]);
      // Host preparation done (HostPrepared recorded); the services step after it is not this test's.
      const dep = await eventually(async () => {
        const d = await deployment(`${site}-controller0`).catch(() => undefined);
        return d?.hostPrep ? d : undefined;
      }, 30_000, `${site}-controller0 host prepared`);

      const lab = (p.services.get('deployment') as RunningDeployment).hostPreparer;
      expect(lab).toBeInstanceOf(LabHostPreparer);
      const state = (lab as LabHostPreparer).stateOf('controller0');
      expect(state.users.map((u) => u.name).sort()).toEqual(['kolla', 'ops']);
      expect(state.users.find((u) => u.name === 'ops')?.groups).toEqual(['wheel']);
      expect(state.files['/home/ops/.ssh/authorized_keys']).toBe('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0 ops@desk\n');
      expect(state.volumeGroups).toEqual([{ name: 'data', disks: ['/dev/sdb'], logicalVolumes: ['docker-volumes'] }]);
      expect(state.mounts).toEqual(['/var/lib/docker/volumes']);
      expect(state.activeSwap).toEqual(['/swapfile']);
      expect(state.files['/etc/sysctl.d/50-kayobe.conf']).toContain('net.ipv4.ip_forward = 1\n');
      expect(state.files['/etc/chrony.conf']).toContain('server ntp.example.org iburst\n');
      // etc_hosts_network is internal_net_name (aio); network-allocation.yml gives controller0 .3.
      expect(state.files['/etc/hosts']).toBe('# BEGIN STACKYARD MANAGED BLOCK\n192.168.33.3 controller0\n192.168.33.250 registry.example.org\n# END STACKYARD MANAGED BLOCK\n');
      expect(JSON.parse(state.files['/etc/docker/daemon.json']!)).toEqual({ 'live-restore': false, 'registry-mirrors': ['https://mirror.example.org'], 'storage-driver': 'overlay2' });
      expect(state.packages).toEqual(['docker-ce', 'docker-ce-cli', 'containerd.io']);
      expect(JSON.stringify(state)).not.toContain('not-carried');
      expect(dep.hostPrep?.changed).toEqual(expect.arrayContaining(['create user ops', 'install docker-ce, docker-ce-cli, containerd.io', 'allocate swap file /swapfile', 'file /etc/yum.repos.d/docker-ce.repo']));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
