import { beforeEach, describe, expect, it } from 'vitest';
import { AlreadyExistsError, NotFoundError, ValidationError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { HostHardwareRecorded, HostRegistered } from '@stackyard/proto/inventory/v1/events';
import { HostState, type HardwareFacts } from '@stackyard/proto/inventory/v1/inventory';
import type { RegisterHostInput } from '../domain/host';
import { InMemoryHosts, InMemorySites } from './in-memory.test-support';
import { InventoryService } from './inventory';

class FakeSiteRepository extends InMemorySites {}
class FakeHostRepository extends InMemoryHosts {}

const REG: RegisterHostInput = {
  siteId: 'dc1',
  name: 'ctl-01',
  groups: ['controllers', 'network'],
  bmc: { address: '10.9.0.11', driver: 'lab', credentialRef: 'vault:bmc/ctl-01' },
  labels: { rack: 'r12' },
  hardwareProfile: 'controller-std',
};

const HARDWARE: HardwareFacts = { cpuCount: 32, cpuModel: 'Intel Xeon Gold 6330', memoryMib: 262_144, disks: [], nics: [] };

function inspectedEvent(withFacts = true) {
  return newEvent({
    type: Events.NodeInspected,
    site: 'dc1',
    entityId: 'dc1-ctl-01',
    service: 'provisioning',
    data: { host: { hostId: 'dc1-ctl-01', siteId: 'dc1', name: 'ctl-01', groups: ['controllers', 'network'] }, hardware: withFacts ? HARDWARE : undefined },
    cause: { id: 'enrolled-id', correlationId: 'corr-1' },
  });
}

let sites: FakeSiteRepository;
let hosts: FakeHostRepository;
let svc: InventoryService;

beforeEach(async () => {
  sites = new FakeSiteRepository();
  hosts = new FakeHostRepository();
  svc = new InventoryService(sites, hosts);
  await svc.createSite('dc1', 'Data centre 1');
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('InventoryService.registerHost', () => {
  it('Given a known site, when a host is registered, then it is stored at version 1 and HostRegistered is emitted', async () => {
    const h = await svc.registerHost(REG);

    expect(h).toEqual({
      id: 'dc1-ctl-01',
      siteId: 'dc1',
      name: 'ctl-01',
      groups: ['controllers', 'network'],
      bmc: { address: '10.9.0.11', driver: 'lab', credentialRef: 'vault:bmc/ctl-01' },
      labels: { rack: 'r12' },
      hardwareProfile: 'controller-std',
      hardware: undefined,
      version: 1,
      state: HostState.HOST_STATE_REGISTERED,
    });
    const [event, ...more] = hosts.store.outbox as Envelope<HostRegistered>[];
    expect(more).toEqual([]);
    expect(event?.type).toBe('stackyard.inventory.v1.HostRegistered');
    expect(event?.subject).toBe('stackyard.dc1.inventory.host.dc1-ctl-01.registered');
    expect(event?.source).toBe('/stackyard/dc1/inventory');
    expect(event?.entityId).toBe('dc1-ctl-01');
    // The saga starts here: it correlates with itself and has no cause.
    expect(event?.correlationId).toBe(event?.id);
    expect(event?.causationId).toBeUndefined();
    expect(event?.data.host).toMatchObject({ id: 'dc1-ctl-01', siteId: 'dc1', name: 'ctl-01', groups: ['controllers', 'network'], bmc: REG.bmc });
    expect((await svc.getHost('dc1-ctl-01')).version).toBe(1);
  });

  it('Given a host already registered, when the same registration is repeated (a client retry), then it returns the existing host and emits nothing', async () => {
    const first = await svc.registerHost(REG);

    const again = await svc.registerHost({ ...REG, groups: [...REG.groups], labels: { ...REG.labels } });

    expect(again).toEqual(first);
    expect(hosts.store.outbox).toHaveLength(1);
    expect(hosts.store.writes).toBe(1);
  });

  it('Given a registered host whose hardware was recorded since, then the same registration still returns it', async () => {
    await svc.registerHost(REG);
    const inspected = inspectedEvent();
    await svc.recordHardware(inspected, `inventory-on-node-inspected~${inspected.id}`);

    const again = await svc.registerHost(REG);

    expect(again.version).toBe(2);
    expect(again.hardware).toEqual(HARDWARE);
  });

  it.each<[string, Partial<RegisterHostInput>]>([
    ['other groups', { groups: ['compute'] }],
    ['another BMC', { bmc: { address: '10.9.0.99', driver: 'lab', credentialRef: 'vault:bmc/ctl-01' } }],
    ['other labels', { labels: { rack: 'r13' } }],
    ['another profile', { hardwareProfile: 'compute-std' }],
  ])('Given a host already registered, when a registration with the same name but %s arrives, then it is AlreadyExists', async (_what, patch) => {
    await svc.registerHost(REG);

    const e = await rejection(svc.registerHost({ ...REG, ...patch }));

    expect(e).toBeInstanceOf(AlreadyExistsError);
    expect((e as AlreadyExistsError).reason).toBe('AlreadyExists');
    expect((e as Error).message).toBe('host "dc1-ctl-01" already exists');
    expect(hosts.store.outbox).toHaveLength(1);
    expect((await svc.getHost('dc1-ctl-01')).groups).toEqual(REG.groups);
  });

  it('Given an unknown site, then it is a ValidationError on site_id and nothing is stored', async () => {
    const e = await rejection(svc.registerHost({ ...REG, siteId: 'dc9' }));
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('site_id');
    expect((e as Error).message).toBe('site_id: site "dc9" does not exist');
    expect(hosts.store.writes).toBe(0);
    expect(hosts.store.outbox).toEqual([]);
  });

  it.each<[Partial<RegisterHostInput>, string]>([
    [{ name: 'CTL' }, 'name'],
    [{ groups: [] }, 'groups'],
    [{ bmc: undefined }, 'bmc'],
    [{ bmc: { address: '10.9.0.11', driver: 'ipmi', credentialRef: '' } }, 'bmc.driver'],
  ])('rejects an invalid registration before any write (%o names %s)', async (patch, field) => {
    const e = await rejection(svc.registerHost({ ...REG, ...patch }));
    expect((e as ValidationError).field).toBe(field);
    expect(hosts.store.writes).toBe(0);
  });
});

describe('InventoryService.listHosts', () => {
  beforeEach(async () => {
    await svc.createSite('dc2', '');
    for (const name of ['cmp-03', 'ctl-01', 'cmp-01', 'stor-01', 'cmp-02']) {
      await svc.registerHost({ ...REG, name, groups: [name.startsWith('cmp') ? 'compute' : name.startsWith('ctl') ? 'controllers' : 'storage'] });
    }
    await svc.registerHost({ ...REG, siteId: 'dc2', name: 'cmp-01', groups: ['compute'] });
  });

  it('Given 6 hosts and pages of 2, then it walks them in id order with a token per page and none after the last', async () => {
    const p1 = await svc.listHosts({}, 2, '');
    expect(p1.hosts.map((h) => h.id)).toEqual(['dc1-cmp-01', 'dc1-cmp-02']);
    expect(p1.nextPageToken).not.toContain('dc1-cmp-02'); // opaque

    const p2 = await svc.listHosts({}, 2, p1.nextPageToken);
    expect(p2.hosts.map((h) => h.id)).toEqual(['dc1-cmp-03', 'dc1-ctl-01']);
    expect(p2.nextPageToken).not.toBe('');

    const p3 = await svc.listHosts({}, 2, p2.nextPageToken);
    expect(p3.hosts.map((h) => h.id)).toEqual(['dc1-stor-01', 'dc2-cmp-01']);
    expect(p3.nextPageToken).toBe('');
  });

  it('Given a page size that divides the result exactly, then the last full page has no token', async () => {
    const p = await svc.listHosts({ siteId: 'dc1' }, 5, '');
    expect(p.hosts).toHaveLength(5);
    expect(p.nextPageToken).toBe('');
  });

  it('filters by site and by group, and pages within the filter', async () => {
    expect((await svc.listHosts({ siteId: 'dc2' }, 0, '')).hosts.map((h) => h.id)).toEqual(['dc2-cmp-01']);
    const c1 = await svc.listHosts({ group: 'compute', siteId: 'dc1' }, 2, '');
    expect(c1.hosts.map((h) => h.id)).toEqual(['dc1-cmp-01', 'dc1-cmp-02']);
    const c2 = await svc.listHosts({ group: 'compute', siteId: 'dc1' }, 2, c1.nextPageToken);
    expect(c2).toEqual({ hosts: [expect.objectContaining({ id: 'dc1-cmp-03' })], nextPageToken: '' });
  });

  it('returns every host with its version for page size 0 (default 100)', async () => {
    const p = await svc.listHosts({}, 0, '');
    expect(p.hosts).toHaveLength(6);
    expect(p.hosts.every((h) => h.version === 1)).toBe(true);
    expect(p.nextPageToken).toBe('');
  });

  it.each([-1, 1.5])('names page_size when it is %d', async (size) => {
    const e = await rejection(svc.listHosts({}, size, ''));
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('page_size');
  });
});

describe('InventoryService.recordHardware', () => {
  it('Given NodeInspected, then it stores the facts and emits HostHardwareRecorded caused by it; redelivery is a duplicate', async () => {
    await svc.registerHost(REG);
    const inspected = inspectedEvent();
    const key = `inventory-on-node-inspected~${inspected.id}`;

    expect(await svc.recordHardware(inspected, key)).toEqual({ outcome: 'written', version: 2 });
    expect(await svc.recordHardware(inspected, key)).toEqual({ outcome: 'duplicate' });

    const recorded = hosts.store.eventsOfType(Events.HostHardwareRecorded.type) as Envelope<HostHardwareRecorded>[];
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.subject).toBe('stackyard.dc1.inventory.host.dc1-ctl-01.hardware-recorded');
    expect(recorded[0]?.causationId).toBe(inspected.id);
    expect(recorded[0]?.correlationId).toBe('corr-1');
    expect(recorded[0]?.data).toMatchObject({ hostId: 'dc1-ctl-01', siteId: 'dc1', hardware: HARDWARE, host: { id: 'dc1-ctl-01', version: 2, hardware: HARDWARE } });
    expect((await svc.getHost('dc1-ctl-01')).hardware).toEqual(HARDWARE);
  });

  it('names hardware when the facts are missing, and reports an unknown host', async () => {
    await svc.registerHost(REG);
    const e = await rejection(svc.recordHardware(inspectedEvent(false), 'k'));
    expect((e as ValidationError).field).toBe('hardware');
    await expect(new InventoryService(sites, new FakeHostRepository()).recordHardware(inspectedEvent(), 'k')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('InventoryService sites', () => {
  it('creates and gets a site; a second create of the id is AlreadyExists; an unknown one NotFound', async () => {
    expect((await svc.getSite('dc1')).data).toEqual({ id: 'dc1', displayName: 'Data centre 1' });
    await expect(svc.createSite('dc1', 'again')).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(svc.getSite('dc7')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('names id for an invalid site id', async () => {
    const e = await rejection(svc.createSite('DC 7', ''));
    expect((e as ValidationError).field).toBe('id');
  });

  it('reports an unknown host as NotFound', async () => {
    await expect(svc.getHost('dc1-nope')).rejects.toThrow('host "dc1-nope" not found');
  });
});
