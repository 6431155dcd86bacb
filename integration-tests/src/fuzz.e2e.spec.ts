import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { status, type ServiceError } from '@grpc/grpc-js';
import { call, FIELD_KEY } from '@stackyard/grpc';
import type { LocalServer } from '@stackyard/devinfra';
import { privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';
import { countBySubject } from './streams';
import { connectBus, type Bus } from '@stackyard/nats';

// Property-based: hostile input to the inventory and network APIs never crashes a service, never
// answers INTERNAL, names the field when it is rejected, and never leaves a partial write.
const hostile = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.constantFrom('', '.', '*', '>', 'a.b', '../../etc/passwd', 'x'.repeat(5000), '$JS.API.STREAM.DELETE.X', 'DC1', 'dc1\n', '\u0000', '{{ 7*7 }}', 'ctl-01; rm -rf /'),
);
const OK_CODES = new Set([status.OK, status.INVALID_ARGUMENT, status.ALREADY_EXISTS, status.NOT_FOUND]);

describe('hostile input over gRPC (property-based)', () => {
  let nats: LocalServer;
  let p: Platform;
  let bus: Bus;

  beforeAll(async () => {
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('fuzz'));
    await p.startAll();
    await p.defineSite('fz');
    bus = await connectBus(nats.url, 'observer');
  });
  afterAll(async () => {
    await bus?.close();
    await p?.stopAll();
    await nats?.stop();
  });

  const outcome = async (pr: Promise<unknown>) => {
    try {
      await pr;
      return { code: status.OK, field: undefined };
    } catch (e) {
      const se = e as ServiceError;
      return { code: se.code, field: se.metadata?.get(FIELD_KEY)[0] as string | undefined, details: se.details };
    }
  };

  it('RegisterHost: every answer is OK or a named rejection, and rejected hosts leave nothing behind', async () => {
    const c = p.clients;
    await fc.assert(
      fc.asyncProperty(hostile, fc.array(hostile, { maxLength: 4 }), hostile, hostile, hostile, async (name, groups, address, driver, cred) => {
        const r = await outcome(
          call(c.inventory, c.inventory.registerHost, { siteId: 'fz', name, groups, bmc: { address, driver, credentialRef: cred }, labels: {}, hardwareProfile: '', requestId: 'f' }, { attempts: 1 }),
        );
        expect(OK_CODES.has(r.code), `${r.code} ${r.details}`).toBe(true);
        if (r.code === status.INVALID_ARGUMENT) {
          expect(r.field).toMatch(/^(name|groups(\[\d+\])?|bmc(\.\w+)?|site_id|id|labels\..*)$/);
        }
      }),
      { numRuns: 150, seed: 1125 },
    );
    // Whatever was accepted is a valid host; nothing rejected was stored or published.
    const hosts = (await call(c.inventory, c.inventory.listHosts, { siteId: 'fz', group: '', pageSize: 1000, pageToken: '' })).hosts;
    for (const h of hosts) expect(h.name).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
    const published = Object.keys(await countBySubject(bus.jsm, 'stackyard.fz.inventory.host.*.registered'));
    expect(published.sort()).toEqual(hosts.map((h) => `stackyard.fz.inventory.host.${h.id}.registered`).sort());
  });

  it('DefineNetwork: every answer is OK or a named rejection; rejected networks are not stored', async () => {
    const c = p.clients;
    const int = fc.oneof(fc.integer(), fc.constantFrom(0, -1, 4095, 65536, 2 ** 31 - 1));
    await fc.assert(
      fc.asyncProperty(hostile, hostile, hostile, hostile, hostile, int, int, async (name, cidr, gw, start, end, vlan, mtu) => {
        const r = await outcome(
          call(c.network, c.network.defineNetwork, {
            network: { siteId: 'fz', name, cidr, gateway: gw, allocationPoolStart: start, allocationPoolEnd: end, vlan, mtu, groups: ['compute'], interface: '', version: 0 },
          }, { attempts: 1 }),
        );
        expect(OK_CODES.has(r.code), `${r.code} ${r.details}`).toBe(true);
        if (r.code === status.INVALID_ARGUMENT) {
          expect(r.field).toMatch(/^network(\.[a-z_]+|\[.*\])?/);
          const stored = await outcome(call(c.network, c.network.getNetwork, { siteId: 'fz', name }, { attempts: 1 }));
          // A rejected definition with a fresh name is not there (a valid one of that name may be).
          expect([status.NOT_FOUND, status.OK, status.INVALID_ARGUMENT]).toContain(stored.code);
        }
      }),
      { numRuns: 150, seed: 2511 },
    );
    const names = (await call(c.network, c.network.listNetworks, { siteId: 'fz' })).networks.map((n) => n.name);
    expect(names).toEqual(expect.arrayContaining(['internal', 'provision_oc']));
  });

  it('CreateGroup and CreateDeployment: every answer is OK or a named rejection; what is stored is valid', async () => {
    const c = p.clients;
    const inv = c.inventory;
    await fc.assert(
      fc.asyncProperty(hostile, fc.array(hostile, { maxLength: 3 }), hostile, hostile, async (name, list, key, value) => {
        const g = await outcome(call(inv, inv.createGroup, { siteId: 'fz', name, description: value, children: list, vars: { [key]: value } }, { attempts: 1 }));
        expect(OK_CODES.has(g.code), `${g.code} ${g.details}`).toBe(true);
        if (g.code === status.INVALID_ARGUMENT) {
          expect(g.field).toMatch(/^(name|description|site_id|id|children\[\d+\]|vars(\..*)?)$/s);
          if (/^[a-z0-9_-]{1,63}$/.test(name)) expect((await outcome(call(inv, inv.getGroup, { id: `fz-${name}` }, { attempts: 1 }))).code).not.toBe(status.INTERNAL);
        }
        const d = await outcome(
          call(inv, inv.createDeployment, { siteId: 'fz', name, description: '', hostIds: list, groups: [key], roles: [{ role: value, groups: list }], services: { [key]: true } }, { attempts: 1 }),
        );
        expect(OK_CODES.has(d.code), `${d.code} ${d.details}`).toBe(true);
        if (d.code === status.INVALID_ARGUMENT) expect(d.field).toMatch(/^(name|description|site_id|id|host_ids(\[\d+\])?|groups\[\d+\]|roles\[\d+\](\.\w+(\[\d+\])?)?|services(\..*)?)$/s);
      }),
      { numRuns: 60, seed: 3003 },
    );
    // Whatever was accepted is a valid record.
    for (const g of (await call(inv, inv.listGroups, { siteId: 'fz', pageSize: 500, pageToken: '' })).groups) expect(g.name).toMatch(/^[a-z0-9_-]{1,63}$/);
    await fc.assert(
      fc.asyncProperty(hostile, async (id) => {
        for (const r of [
          await outcome(call(inv, inv.getGroup, { id }, { attempts: 1 })),
          await outcome(call(inv, inv.getDeployment, { id }, { attempts: 1 })),
          await outcome(call(inv, inv.deleteGroup, { id, version: 0, force: false }, { attempts: 1 })),
          await outcome(call(inv, inv.listGroups, { siteId: id, pageSize: 0, pageToken: id }, { attempts: 1 })),
        ]) {
          expect([status.NOT_FOUND, status.INVALID_ARGUMENT, status.OK], `${r.code} ${r.details}`).toContain(r.code);
        }
      }),
      { numRuns: 60, seed: 78 },
    );
  });

  it('read APIs answer hostile ids with NOT_FOUND or INVALID_ARGUMENT, never INTERNAL', async () => {
    const c = p.clients;
    await fc.assert(
      fc.asyncProperty(hostile, async (id) => {
        for (const r of [
          await outcome(call(c.inventory, c.inventory.getHost, { id }, { attempts: 1 })),
          await outcome(call(c.monitoring, c.monitoring.getNodeProgress, { hostId: id }, { attempts: 1 })),
          await outcome(call(c.provisioning, c.provisioning.getNode, { hostId: id }, { attempts: 1 })),
          await outcome(call(c.network, c.network.getHostNetworkConfig, { hostId: id }, { attempts: 1 })),
          await outcome(call(c.monitoring, c.monitoring.retryNode, { hostId: id, requestedBy: id }, { attempts: 1 })),
        ]) {
          expect([status.NOT_FOUND, status.INVALID_ARGUMENT], `${r.code} ${r.details}`).toContain(r.code);
        }
      }),
      { numRuns: 60, seed: 77 },
    );
  });
});
