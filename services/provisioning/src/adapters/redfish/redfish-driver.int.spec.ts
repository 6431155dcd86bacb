import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepFailedError } from '@stackyard/errors';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { DriverCall } from '../../application/ports';
import { newNode, type NodeData } from '../../domain/node';
import { PROFILES, labMac } from '../lab/lab-driver';
import { startLabRedfish, type LabRedfish, type LabSystemSpec } from '../lab/redfish-bmc';
import { RedfishClient } from './client';
import { RedfishDriver, type RedfishDriverOptions } from './redfish-driver';

/** The redfish driver against the lab Redfish service: a real HTTP(S) server on 127.0.0.1. */

const USER = 'admin';
const PASS = 'S3cret-lab-pw';
const IMAGE = 'http://images.lab/deployment_image.qcow2';
/** Short polls and installs: the whole file runs in a few seconds on two cores. */
const FAST: RedfishDriverOptions = { scheme: 'http', pollIntervalMs: 15, requestTimeoutMs: 2_000, deployTimeoutMs: 10_000, powerTimeoutMs: 5_000 };

const servers: LabRedfish[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function lab(systems: LabSystemSpec[], extra: Partial<Parameters<typeof startLabRedfish>[0]> = {}): Promise<LabRedfish> {
  const s = await startLabRedfish({ username: USER, password: PASS, installMs: 40, systems, ...extra });
  servers.push(s);
  return s;
}

function spec(name: string, profile = 'compute-std'): LabSystemSpec {
  return { id: name, hostName: name, profile, hostId: `dc1-${name}`, siteId: 'dc1' };
}

function node(name: string, address: string, profile = 'compute-std'): NodeData {
  const host: HostRef = { hostId: `dc1-${name}`, siteId: 'dc1', name, groups: ['compute'] };
  return newNode(host, 'redfish', address, profile);
}

function call(o: { password?: string; signal?: AbortSignal } = {}): DriverCall {
  return { credentials: { username: USER, password: o.password ?? PASS }, signal: o.signal ?? new AbortController().signal };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function failure(p: Promise<unknown>): Promise<StepFailedError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(StepFailedError);
    return e as StepFailedError;
  }
  throw new Error('expected the call to fail');
}

describe('RedfishDriver: lifecycle on the lab BMC', () => {
  let bmc: LabRedfish;
  const driver = new RedfishDriver(FAST);
  beforeAll(async () => {
    bmc = await lab([spec('ctl-01', 'controller-std'), spec('stor-01', 'storage-dense'), spec('cmp-01')]);
  });

  it('enrolls, inspects, deploys with network data, powers, and deprovisions a node', async () => {
    const n = node('stor-01', bmc.address, 'storage-dense');
    await driver.enroll(n, call());

    const facts = await driver.inspect(n, call());
    const p = PROFILES['storage-dense']!;
    expect(facts).toEqual({
      cpuCount: p.cpus,
      cpuModel: p.cpuModel,
      memoryMib: p.memoryMib,
      disks: p.disks.map(([name, sizeGib, rotational]) => ({ name, sizeGib, rotational })),
      nics: Array.from({ length: p.nics }, (_, i) => ({
        name: `eno${i + 1}`,
        macAddress: labMac('dc1-stor-01', i),
        speedMbps: 25_000,
        lldpSwitch: `dc1-tor-${1 + (i % 2)}`,
        lldpPort: expect.stringMatching(/^Ethernet\d+$/),
      })),
    });

    const network = { macAddress: labMac('dc1-stor-01', 0), address: '10.0.0.31', prefixLength: 24, gateway: '10.0.0.1', nameservers: ['10.0.0.2'] };
    await driver.deploy(n, { image: IMAGE, network }, call());
    const after = bmc.system('stor-01');
    expect(after).toMatchObject({ powerState: 'On', lastState: 'OSRunning', installedImage: IMAGE, installs: 1, health: 'OK', networkData: network });
    expect(after.media.Cd).toEqual({ image: null, inserted: false, writeProtected: true });
    expect(after.media.Floppy.inserted).toBe(false);
    expect(after.boot.enabled).toBe('Disabled');
    expect(await driver.powerState(n, call())).toBe('on');

    await driver.power(n, 'reboot', call());
    expect(bmc.system('stor-01')).toMatchObject({ powerState: 'On', lastState: 'OSRunning', installs: 1 });
    await driver.power(n, 'off', call());
    expect(await driver.powerState(n, call())).toBe('off');
    await driver.power(n, 'on', call());
    expect(bmc.system('stor-01')).toMatchObject({ powerState: 'On', lastState: 'OSRunning' });

    await driver.deprovision(n, call());
    expect(bmc.system('stor-01')).toMatchObject({ powerState: 'Off', lastState: 'None' });
    expect(bmc.stats().activeSessions).toBe(0);
  });

  it('is idempotent: enroll, deploy and deprovision twice, power to the current state', async () => {
    const n = node('cmp-01', bmc.address);
    await driver.enroll(n, call());
    await driver.enroll(n, call());
    await driver.deploy(n, { image: IMAGE }, call());
    const resets = bmc.system('cmp-01').resets.length;
    await driver.deploy(n, { image: IMAGE }, call());
    expect(bmc.system('cmp-01')).toMatchObject({ installs: 1, installedImage: IMAGE });
    expect(bmc.system('cmp-01').resets).toHaveLength(resets);
    await driver.power(n, 'on', call());
    expect(bmc.system('cmp-01').resets).toHaveLength(resets);

    // Another image is a real redeploy.
    await driver.deploy(n, { image: 'http://images.lab/other.qcow2' }, call());
    expect(bmc.system('cmp-01')).toMatchObject({ installs: 2, installedImage: 'http://images.lab/other.qcow2' });

    await driver.deprovision(n, call());
    await driver.deprovision(n, call());
    await driver.power(n, 'off', call());
    expect(bmc.system('cmp-01').powerState).toBe('Off');
  });

  it('resumes a deploy already running for the same image instead of restarting it', async () => {
    const slow = await lab([spec('cmp-09')], { installMs: 300 });
    const n = node('cmp-09', slow.address);
    const first = new AbortController();
    const p = driver.deploy(n, { image: IMAGE }, call({ signal: first.signal }));
    await until(() => slow.system('cmp-09').lastState === 'OSBootStarted');
    first.abort();
    expect((await failure(p)).reason).toBe('Timeout');
    const resets = slow.system('cmp-09').resets.length;
    await driver.deploy(n, { image: IMAGE }, call());
    expect(slow.system('cmp-09')).toMatchObject({ installs: 1, lastState: 'OSRunning' });
    expect(slow.system('cmp-09').resets).toHaveLength(resets);
  });
});

describe('RedfishDriver: many systems behind one endpoint', () => {
  it('takes 50 nodes through enroll, inspect and deploy concurrently', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `n-${String(i + 1).padStart(3, '0')}`);
    const bmc = await lab(names.map((n) => spec(n)), { installMs: 50 });
    // 150 logins at once against a lab BMC in this process, while other test files run: on a slow
    // 2-core machine one answer took more than FAST's 2 s (CI, session 17). This test is about
    // concurrency; request timeouts have their own test above.
    const driver = new RedfishDriver({ ...FAST, pollIntervalMs: 25, requestTimeoutMs: 15_000 });
    const t0 = performance.now();
    await Promise.all(
      names.map(async (name) => {
        const n = node(name, bmc.address);
        await driver.enroll(n, call());
        const facts = await driver.inspect(n, call());
        expect(facts.nics[0]!.macAddress).toBe(labMac(`dc1-${name}`, 0));
        await driver.deploy(n, { image: IMAGE }, call());
      }),
    );
    const ms = performance.now() - t0;
    const stats = bmc.stats();
    // eslint-disable-next-line no-console
    console.log(`redfish: 50 nodes enrolled, inspected and deployed in ${ms.toFixed(0)} ms, ${stats.requests} HTTP requests, ${stats.logins} sessions`);
    expect(bmc.systems().every((s) => s.installedImage === IMAGE && s.lastState === 'OSRunning')).toBe(true);
    expect(stats.logins).toBe(150);
    expect(stats.activeSessions).toBe(0);
  });
});

describe('RedfishDriver: authentication', () => {
  it('uses sessions when the SessionService exists, and logs out', async () => {
    const bmc = await lab([spec('a-1')]);
    await new RedfishDriver(FAST).enroll(node('a-1', bmc.address), call());
    expect(bmc.stats()).toMatchObject({ logins: 1, logouts: 1, activeSessions: 0, basicAuthRequests: 0 });
    expect(bmc.stats().sessionAuthRequests).toBeGreaterThan(0);
  });

  it('falls back to Basic without a SessionService, and uses Basic when told to', async () => {
    const bmc = await lab([spec('a-1')], { sessions: false });
    await new RedfishDriver(FAST).enroll(node('a-1', bmc.address), call());
    expect(bmc.stats()).toMatchObject({ logins: 0, sessionAuthRequests: 0 });
    expect(bmc.stats().basicAuthRequests).toBeGreaterThan(0);

    const withSessions = await lab([spec('a-1')]);
    await new RedfishDriver({ ...FAST, auth: 'basic' }).enroll(node('a-1', withSessions.address), call());
    expect(withSessions.stats()).toMatchObject({ logins: 0, sessionAuthRequests: 0 });
  });

  it('logs in again once when the session expires under it', async () => {
    const bmc = await lab([spec('a-1')]);
    const c = await RedfishClient.connect({ baseUrl: bmc.url, username: USER, password: PASS });
    try {
      expect(c.authMode).toBe('session');
      bmc.expireSessions();
      expect((await c.get('/redfish/v1/Systems/a-1'))['Id']).toBe('a-1');
      expect(bmc.stats().logins).toBe(2);
    } finally {
      await c.close();
    }
  });

  it('reports a wrong password as BmcAuthFailed, not retryable, without the password', async () => {
    for (const sessions of [true, false]) {
      const bmc = await lab([spec('a-1')], { sessions });
      const wrong = 'Wr0ng-P4ssw0rd-xyz';
      const e = await failure(new RedfishDriver(FAST).enroll(node('a-1', bmc.address), call({ password: wrong })));
      expect(e.reason).toBe('BmcAuthFailed');
      expect(e.retryable).toBe(false);
      expect(e.message).toContain('"admin"');
      expect(e.message).not.toContain(wrong);
      expect(JSON.stringify(e.metadata)).not.toContain(wrong);
      expect(String(e.stack)).not.toContain(wrong);
    }
  });

  it('refuses a call without credentials', async () => {
    const e = await failure(new RedfishDriver(FAST).enroll(node('a-1', '127.0.0.1:1'), { credentials: undefined, signal: new AbortController().signal }));
    expect(e).toMatchObject({ reason: 'BmcCredentialsMissing', retryable: false });
  });
});

describe('RedfishDriver: faults', () => {
  it('times out on an unresponsive BMC with a retryable BmcUnreachable', async () => {
    const bmc = await lab([spec('u-1')], { faults: { 'u-1': { unresponsive: true } } });
    const t0 = Date.now();
    const e = await failure(new RedfishDriver({ ...FAST, requestTimeoutMs: 300 }).enroll(node('u-1', bmc.address), call()));
    expect(e).toMatchObject({ reason: 'BmcUnreachable', retryable: true });
    expect(e.message).toMatch(/did not answer GET \/redfish\/v1\/Systems\/u-1 within 300 ms/);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('reports a refused connection as retryable BmcUnreachable', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const e = await failure(new RedfishDriver(FAST).enroll(node('x', `127.0.0.1:${port}`), call()));
    expect(e).toMatchObject({ reason: 'BmcUnreachable', retryable: true });
    expect(e.message).toContain('ECONNREFUSED');
  });

  it('reports 5xx as retryable BmcError with the Redfish message', async () => {
    const bmc = await lab([spec('e-1')], { faults: { 'e-1': { error5xx: true } } });
    const e = await failure(new RedfishDriver(FAST).inspect(node('e-1', bmc.address), call()));
    expect(e).toMatchObject({ reason: 'BmcError', retryable: true });
    expect(e.message).toMatch(/HTTP 500: .*error5xx/);
  });

  it('fails a deploy whose install fails with a non-retryable DeployFailed', async () => {
    const bmc = await lab([spec('f-1')], { faults: { 'f-1': { installFails: true } } });
    const e = await failure(new RedfishDriver(FAST).deploy(node('f-1', bmc.address), { image: IMAGE }, call()));
    expect(e).toMatchObject({ reason: 'DeployFailed', retryable: false });
    expect(e.message).toMatch(/installer could not write the root disk/);
  });

  it('gives up a deploy after deployTimeoutMs with DeployTimeout', async () => {
    const bmc = await lab([spec('t-1')], { installMs: 5_000 });
    const e = await failure(new RedfishDriver({ ...FAST, deployTimeoutMs: 150 }).deploy(node('t-1', bmc.address), { image: IMAGE }, call()));
    expect(e).toMatchObject({ reason: 'DeployTimeout', retryable: false });
    expect(e.message).toContain('OSBootStarted');
  });

  it("stops polling when the call's signal aborts, with a retryable Timeout", async () => {
    const bmc = await lab([spec('t-2')], { installMs: 5_000 });
    const deadline = new AbortController();
    const p = new RedfishDriver(FAST).deploy(node('t-2', bmc.address), { image: IMAGE }, call({ signal: deadline.signal }));
    await until(() => bmc.system('t-2').lastState === 'OSBootStarted');
    const t0 = Date.now();
    deadline.abort();
    const e = await failure(p);
    expect(e).toMatchObject({ reason: 'Timeout', retryable: true });
    expect(e.message).toContain('deadline passed');
    expect(Date.now() - t0).toBeLessThan(500);
    expect(bmc.stats().activeSessions).toBe(0);
  });

  it('reports an unknown system as non-retryable UnknownSystem, picks the only system, and deprovisions an unknown one quietly', async () => {
    const two = await lab([spec('k-1'), spec('k-2')]);
    const e = await failure(new RedfishDriver(FAST).enroll(node('nope', two.address), call()));
    expect(e).toMatchObject({ reason: 'UnknownSystem', retryable: false });
    expect(e.message).toContain('none of the 2 Redfish systems');
    await new RedfishDriver(FAST).deprovision(node('nope', two.address), call());

    const one = await lab([{ id: 'System.Embedded.1', hostName: 'localhost', profile: 'compute-std' }]);
    await new RedfishDriver(FAST).enroll(node('whatever', one.address), call());
  });
});

describe('RedfishDriver: HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stackyard-redfish-tls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let bmc: LabRedfish;
  let caFile: string;

  beforeAll(async () => {
    const key = join(dir, 'bmc.key');
    caFile = join(dir, 'bmc.crt');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=lab-bmc',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', caFile,
    ], { stdio: 'ignore' });
    bmc = await lab([spec('h-1')], { tls: { key: readFileSync(key), cert: readFileSync(caFile) } });
  });

  it('refuses a self-signed BMC certificate by default with a clear, non-retryable BmcTlsError', async () => {
    const e = await failure(new RedfishDriver({ ...FAST, scheme: 'https' }).enroll(node('h-1', bmc.address), call()));
    expect(e).toMatchObject({ reason: 'BmcTlsError', retryable: false });
    expect(e.message).toMatch(/TLS verification of the BMC at https:\/\/127\.0\.0\.1:\d+ failed \(DEPTH_ZERO_SELF_SIGNED_CERT/);
    expect(e.message).toContain('verifyTls');
  });

  it('works with the CA file, and with verification off', async () => {
    await new RedfishDriver({ ...FAST, scheme: 'https', verifyTls: caFile }).deploy(node('h-1', bmc.address), { image: IMAGE }, call());
    expect(bmc.system('h-1').installedImage).toBe(IMAGE);
    expect(await new RedfishDriver({ ...FAST, scheme: 'https', verifyTls: false }).powerState(node('h-1', bmc.address), call())).toBe('on');
  });

  it('reports a missing CA file as BmcTlsError', async () => {
    const e = await failure(new RedfishDriver({ ...FAST, scheme: 'https', verifyTls: join(dir, 'missing.pem') }).enroll(node('h-1', bmc.address), call()));
    expect(e).toMatchObject({ reason: 'BmcTlsError', retryable: false });
  });
});
