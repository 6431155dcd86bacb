import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetSystems, parseFault } from '../../lab-redfish-main';
import { PROFILES, labMac } from './lab-driver';
import { startLabRedfish, type LabRedfish } from './redfish-bmc';

/** The lab Redfish service's protocol, over real HTTP, with plain fetch. */

const USER = 'admin';
const PASS = 'lab-secret';
const basic = `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`;
type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let bmc: LabRedfish;

async function call(method: string, path: string, o: { body?: unknown; headers?: Record<string, string>; auth?: string | null } = {}): Promise<{ status: number; body: Body; headers: Headers }> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.auth !== null) headers['Authorization'] = o.auth ?? basic;
  if (o.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${bmc.url}${path}`, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Body) : {}, headers: res.headers };
}

async function until(check: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  bmc = await startLabRedfish({
    username: USER,
    password: PASS,
    installMs: 150,
    systems: [
      { id: 'ctl-01', hostName: 'ctl-01', profile: 'controller-std', hostId: 'dc1-ctl-01', siteId: 'dc1' },
      { id: 'stor-01', hostName: 'stor-01', profile: 'storage-dense', hostId: 'dc1-stor-01', siteId: 'dc1' },
    ],
  });
});
afterAll(async () => bmc.stop());

describe('lab Redfish service: service root and discovery', () => {
  it('serves the version document and an anonymous service root with the standard links', async () => {
    expect((await call('GET', '/redfish', { auth: null })).body).toEqual({ v1: '/redfish/v1/' });
    const root = await call('GET', '/redfish/v1/', { auth: null });
    expect(root.status).toBe(200);
    expect(root.headers.get('odata-version')).toBe('4.0');
    expect(root.body).toMatchObject({
      '@odata.id': '/redfish/v1/',
      '@odata.type': expect.stringMatching(/^#ServiceRoot\.v1_\d+_\d+\.ServiceRoot$/),
      RedfishVersion: expect.stringMatching(/^1\.\d+\.\d+$/),
      UUID: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      Systems: { '@odata.id': '/redfish/v1/Systems' },
      Managers: { '@odata.id': '/redfish/v1/Managers' },
      Chassis: { '@odata.id': '/redfish/v1/Chassis' },
      SessionService: { '@odata.id': '/redfish/v1/SessionService' },
      Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } },
    });
  });

  it('gives every resource reachable from the root an @odata.id (its own path) and an @odata.type', async () => {
    const seen = new Set<string>();
    const queue = ['/redfish/v1/'];
    const collectLinks = (v: unknown, out: string[]): void => {
      if (Array.isArray(v)) v.forEach((x) => collectLinks(x, out));
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === '@odata.id' && typeof x === 'string') out.push(x);
          else if (k !== 'Actions') collectLinks(x, out);
        }
      }
    };
    while (queue.length > 0) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const r = await call('GET', path);
      expect(r.status, path).toBe(200);
      expect(r.body['@odata.id'], path).toBe(path);
      expect(r.body['@odata.type'], path).toMatch(/^#\w+(\.v\d+_\d+_\d+)?\.\w+$/);
      const found: string[] = [];
      collectLinks(r.body, found);
      queue.push(...found.filter((l) => !seen.has(l)));
    }
    // Service root, 3 collections, per system: system, NICs, storage, processors, manager, media, chassis, ports...
    expect(seen.size).toBeGreaterThan(60);
    expect(seen).toContain('/redfish/v1/Systems/stor-01/Storage/1/Drives/sdb');
    expect(seen).toContain('/redfish/v1/Managers/ctl-01/VirtualMedia/Cd');
  });

  it('describes a system from its lab profile: processors, memory, NICs, drives, boot, actions', async () => {
    const p = PROFILES['storage-dense']!;
    const sys = (await call('GET', '/redfish/v1/Systems/stor-01')).body;
    expect(sys).toMatchObject({
      Id: 'stor-01',
      HostName: 'stor-01',
      PowerState: 'Off',
      ProcessorSummary: { Count: p.cpus, Model: p.cpuModel },
      MemorySummary: { TotalSystemMemoryGiB: p.memoryMib / 1024 },
      Status: { Health: 'OK' },
      BootProgress: { LastState: 'None' },
      Boot: { BootSourceOverrideTarget: 'None', BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideMode: 'UEFI' },
      Links: { ManagedBy: [{ '@odata.id': '/redfish/v1/Managers/stor-01' }], Chassis: [{ '@odata.id': '/redfish/v1/Chassis/stor-01' }] },
      Actions: { '#ComputerSystem.Reset': { target: '/redfish/v1/Systems/stor-01/Actions/ComputerSystem.Reset' } },
    });
    expect(sys['Boot']['BootSourceOverrideTarget@Redfish.AllowableValues']).toEqual(expect.arrayContaining(['Pxe', 'Cd', 'Hdd']));
    expect(sys['Actions']['#ComputerSystem.Reset']['ResetType@Redfish.AllowableValues']).toEqual(
      expect.arrayContaining(['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart', 'GracefulRestart']),
    );
    const nic = (await call('GET', '/redfish/v1/Systems/stor-01/EthernetInterfaces/eno2')).body;
    expect(nic).toMatchObject({ MACAddress: labMac('dc1-stor-01', 1), SpeedMbps: 25_000, LinkStatus: 'LinkDown' });
    const drive = (await call('GET', '/redfish/v1/Systems/stor-01/Storage/1/Drives/sdb')).body;
    expect(drive).toMatchObject({ CapacityBytes: 16_000 * 2 ** 30, MediaType: 'HDD' });
    expect((await call('GET', '/redfish/v1/Systems/stor-01/Storage/1/Drives/sda')).body['MediaType']).toBe('SSD');
    const simple = (await call('GET', '/redfish/v1/Systems/stor-01/SimpleStorage/1')).body;
    expect(simple['Devices']).toHaveLength(3);
  });

  it('expands collection members on $expand', async () => {
    const r = await call('GET', '/redfish/v1/Systems?$expand=.($levels=1)');
    expect(r.body['Members@odata.count']).toBe(2);
    expect(r.body['Members'].map((m: Body) => m['HostName'])).toEqual(['ctl-01', 'stor-01']);
  });
});

describe('lab Redfish service: authentication', () => {
  it('answers 401 with a Redfish error body and WWW-Authenticate without or with wrong credentials', async () => {
    for (const auth of [null, `Basic ${Buffer.from(`${USER}:nope`).toString('base64')}`]) {
      const r = await call('GET', '/redfish/v1/Systems', { auth });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(r.body['error']['@Message.ExtendedInfo'][0]['MessageId']).toMatch(/NoValidSession$/);
    }
    expect((await call('GET', '/redfish/v1/Systems', { auth: null, headers: { 'X-Auth-Token': 'forged' } })).status).toBe(401);
  });

  it('creates a session (201, X-Auth-Token, Location), honours the token, and ends it on DELETE', async () => {
    const bad = await call('POST', '/redfish/v1/SessionService/Sessions', { auth: null, body: { UserName: USER, Password: 'wrong' } });
    expect(bad.status).toBe(401);
    const r = await call('POST', '/redfish/v1/SessionService/Sessions', { auth: null, body: { UserName: USER, Password: PASS } });
    expect(r.status).toBe(201);
    const token = r.headers.get('x-auth-token')!;
    const location = r.headers.get('location')!;
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(location).toMatch(/^\/redfish\/v1\/SessionService\/Sessions\/\d+$/);
    expect(r.body).toMatchObject({ '@odata.id': location, UserName: USER, Password: null });
    const withToken = { auth: null, headers: { 'X-Auth-Token': token } };
    expect((await call('GET', '/redfish/v1/Systems', withToken)).status).toBe(200);
    const list = await call('GET', '/redfish/v1/SessionService/Sessions', withToken);
    expect(list.body['Members']).toContainEqual({ '@odata.id': location });
    expect((await call('DELETE', location, withToken)).status).toBe(204);
    expect((await call('GET', '/redfish/v1/Systems', withToken)).status).toBe(401);
  });
});

describe('lab Redfish service: boot override PATCH and ETags', () => {
  it('rejects values outside the allowable ones with 400 and a Redfish error body, changing nothing', async () => {
    const r = await call('PATCH', '/redfish/v1/Systems/ctl-01', { body: { Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Sometimes' } } });
    expect(r.status).toBe(400);
    expect(r.body['error']).toMatchObject({ code: expect.stringMatching(/^Base\.1\.\d+\.GeneralError$/), message: expect.any(String) });
    const info = r.body['error']['@Message.ExtendedInfo'][0];
    expect(info).toMatchObject({ MessageId: expect.stringMatching(/PropertyValueNotInList$/), MessageArgs: ['Sometimes', 'Boot/BootSourceOverrideEnabled'] });
    expect(bmc.system('ctl-01').boot).toEqual({ target: 'None', enabled: 'Disabled', mode: 'UEFI' });
    expect((await call('PATCH', '/redfish/v1/Systems/ctl-01', { body: { PowerState: 'On' } })).body['error']['@Message.ExtendedInfo'][0]['MessageId']).toMatch(/PropertyNotWritable$/);
    expect((await call('PATCH', '/redfish/v1/Systems/ctl-01', { body: { Boot: { Bogus: 1 } } })).status).toBe(400);
  });

  it('sends an ETag and honours If-Match: current (strong or weak) passes, stale gets 412', async () => {
    const first = await call('GET', '/redfish/v1/Systems/ctl-01');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]+"$/);
    expect(first.headers.get('allow')).toContain('PATCH');
    const ok = await call('PATCH', '/redfish/v1/Systems/ctl-01', { body: { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Continuous' } }, headers: { 'If-Match': etag } });
    expect(ok.status).toBe(204);
    expect(bmc.system('ctl-01').boot).toMatchObject({ target: 'Pxe', enabled: 'Continuous' });
    const stale = await call('PATCH', '/redfish/v1/Systems/ctl-01', { body: { Boot: { BootSourceOverrideEnabled: 'Disabled' } }, headers: { 'If-Match': etag } });
    expect(stale.status).toBe(412);
    const now = (await call('GET', '/redfish/v1/Systems/ctl-01')).headers.get('etag')!;
    expect(now).not.toBe(etag);
    expect((await call('PATCH', '/redfish/v1/Systems/ctl-01', { body: { Boot: { BootSourceOverrideEnabled: 'Disabled' } }, headers: { 'If-Match': `W/${now}` } })).status).toBe(204);
  });
});

describe('lab Redfish service: virtual media, resets and the install simulation', () => {
  const media = '/redfish/v1/Managers/ctl-01/VirtualMedia/Cd';

  it('inserts and ejects virtual media, validating InsertMedia parameters', async () => {
    expect((await call('POST', `${media}/Actions/VirtualMedia.InsertMedia`, { body: {} })).status).toBe(400);
    expect((await call('POST', `${media}/Actions/VirtualMedia.InsertMedia`, { body: { Image: 'http://img/x.iso', Inserted: 'yes' } })).status).toBe(400);
    expect((await call('POST', `${media}/Actions/VirtualMedia.InsertMedia`, { body: { Image: 'http://img/x.iso' } })).status).toBe(204);
    expect((await call('GET', media)).body).toMatchObject({ Image: 'http://img/x.iso', ImageName: 'x.iso', Inserted: true, WriteProtected: true, ConnectedVia: 'URI' });
    expect((await call('POST', `${media}/Actions/VirtualMedia.InsertMedia`, { body: { Image: 'http://img/y.iso' } })).status).toBe(409);
    // sushy posts EjectMedia without a body.
    const eject = await fetch(`${bmc.url}${media}/Actions/VirtualMedia.EjectMedia`, { method: 'POST', headers: { Authorization: basic } });
    expect(eject.status).toBe(204);
    expect((await call('GET', media)).body).toMatchObject({ Image: null, Inserted: false, ConnectedVia: 'NotConnected' });
    expect((await call('POST', `${media}/Actions/VirtualMedia.EjectMedia`, { body: {} })).status).toBe(204);
  });

  it('validates ResetType and applies power changes', async () => {
    const reset = '/redfish/v1/Systems/ctl-01/Actions/ComputerSystem.Reset';
    expect((await call('POST', reset, { body: {} })).body['error']['@Message.ExtendedInfo'][0]['MessageId']).toMatch(/ActionParameterMissing$/);
    const bad = await call('POST', reset, { body: { ResetType: 'Explode' } });
    expect(bad.status).toBe(400);
    expect(bad.body['error']['@Message.ExtendedInfo'][0]['MessageId']).toMatch(/ActionParameterValueNotInList$/);
    expect((await call('GET', reset)).status).toBe(405);
    expect((await call('POST', reset, { body: { ResetType: 'On' } })).status).toBe(204);
    // Nothing installed: the firmware finds no OS.
    expect(bmc.system('ctl-01')).toMatchObject({ powerState: 'On', lastState: 'SystemHardwareInitializationComplete' });
    await call('POST', reset, { body: { ResetType: 'Nmi' } });
    await call('POST', reset, { body: { ResetType: 'ForceOff' } });
    expect(bmc.system('ctl-01')).toMatchObject({ powerState: 'Off', lastState: 'None' });
    expect(bmc.system('ctl-01').resets).toEqual(['On', 'Nmi', 'ForceOff']);
  });

  it('installs the CD image on a boot with a Cd override, clears a Once override and then runs from disk', async () => {
    await call('POST', `${media}/Actions/VirtualMedia.InsertMedia`, { body: { Image: 'http://img/os.qcow2' } });
    await call('PATCH', '/redfish/v1/Systems/ctl-01', { body: { Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Once' } } });
    await call('POST', '/redfish/v1/Systems/ctl-01/Actions/ComputerSystem.Reset', { body: { ResetType: 'On' } });
    const during = (await call('GET', '/redfish/v1/Systems/ctl-01')).body;
    expect(during).toMatchObject({ PowerState: 'On', BootProgress: { LastState: 'OSBootStarted' }, Boot: { BootSourceOverrideEnabled: 'Disabled' } });
    await until(() => bmc.system('ctl-01').lastState === 'OSRunning');
    const after = (await call('GET', '/redfish/v1/Systems/ctl-01')).body;
    expect(after['Oem']['Stackyard']['InstalledImage']).toBe('http://img/os.qcow2');
    // A restart boots the disk (the override was used once), with the CD still inserted.
    await call('POST', '/redfish/v1/Systems/ctl-01/Actions/ComputerSystem.Reset', { body: { ResetType: 'ForceRestart' } });
    expect(bmc.system('ctl-01')).toMatchObject({ lastState: 'OSRunning', installs: 1 });
  });

  it('injects faults per system: 5xx, installFails, latency', async () => {
    bmc.setFaults('stor-01', { error5xx: true });
    const r = await call('GET', '/redfish/v1/Systems/stor-01');
    expect(r.status).toBe(500);
    expect(r.body['error']['code']).toMatch(/InternalError$/);
    expect((await call('GET', '/redfish/v1/Managers/stor-01')).status).toBe(500);
    expect((await call('GET', '/redfish/v1/Systems/ctl-01')).status).toBe(200);

    bmc.setFaults('stor-01', { installFails: true, latencyMs: 60 });
    const t0 = Date.now();
    await call('POST', '/redfish/v1/Managers/stor-01/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia', { body: { Image: 'http://img/os.qcow2' } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    await call('PATCH', '/redfish/v1/Systems/stor-01', { body: { Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Continuous' } } });
    await call('POST', '/redfish/v1/Systems/stor-01/Actions/ComputerSystem.Reset', { body: { ResetType: 'On' } });
    await until(() => bmc.system('stor-01').health === 'Critical');
    const sys = (await call('GET', '/redfish/v1/Systems/stor-01')).body;
    expect(sys).toMatchObject({ BootProgress: { LastState: 'OSBootStarted' }, Status: { Health: 'Critical' }, Boot: { BootSourceOverrideEnabled: 'Continuous' } });
    expect(sys['Status']['Conditions'][0]['Message']).toMatch(/failed/);
    expect(sys['Oem']['Stackyard']['InstalledImage']).toBeNull();
    bmc.setFaults('stor-01', {});
  });

  it('reports PoweringOn/PoweringOff for powerMs, and adds systems at run time', async () => {
    const slow = await startLabRedfish({ username: USER, password: PASS, installMs: 10, powerMs: 80, systems: [] });
    try {
      slow.addSystem({ id: 'x1', hostName: 'x1', profile: 'compute-std' });
      expect(() => slow.addSystem({ id: 'x1', hostName: 'x1', profile: 'compute-std' })).toThrow(/already exists/);
      const res = await fetch(`${slow.url}/redfish/v1/Systems/x1/Actions/ComputerSystem.Reset`, {
        method: 'POST',
        headers: { Authorization: basic, 'Content-Type': 'application/json' },
        body: JSON.stringify({ ResetType: 'On' }),
      });
      expect(res.status).toBe(204);
      expect(slow.system('x1').powerState).toBe('PoweringOn');
      await until(() => slow.system('x1').powerState === 'On');
    } finally {
      await slow.stop();
    }
  });
});

describe('lab-redfish-main: fleet files and faults', () => {
  it('reads a site file into systems with the ids and MACs the platform derives', () => {
    const file = join(__dirname, '../../../../../examples/sample-site.yaml');
    const systems = fleetSystems(readFileSync(file, 'utf8'), file);
    expect(systems).toHaveLength(7);
    expect(systems[0]).toEqual({ id: 'ctl-01', hostName: 'ctl-01', profile: 'controller-std', hostId: 'dc1-ctl-01', siteId: 'dc1' });
  });

  it('reads a JSON list of systems and rejects anything else', () => {
    const json = JSON.stringify({ systems: [{ id: 's1', hostName: 'h1', profile: 'compute-std', faults: { installFails: true } }] });
    expect(fleetSystems(json, 'fleet.json')[0]).toMatchObject({ id: 's1', faults: { installFails: true } });
    expect(() => fleetSystems('other: 1', 'fleet.yaml')).toThrow(/expected "systems"/);
  });

  it('parses --fault values', () => {
    expect(parseFault('cmp-01:installFails')).toEqual(['cmp-01', { installFails: true }]);
    expect(parseFault('cmp-01:latencyMs=250')).toEqual(['cmp-01', { latencyMs: 250 }]);
    expect(() => parseFault('cmp-01:explode')).toThrow(/must be/);
  });
});
