import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '@stackyard/grpc';
import { IRONIC_APT_PACKAGES, ironicInstalled, startIronic, type IronicServer, type LocalServer } from '@stackyard/devinfra';
import { ironicNodeUuid, newKey, parseKey, seal, startLabRedfish, type LabRedfish } from '@stackyard/provisioning';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { ProvisionState } from '@stackyard/proto/provisioning/v1/provisioning';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';

// The whole saga through the real bare-metal drivers: Debian's Ironic (fake-hardware) and the lab
// Redfish BMC (HTTP, sessions, virtual media), with faults, retry and abort.

async function settled(p: Platform, site: string, n: number, timeoutMs = 90_000) {
  return eventually(async () => {
    const nodes = (await call(p.clients.monitoring, p.clients.monitoring.listNodeProgress, { siteId: site })).nodes;
    return nodes.length === n && nodes.every((x) => x.state !== NodeState.NODE_STATE_IN_PROGRESS) ? nodes : undefined;
  }, timeoutMs, `${n} nodes of ${site} settled`);
}

describe.skipIf(!ironicInstalled())(`the saga through real Ironic (needs: apt-get install ${IRONIC_APT_PACKAGES})`, () => {
  let nats: LocalServer;
  let ironic: IronicServer;
  let p: Platform;
  const N = 12;

  beforeAll(async () => {
    [nats, ironic] = await Promise.all([privateNats(), startIronic()]);
    p = new Platform(nats.url, uniquePrefix('irn'), {
      provisioning: { IRONIC_URL: ironic.url, IRONIC_HARDWARE_TYPE: 'fake-hardware', IRONIC_POLL_INTERVAL_MS: '200', MAX_IN_FLIGHT_PER_BMC: '64', PROVISION_IMAGE_BASE_URL: 'http://images.lab.example/os' },
    });
    await p.startAll();
    await p.defineSite('ir');
  }, 120_000);
  afterAll(async () => {
    await p?.stopAll();
    await Promise.all([nats?.stop(), ironic?.stop()]);
  });

  const ironicNode = async (name: string) => {
    const r = await fetch(`${ironic.url}/v1/nodes/${name}`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.56' } });
    return (await r.json()) as { provision_state: string; power_state: string; instance_info: Record<string, unknown>; driver: string };
  };

  /**
   * Ironic already knows the servers and their NICs, as Bifrost does from Kayobe's servers.yml
   * (fake-hardware inspection finds nothing by itself): nodes with properties and two ports each.
   */
  async function preEnroll(name: string, i: number) {
    const api = (method: string, path: string, body: unknown) =>
      fetch(`${ironic.url}/v1${path}`, { method, headers: { 'content-type': 'application/json', 'X-OpenStack-Ironic-API-Version': '1.56' }, body: JSON.stringify(body) }).then(async (r) => {
        if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
        return (await r.json()) as { uuid: string };
      });
    const node = await api('POST', '/nodes', { uuid: ironicNodeUuid(`ir-${name}`), name, driver: 'fake-hardware', properties: { cpus: 64, memory_mb: 524288, local_gb: 1800, cpu_arch: 'x86_64' } });
    for (const nic of [0, 1]) {
      const mac = `52:54:00:aa:${i.toString(16).padStart(2, '0')}:0${nic}`;
      await api('POST', '/ports', { node_uuid: node.uuid, address: mac, extra: { nic_name: `eno${nic + 1}` }, local_link_connection: { switch_info: `ir-tor-${nic + 1}`, port_id: `Ethernet${i + 1}`, switch_id: `00:00:00:00:00:0${nic + 1}` } });
    }
  }

  it(`takes ${N} hosts from registered to ready, each one an active node in Ironic`, async () => {
    for (let i = 0; i < N; i++) await preEnroll(`cmp-${String(i + 1).padStart(2, '0')}`, i);
    const started = Date.now();
    await Promise.all(Array.from({ length: N }, (_, i) => p.registerHost('ir', `cmp-${String(i + 1).padStart(2, '0')}`, ['compute'], { address: '10.9.0.1', driver: 'ironic', credentialRef: '' })));
    const nodes = await settled(p, 'ir', N);
    console.log(`ironic saga: ${N} nodes ready in ${Date.now() - started} ms`);
    expect(nodes.map((x) => NodeState[x.state]), JSON.stringify(nodes.map((x) => x.lastFailure))).toEqual(Array(N).fill('NODE_STATE_READY'));
    for (const x of nodes) {
      const n = await ironicNode(x.host!.name);
      expect(n).toMatchObject({ provision_state: 'active', driver: 'fake-hardware' });
      expect(n.instance_info['image_source']).toBe('http://images.lab.example/os/deployment_image.qcow2');
      const ours = (await call(p.clients.provisioning, p.clients.provisioning.getNode, { hostId: x.host!.hostId })).node!;
      expect(ours.state).toBe(ProvisionState.PROVISION_STATE_ACTIVE);
      expect(ours.hardware).toMatchObject({ cpuCount: 64, memoryMib: 524288 });
      expect(ours.hardware?.nics.map((n) => n.name)).toEqual(['eno1', 'eno2']);
      expect(ours.hardware?.nics[1]).toMatchObject({ lldpSwitch: 'ir-tor-2' });
    }
  });

  it('undeploys through Ironic on request, and aborting leaves the Ironic node available and powered off', async () => {
    await call(p.clients.provisioning, p.clients.provisioning.nodeAction, { hostId: 'ir-cmp-01', action: 'power off' });
    await eventually(async () => ((await ironicNode('cmp-01')).power_state === 'power off' ? true : undefined), 20_000, 'cmp-01 off in Ironic');

    await call(p.clients.monitoring, p.clients.monitoring.abortNode, { hostId: 'ir-cmp-02', requestedBy: 'test' });
    await eventually(async () => {
      const x = (await call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId: 'ir-cmp-02' })).progress!;
      return x.state === NodeState.NODE_STATE_ABORTED ? x : undefined;
    }, 30_000, 'ir-cmp-02 aborted');
    expect(await ironicNode('cmp-02')).toMatchObject({ provision_state: 'available', power_state: 'power off' });
  });
});

describe('the saga through the redfish driver and the lab Redfish BMC', () => {
  let nats: LocalServer;
  let bmc: LabRedfish;
  let p: Platform;
  let dir: string;
  const hosts = ['ctl-01', 'cmp-01', 'cmp-02', 'cmp-03'];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rf-e2e-'));
    const key = newKey();
    writeFileSync(join(dir, 'key'), key, { mode: 0o600 });
    writeFileSync(join(dir, 'bmc.yaml'), `lab:redfish: { username: admin, password: "${seal('Redf1sh!', parseKey(key))}" }\n`, { mode: 0o600 });
    chmodSync(join(dir, 'bmc.yaml'), 0o600);
    bmc = await startLabRedfish({
      username: 'admin',
      password: 'Redf1sh!',
      installMs: 200,
      systems: hosts.map((h) => ({ id: h, hostName: h, profile: h.startsWith('ctl') ? 'controller-std' : 'compute-std', siteId: 'rf', powerState: 'Off' as const })),
      faults: { 'cmp-03': { installFails: true } },
    });
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('rfs'), {
      provisioning: {
        REDFISH_SCHEME: 'http',
        REDFISH_POLL_INTERVAL_MS: '50',
        BMC_CREDENTIALS_FILE: join(dir, 'bmc.yaml'),
        BMC_CREDENTIALS_KEY_FILE: join(dir, 'key'),
        DEPLOY_TIMEOUT_MS: '3000',
      },
    });
    await p.startAll();
    await p.defineSite('rf');
  });
  afterAll(async () => {
    await p?.stopAll();
    await Promise.all([nats?.stop(), bmc?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys every healthy system over Redfish, and a failing install ends deploy failed with the reason', async () => {
    for (const h of hosts) await p.registerHost('rf', h, h.startsWith('ctl') ? ['controllers'] : ['compute'], { address: bmc.address, driver: 'redfish', credentialRef: 'lab:redfish' });
    const nodes = await settled(p, 'rf', hosts.length);
    const state = Object.fromEntries(nodes.map((x) => [x.host!.name, NodeState[x.state]]));
    expect(state).toEqual({ 'ctl-01': 'NODE_STATE_READY', 'cmp-01': 'NODE_STATE_READY', 'cmp-02': 'NODE_STATE_READY', 'cmp-03': 'NODE_STATE_FAILED' });
    for (const h of ['ctl-01', 'cmp-01', 'cmp-02']) expect(bmc.system(h)).toMatchObject({ powerState: 'On', lastState: 'OSRunning', installedImage: expect.stringContaining('deployment_image.qcow2') });
    const failed = (await call(p.clients.provisioning, p.clients.provisioning.getNode, { hostId: 'rf-cmp-03' })).node!;
    expect(failed.state).toBe(ProvisionState.PROVISION_STATE_DEPLOY_FAILED);
    expect(failed.lastFailure).toMatchObject({ step: 'deploy', retryable: false });
    expect(failed.lastFailure?.reason).toMatch(/^Deploy(Failed|Timeout)$/);
    expect(JSON.stringify(failed)).not.toContain('Redf1sh!');
    expect(bmc.stats().activeSessions).toBe(0);
  });

  it('after the fault is fixed, an operator retry deploys the node and it becomes ready', async () => {
    bmc.setFaults('cmp-03', {});
    await call(p.clients.monitoring, p.clients.monitoring.retryNode, { hostId: 'rf-cmp-03', requestedBy: 'test' });
    await eventually(async () => {
      const x = (await call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId: 'rf-cmp-03' })).progress!;
      return x.state === NodeState.NODE_STATE_READY ? x : undefined;
    }, 30_000, 'rf-cmp-03 ready after retry');
    expect(bmc.system('cmp-03')).toMatchObject({ powerState: 'On', lastState: 'OSRunning' });
  });
});
