import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { physicalNetworkConfigure, type PhysicalNetworkOptions } from '@stackyard/cli';
import type { LocalServer } from '@stackyard/devinfra';
import { call, FIELD_KEY } from '@stackyard/grpc';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { stackyard } from './cli-runner';
import { Platform } from './platform';


// Kayobe's `physical network configure` against the whole platform (lab drivers, lab switch executor).
// The lab inspection reports eno1 on <site>-tor-1 and eno2 on <site>-tor-2, on port Ethernet<1 + first
// byte of sha256(host id) % 48>: sw-ctl-01 -> Ethernet8, sw-cmp-01 -> Ethernet43.
describe('stackyard physical network configure', () => {
  let nats: LocalServer;
  let p: Platform;
  const site = 'sw';
  const dir = mkdtempSync(join(tmpdir(), 'stackyard-switches-'));
  const inventory = join(dir, 'switches.yml');
  const out: string[] = [];
  const err: string[] = [];
  const network = () => `127.0.0.1:${p.services.get('network')!.grpcPort}`;
  const run = (over: Partial<PhysicalNetworkOptions> = {}) => {
    out.length = 0;
    err.length = 0;
    return physicalNetworkConfigure({
      site,
      switchesFile: inventory,
      group: '',
      display: false,
      enableDiscovery: false,
      disableDiscovery: false,
      interfaceLimit: undefined,
      interfaceDescriptionLimit: undefined,
      json: false,
      network: network(),
      token: undefined,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      ...over,
    });
  };

  beforeAll(async () => {
    writeFileSync(
      inventory,
      [
        'switches:',
        '  sw-tor-1:',
        '    group: ctl-switches',
        '    switch_type: arista',
        '    switch_config: [spanning-tree mode mstp]',
        '    switch_interface_config:',
        '      Ethernet48: {description: uplink, config: [no switchport]}',
        '    switch_interface_config_enable_discovery:',
        '      Ethernet48: {description: uplink, config: [no switchport, lldp transmit]}',
        '  sw-tor-2:',
        '    group: ctl-switches',
        '    switch_type: nvue',
        '',
      ].join('\n'),
    );
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('swe'), { provisioning: { LAB_LATENCY_MS: '0' }, network: { SWITCH_EXECUTOR: 'lab' } });
    await p.startAll();
    await p.defineSite(site);
    // A compute-only storage VLAN on eno1 (provision_oc is untagged there; internal is VLAN 101 on eno2).
    await call(p.clients.network, p.clients.network.defineNetwork, {
      network: { siteId: site, name: 'storage', cidr: '10.3.0.0/24', gateway: '', allocationPoolStart: '10.3.0.10', allocationPoolEnd: '10.3.0.250', vlan: 30, mtu: 9000, groups: ['compute'], interface: '{nic0}', version: 0 },
    });
    await p.registerHost(site, 'ctl-01', ['controllers']);
    await p.registerHost(site, 'cmp-01');
    for (const hostId of ['sw-ctl-01', 'sw-cmp-01']) {
      await eventually(async () => {
        const x = (await call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId })).progress!;
        return x.state === NodeState.NODE_STATE_READY ? x : undefined;
      }, 30_000, `${hostId} ready`);
    }
  });
  afterAll(async () => {
    await p?.stopAll();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SW-E2E-01 --display (bin/stackyard): each ToR rendered with the VLANs of the hosts cabled to its ports; nothing applied', async () => {
    const r = await stackyard(['physical', 'network', 'configure', '--site', site, '--switches', inventory, '--display', '--network', network()]);
    expect(r.stderr).toContain('note: host ctl-01: network provision_oc has no VLAN id: it is not placed on switch ports');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        '# sw-tor-1 (Arista EOS, ctl-switches): 2 interface(s), 1 global line(s) would be applied',
        'spanning-tree mode mstp',
        'vlan 30',
        '   name storage',
        'interface Ethernet43',
        '   switchport mode trunk',
        '   switchport trunk allowed vlan 30',
        'interface Ethernet48',
        '   description uplink',
        '   no switchport',
        '',
        '# sw-tor-2 (NVIDIA Cumulus Linux (NVUE), ctl-switches): 2 interface(s), 0 global line(s) would be applied',
        'nv set bridge domain br_default vlan 101',
        'nv set interface Ethernet8 bridge domain br_default vlan 101',
        'nv set interface Ethernet8 bridge domain br_default untagged none',
        'nv set interface Ethernet43 bridge domain br_default vlan 101',
        'nv set interface Ethernet43 bridge domain br_default untagged none',
        'nv config apply --assume-yes',
        '',
      ].join('\n'),
    );
    // A dry run applied nothing: the first apply below still changes both switches.
  });

  it('SW-E2E-02 applied with the lab executor twice: the first changes both ToRs, the second reports no change', async () => {
    expect(await run()).toBe(0);
    expect(out).toContain('sw-tor-1  arista  ctl-switches  2           changed  lab: sw-tor-1: 9 of 9 statement(s) new');
    expect(out).toContain('sw-tor-2  Ethernet8   -            ctl-01/eno2  -       101');
    expect(out.at(-1)).toBe('2 switch(es) through the lab executor: 2 changed, 0 failed');
    expect(await run()).toBe(0);
    expect(out.at(-1)).toBe('2 switch(es) through the lab executor: 0 changed, 0 failed; nothing changed');
    expect(await run({ json: true })).toBe(0);
    const j = JSON.parse(out[0]!) as { executor: string; switches: { name: string; outcome: string; interfaces: { name: string; host: string; taggedVlans: number[] }[] }[] };
    expect(j.executor).toBe('lab');
    expect(j.switches.map((s) => [s.name, s.outcome])).toEqual([
      ['sw-tor-1', 'unchanged'],
      ['sw-tor-2', 'unchanged'],
    ]);
    expect(j.switches[1]!.interfaces).toEqual([
      expect.objectContaining({ name: 'Ethernet8', host: 'ctl-01', taggedVlans: [101] }),
      expect.objectContaining({ name: 'Ethernet43', host: 'cmp-01', taggedVlans: [101] }),
    ]);
    // --enable-discovery adds LLDP on the uplink of tor-1 only; tor-2 has no interface left by the limit.
    expect(await run({ enableDiscovery: true, interfaceLimit: 'Ethernet48' })).toBe(0);
    expect(out.slice(0, 3)).toEqual([
      'SWITCH    TYPE    GROUP         INTERFACES  OUTCOME    MESSAGE',
      'sw-tor-1  arista  ctl-switches  1           changed    lab: sw-tor-1: 1 of 5 statement(s) new',
      'sw-tor-2  nvue    ctl-switches  0           unchanged  lab: sw-tor-2: all 1 statement(s) already present',
    ]);
  });

  it('SW-E2E-03 bad inputs are INVALID_ARGUMENT naming the field (exit 1), nothing is applied; usage errors exit 64', async () => {
    expect(await run({ interfaceLimit: 'Ethernet8', interfaceDescriptionLimit: 'uplink', json: true })).toBe(1);
    expect(JSON.parse(out[0]!)).toEqual({
      error: { code: 'INVALID_ARGUMENT', field: 'interface_description_limit', message: 'interface_description_limit: The interface name and interface description limits are mutually exclusive.' },
    });
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'switches:\n  sw-tor-1: {switch_type: cisco-ios}\n');
    expect(await run({ switchesFile: bad })).toBe(1);
    expect(err[0]).toMatch(/^stackyard physical network configure: switches\.sw-tor-1\.switch_type: The switch type is not defined or is unrecognised/);
    writeFileSync(bad, 'switches:\n  sw-tor-1: {switch_type: arista\n');
    const e = await call(p.clients.network, p.clients.network.configurePhysicalNetwork, {
      siteId: site,
      switchesYaml: 'switches:\n  sw-tor-1: {switch_type: arista, switch_interface_config: {Ethernet43: {config: [switchport access vlan 7]}}}\n',
      group: '',
      display: false,
      enableDiscovery: false,
      disableDiscovery: false,
    }).then(
      () => undefined,
      (x: { code: number; metadata: { get(k: string): unknown[] } }) => x,
    );
    expect(e?.code).toBe(status.INVALID_ARGUMENT);
    expect(e?.metadata.get(FIELD_KEY)).toEqual(['switches.sw-tor-1.switch_interface_config.Ethernet43.config[0]']);
    expect(await run({ switchesFile: bad })).toBe(1);
    expect(err[0]).toContain('switches_yaml: is not valid YAML');
    // Still what the last good apply left: nothing above was applied.
    expect(await run({ enableDiscovery: true, interfaceLimit: 'Ethernet48' })).toBe(0);
    expect(out[1]).toContain('unchanged');
    expect(await run({ switchesFile: join(dir, 'missing.yml') })).toBe(64);
    const u = await stackyard(['physical', 'network', 'configure', '--site', site, '--network', network()]);
    expect(u.code).toBe(64);
    expect(u.stderr).toContain('missing --switches FILE');
  });
});
