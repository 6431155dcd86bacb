import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, IRONIC_APT_PACKAGES, ironicInstalled, startIronic, type IronicServer } from '@stackyard/devinfra';
import { StepFailedError } from '@stackyard/errors';
import type { BmcCredentials, ConfigDriveNetwork, DriverCall } from '../../application/ports';
import type { NodeData } from '../../domain/node';
import { networkData } from './config-drive';
import { IronicDriver, ironicUuid, type IronicDriverOptions } from './ironic-driver';

// Every test here drives Debian's real Ironic (ironic-api + ironic-conductor, started by
// startIronic on a private SQLite database) through the driver, with fake-hardware nodes (whose
// power, inspect and deploy interfaces succeed at once) and redfish nodes with BMCs that do not
// answer. Polling every 200 ms instead of Kayobe's 10 s.
const HAVE_IRONIC = ironicInstalled();
const NO_IRONIC = `Ironic is not installed; apt-get install -y ${IRONIC_APT_PACKAGES}`;
const POLL = { pollIntervalMs: 200, lockedRetryIntervalMs: 200 } as const;

let ironic: IronicServer;
const site = `it${Date.now().toString(36)}`;

function node(name: string, extra: Partial<NodeData> = {}): NodeData {
  return {
    host: { hostId: `${site}-${name}`, siteId: site, name: `${site}-${name}`, groups: ['compute'] },
    state: 'enroll',
    driver: 'ironic',
    bmcAddress: '10.9.0.11',
    hardwareProfile: 'compute-std',
    hardware: undefined,
    lastFailure: undefined,
    steps: [],
    ...extra,
  };
}

function call(opts: { signal?: AbortSignal; credentials?: BmcCredentials } = {}): DriverCall {
  return { credentials: opts.credentials, signal: opts.signal ?? new AbortController().signal };
}

function driver(opts: Partial<IronicDriverOptions> = {}): IronicDriver {
  return new IronicDriver({ url: ironic.url, ...POLL, ...opts });
}

/** Reads Ironic directly, not through the driver. */
async function api<T = Record<string, unknown>>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`${ironic.url}/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { 'X-OpenStack-Ironic-API-Version': '1.81', 'Content-Type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

const ironicNode = (n: NodeData) => api<Record<string, unknown> & { provision_state: string; power_state: string | null }>(`/nodes/${ironicUuid(n)}`);

async function failure(p: Promise<unknown>): Promise<StepFailedError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected the call to fail').toBeInstanceOf(StepFailedError);
  return e as StepFailedError;
}

/** What inspection records on real hardware and fake-hardware's inspect does not: properties and ports. */
async function recordHardware(n: NodeData, macs: string[]): Promise<void> {
  await api(`/nodes/${ironicUuid(n)}`, {
    method: 'PATCH',
    body: [
      { op: 'add', path: '/properties/cpus', value: 32 },
      { op: 'add', path: '/properties/memory_mb', value: 262144 },
      { op: 'add', path: '/properties/local_gb', value: 480 },
      { op: 'add', path: '/properties/cpu_arch', value: 'x86_64' },
    ],
  });
  for (const [i, mac] of macs.entries()) {
    await api('/ports', {
      method: 'POST',
      body: { node_uuid: ironicUuid(n), address: mac, local_link_connection: { switch_id: '00:1c:73:00:00:01', switch_info: 'tor-a', port_id: `Ethernet1/${i + 1}` } },
    });
  }
}

/** A BMC address that accepts TCP connections and never answers: Ironic's verification hangs on it. */
async function silentBmc(): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    address: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => r());
      }),
  };
}

const NETWORK: ConfigDriveNetwork = {
  macAddress: '52:54:00:AA:00:01',
  address: '10.1.0.11',
  prefixLength: 24,
  gateway: '10.1.0.1',
  mtu: 9000,
  vlan: 101,
  nameservers: ['10.1.0.2', '10.1.0.3'],
};
const IMAGE = 'http://images.example/deployment_image.qcow2';

describe.skipIf(!HAVE_IRONIC)(`IronicDriver against Debian's Ironic (${HAVE_IRONIC ? 'ironic-api and ironic-conductor found' : NO_IRONIC})`, () => {
  beforeAll(async () => {
    ironic = await startIronic({ showInstanceSecrets: true });
    console.log(`[ironic] started (dbsync + conductor + api, live conductor listed) in ${ironic.startMs} ms at ${ironic.url}`);
  }, 120_000);
  afterAll(async () => {
    const log = join(ironic?.dataDir ?? '', 'ironic-api.log');
    if (existsSync(log)) {
      const statuses = [...readFileSync(log, 'utf8').matchAll(/ status: (\d{3}) /g)].map((m) => m[1]);
      console.log(`[ironic] API answered ${statuses.length} requests: ${statuses.filter((x) => x === '409').length} x 409 (locked/conflict), ${statuses.filter((x) => x?.startsWith('5')).length} x 5xx`);
    }
    await ironic?.stop();
  });

  it('IRN-01 Given the started Ironic, then it lists one live conductor with the fake-hardware, redfish and ipmi hardware types', async () => {
    const c = await api<{ conductors: { hostname: string; alive: boolean }[] }>('/conductors');
    expect(c.conductors).toEqual([expect.objectContaining({ hostname: ironic.conductorHost, alive: true })]);
    const d = await api<{ drivers: { name: string }[] }>('/drivers');
    expect(d.drivers.map((x) => x.name).sort()).toEqual(['fake-hardware', 'ipmi', 'redfish']);
    expect(await driver().client.version()).toBe('1.81');
  });

  it('IRN-02 Given one node, when it goes enroll -> inspect -> deploy with network data -> power off/on/reboot -> deprovision, then Ironic shows each state', async () => {
    const d = driver();
    const n = node('life-01');
    const c = call();

    await d.enroll(n, c);
    let got = await ironicNode(n);
    expect(got).toMatchObject({ uuid: ironicUuid(n), name: n.host.name, driver: 'fake-hardware', provision_state: 'manageable', last_error: null });
    expect(got['extra']).toEqual({ stackyard_host_id: n.host.hostId, stackyard_site_id: site, bmc_address: '10.9.0.11' });

    await recordHardware(n, ['52:54:00:aa:00:02', '52:54:00:AA:00:01']);
    const facts = await d.inspect(n, c);
    expect((await ironicNode(n)).provision_state).toBe('manageable');
    expect(facts).toEqual({
      cpuCount: 32,
      cpuModel: 'x86_64',
      memoryMib: 262144,
      disks: [{ name: 'root', sizeGib: 480, rotational: false }],
      nics: [
        { name: 'nic0', macAddress: '52:54:00:aa:00:01', speedMbps: 0, lldpSwitch: 'tor-a', lldpPort: 'Ethernet1/2' },
        { name: 'nic1', macAddress: '52:54:00:aa:00:02', speedMbps: 0, lldpSwitch: 'tor-a', lldpPort: 'Ethernet1/1' },
      ],
    });

    await d.deploy(n, { image: IMAGE, network: NETWORK }, c);
    got = await ironicNode(n);
    expect(got.provision_state).toBe('active');
    const info = got['instance_info'] as { image_source: string; configdrive: { meta_data: Record<string, string>; network_data: unknown } };
    expect(info.image_source).toBe(IMAGE);
    expect(info.configdrive.meta_data).toEqual({ hostname: n.host.name, name: n.host.name });
    expect(info.configdrive.network_data).toEqual(networkData(NETWORK));
    expect(info.configdrive.network_data).toEqual({
      links: [
        { id: 'port0', type: 'phy', ethernet_mac_address: '52:54:00:aa:00:01', mtu: 9000 },
        { id: 'vlan101', type: 'vlan', vlan_link: 'port0', vlan_id: 101, vlan_mac_address: '52:54:00:aa:00:01', mtu: 9000 },
      ],
      networks: [
        {
          id: 'network0',
          type: 'ipv4',
          link: 'vlan101',
          ip_address: '10.1.0.11',
          netmask: '255.255.255.0',
          routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '10.1.0.1' }],
          network_id: 'network0',
        },
      ],
      services: [
        { type: 'dns', address: '10.1.0.2' },
        { type: 'dns', address: '10.1.0.3' },
      ],
    });

    await d.power(n, 'off', c);
    expect(await d.powerState(n, c)).toBe('off');
    expect((await ironicNode(n)).power_state).toBe('power off');
    await d.power(n, 'on', c);
    expect(await d.powerState(n, c)).toBe('on');
    await d.power(n, 'reboot', c);
    expect((await ironicNode(n)).power_state).toBe('power on');

    await d.deprovision(n, c);
    got = await ironicNode(n);
    expect(got).toMatchObject({ provision_state: 'available', power_state: 'power off', last_error: null });
    expect(await d.powerState(n, c)).toBe('off');
  });

  it('IRN-03 Given every call made twice (and two enrolments at once), then the second is a no-op and the node ends where one call leaves it', async () => {
    const d = driver();
    const n = node('twice-01');
    const c = call();
    await Promise.all([d.enroll(n, c), d.enroll(n, c)]);
    await d.enroll(n, c);
    expect((await ironicNode(n)).provision_state).toBe('manageable');
    const nodes = await api<{ nodes: { name: string }[] }>(`/nodes?fields=name`);
    expect(nodes.nodes.filter((x) => x.name === n.host.name)).toHaveLength(1);

    const f1 = await d.inspect(n, c);
    const f2 = await d.inspect(n, c);
    expect(f2).toEqual(f1);

    await d.deploy(n, { image: IMAGE }, c);
    const first = await ironicNode(n);
    await d.deploy(n, { image: IMAGE }, c);
    const second = await ironicNode(n);
    expect(second.provision_state).toBe('active');
    expect(second['provision_updated_at']).toBe(first['provision_updated_at']);
    // Without network data the config drive still names the host.
    expect((second['instance_info'] as { configdrive: unknown }).configdrive).toEqual({ meta_data: { hostname: n.host.name, name: n.host.name } });
    // Enrolment of a node already deployed changes nothing either.
    await d.enroll(n, c);
    expect((await ironicNode(n)).provision_state).toBe('active');

    await d.power(n, 'off', c);
    await d.power(n, 'off', c);
    await d.deprovision(n, c);
    await d.deprovision(n, c);
    expect(await ironicNode(n)).toMatchObject({ provision_state: 'available', power_state: 'power off' });

    // A node Ironic never heard of: deprovision is fine, power state unknown.
    const ghost = node('ghost-01');
    await d.deprovision(ghost, c);
    expect(await d.powerState(ghost, c)).toBe('unknown');
  });

  it('IRN-04 Given 25 nodes at once, when each is enrolled, inspected and deployed concurrently, then all are active; and all deprovision concurrently', async () => {
    const d = driver();
    const nodes = Array.from({ length: 25 }, (_, i) => node(`many-${String(i + 1).padStart(2, '0')}`));
    const t0 = Date.now();
    await Promise.all(
      nodes.map(async (n, i) => {
        const c = call();
        await d.enroll(n, c);
        await d.inspect(n, c);
        const mac = `52:54:00:bb:00:${(i + 1).toString(16).padStart(2, '0')}`;
        await d.deploy(n, { image: IMAGE, network: { ...NETWORK, macAddress: mac, address: `10.1.1.${i + 10}` } }, c);
      }),
    );
    const upMs = Date.now() - t0;
    const states = await Promise.all(nodes.map(async (n) => (await ironicNode(n)).provision_state));
    expect(states).toEqual(nodes.map(() => 'active'));
    const t1 = Date.now();
    await Promise.all(nodes.map((n) => d.deprovision(n, call())));
    const downMs = Date.now() - t1;
    const after = await Promise.all(nodes.map(async (n) => ironicNode(n)));
    expect(after.map((x) => [x.provision_state, x.power_state])).toEqual(nodes.map(() => ['available', 'power off']));
    console.log(`[ironic] 25 nodes enroll+inspect+deploy concurrently: ${upMs} ms; deprovision: ${downMs} ms (poll 200 ms)`);
  }, 180_000);

  it('IRN-05 Given a redfish node whose BMC refuses connections, then enroll fails for good with BmcVerifyFailed and Ironic\'s last_error, never the password', async () => {
    const closed = await freePort();
    const d = driver({ hardwareType: 'redfish', verifyCa: false });
    const n = node('bmc-down-01', { bmcAddress: `http://127.0.0.1:${closed}/redfish/v1/Systems/1` });
    const c = call({ credentials: { username: 'admin', password: 'S3cret-pw!' } });
    const e = await failure(d.enroll(n, c));
    expect(e.reason).toBe('BmcVerifyFailed');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain(n.host.name);
    expect(e.message).toMatch(/Redfish connection failed .*Unable to connect to http:\/\/127\.0\.0\.1:\d+\/redfish\/v1/);
    expect(e.message).not.toContain('S3cret-pw!');
    const got = await ironicNode(n);
    expect(got.provision_state).toBe('enroll');
    expect(got['driver_info']).toEqual({
      redfish_address: `http://127.0.0.1:${closed}`,
      redfish_system_id: '/redfish/v1/Systems/1',
      redfish_username: 'admin',
      redfish_password: '******',
      redfish_verify_ca: false,
    });
    // Inspection manages first, and fails the same way; deprovision of a node never verified is fine.
    expect((await failure(d.inspect(n, c))).reason).toBe('BmcVerifyFailed');
    await d.deprovision(n, c);
    expect((await ironicNode(n)).provision_state).toBe('enroll');

    // Enrolled again with a corrected BMC address: the node exists, so its driver_info is replaced
    // before manage is retried.
    const moved = await freePort();
    const again = { ...n, bmcAddress: `http://127.0.0.1:${moved}/redfish/v1/Systems/1` };
    expect((await failure(d.enroll(again, c))).reason).toBe('BmcVerifyFailed');
    expect((await ironicNode(n))['driver_info']).toMatchObject({ redfish_address: `http://127.0.0.1:${moved}` });

    // No credential reference: said plainly (Ironic itself would fail with "'NoneType' object has no attribute 'encode'").
    const e2 = await failure(d.enroll(node('bmc-nocreds-01', { bmcAddress: `http://127.0.0.1:${closed}` }), call()));
    expect([e2.reason, e2.retryable]).toEqual(['BmcCredentialsMissing', false]);
  });

  it('IRN-06 Given steps from the wrong state, a bad name, a name taken by another host, or no Ironic at the URL, then the errors are typed', async () => {
    const d = driver();
    const c = call();
    const unknown = node('never-enrolled');
    let e = await failure(d.deploy(unknown, { image: IMAGE }, c));
    expect([e.reason, e.retryable]).toEqual(['NodeNotEnrolled', false]);
    expect(e.message).toContain(unknown.host.name);

    const active = node('wrong-state-01');
    await d.enroll(active, c);
    await d.deploy(active, { image: IMAGE }, c);
    e = await failure(d.inspect(active, c));
    expect([e.reason, e.retryable]).toEqual(['InvalidState', false]);
    expect(e.message).toContain('"active"');

    // Ironic's own 400, with its faultstring.
    const bad = node('x', { host: { hostId: `${site}-bad`, siteId: site, name: 'bad name!', groups: [] } });
    e = await failure(d.enroll(bad, c));
    expect([e.reason, e.retryable]).toEqual(['IronicRejected', false]);
    expect(e.message).toMatch(/HTTP 400: .*bad name!/);

    const taken = node('x', { host: { hostId: `${site}-other-host`, siteId: site, name: active.host.name, groups: [] } });
    e = await failure(d.enroll(taken, c));
    expect([e.reason, e.retryable]).toEqual(['NodeNameConflict', false]);
    expect(e.message).toContain(`for another host (${ironicUuid(active)})`);

    const port = await freePort();
    const nowhere = new IronicDriver({ url: `http://127.0.0.1:${port}`, ...POLL });
    e = await failure(nowhere.enroll(node('nowhere-01'), c));
    expect([e.reason, e.retryable]).toEqual(['IronicUnavailable', true]);
    expect(e.message).toContain(`http://127.0.0.1:${port}`);
  });

  it('IRN-07 Given a BMC that never answers (node stuck verifying), then an aborted signal and an elapsed timeout both give a retryable Timeout', async () => {
    const bmc = await silentBmc();
    try {
      const d = driver({ hardwareType: 'redfish' });
      const n = node('bmc-silent-01', { bmcAddress: bmc.address });
      const ac = new AbortController();
      const started = Date.now();
      setTimeout(() => ac.abort(), 800);
      const creds = { username: 'admin', password: 'pw' };
      let e = await failure(d.enroll(n, call({ signal: ac.signal, credentials: creds })));
      expect([e.reason, e.retryable]).toEqual(['Timeout', true]);
      expect(Date.now() - started).toBeLessThan(3000);
      expect((await ironicNode(n)).provision_state).toBe('verifying');

      e = await failure(driver({ hardwareType: 'redfish', timeouts: { manageableMs: 500 } }).enroll(n, call({ credentials: creds })));
      expect([e.reason, e.retryable]).toEqual(['Timeout', true]);
      expect(e.message).toMatch(/BMC verification still "verifying" after/);

      const pre = new AbortController();
      pre.abort();
      e = await failure(d.powerState(n, call({ signal: pre.signal })));
      expect([e.reason, e.retryable]).toEqual(['Timeout', true]);
    } finally {
      await bmc.close();
    }
  });

  it('IRN-08 Given an inspection inventory stored in Ironic (API 1.81), then the facts come from it: CPU model, disks, NICs with LLDP', async () => {
    const d = driver();
    const n = node('inventory-01');
    await d.enroll(n, call());
    const inventory = {
      cpu: { count: 64, model_name: 'AMD EPYC 7543', architecture: 'x86_64' },
      memory: { total: 549_755_813_888, physical_mb: 524_288 },
      disks: [
        { name: '/dev/nvme0n1', size: 1_920_383_410_176, rotational: false },
        { name: '/dev/sda', size: 16_000_900_661_248, rotational: true },
      ],
      interfaces: [{ name: 'eno1', mac_address: '52:54:00:CC:00:01', speed_mbps: 25000 }],
    };
    const pluginData = { all_interfaces: { eno1: { lldp_processed: { switch_system_name: 'tor-b', switch_port_id: 'Ethernet7' } } } };
    // Stored the way ironic-inspector's data store does, in the node_inventory table.
    const py = `import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("INSERT INTO node_inventory (created_at, version, inventory_data, plugin_data, node_id) SELECT datetime('now'), '1.0', ?, ?, id FROM nodes WHERE uuid = ?", (sys.argv[2], sys.argv[3], sys.argv[4]))
c.commit()`;
    const r = spawnSync('python3', ['-c', py, join(ironic.dataDir, 'ironic.sqlite'), JSON.stringify(inventory), JSON.stringify(pluginData), ironicUuid(n)], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const facts = await d.inspect(n, call());
    expect(facts).toEqual({
      cpuCount: 64,
      cpuModel: 'AMD EPYC 7543',
      memoryMib: 524_288,
      disks: [
        { name: 'nvme0n1', sizeGib: 1788, rotational: false },
        { name: 'sda', sizeGib: 14902, rotational: true },
      ],
      nics: [{ name: 'eno1', macAddress: '52:54:00:cc:00:01', speedMbps: 25000, lldpSwitch: 'tor-b', lldpPort: 'Ethernet7' }],
    });
  });

  it('IRN-09 Given a host id that is a UUID, then the Ironic node has that UUID', async () => {
    const id = randomUUID();
    const n = node('uuid-01', { host: { hostId: id, siteId: site, name: `${site}-uuid-01`, groups: [] } });
    await driver().enroll(n, call());
    expect((await ironicNode(n))['uuid']).toBe(id);
  });

  it('IRN-10 Given 12 nodes already in Ironic (as Bifrost enrols them), when all are enrolled at once, then their first reads are list requests, not a GET each; a lone node is read with a GET', async () => {
    const nodes = Array.from({ length: 12 }, (_, i) => node(`batch-${i}`));
    for (const n of nodes) await api('/nodes', { method: 'POST', body: { uuid: ironicUuid(n), name: n.host.name, driver: 'fake-hardware' } });
    const log = join(ironic.dataDir, 'ironic-api.log');
    const requests = () => readFileSync(log, 'utf8').split('\n');
    // The API logs a request after answering it: give the last lines time to reach the file.
    const settled = async () => {
      for (let n = -1, i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 100));
        if (requests().length === n) break;
        n = requests().length;
      }
      return requests();
    };
    const before = requests().length;
    const d = driver({ pollIntervalMs: 5000 }); // waits poll every 5 s: the first reads are not waits
    await Promise.all(nodes.map((n) => d.enroll(n, call())));
    const during = (await settled()).slice(before);
    const gets = (uuid: string) => during.filter((l) => l.includes(`"GET /v1/nodes/${uuid} `)).length;
    expect(nodes.map((n) => gets(ironicUuid(n)))).toEqual(nodes.map(() => 0));
    expect(during.filter((l) => /"GET \/v1\/nodes\?fields=/.test(l)).length, during.join('\n')).toBeGreaterThanOrEqual(1);
    for (const n of nodes) expect((await ironicNode(n)).provision_state).toBe('manageable');

    // One node alone: one GET, no list of every node in Ironic.
    const lone = node('batch-lone');
    const at = requests().length;
    await d.enroll(lone, call());
    const after = (await settled()).slice(at);
    expect(after.filter((l) => l.includes(`"GET /v1/nodes/${ironicUuid(lone)} `)).length, after.join('\n')).toBeGreaterThanOrEqual(1);
    expect(after.filter((l) => /"GET \/v1\/nodes\?fields=/.test(l))).toHaveLength(0);
  });
});
