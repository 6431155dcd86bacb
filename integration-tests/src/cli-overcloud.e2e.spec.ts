import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baremetalAction, overcloud, parseOvercloud, type OvercloudRequest } from '@stackyard/cli';
import type { LocalServer } from '@stackyard/devinfra';
import { call } from '@stackyard/grpc';
import { HostState } from '@stackyard/proto/inventory/v1/inventory';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { ProvisionState } from '@stackyard/proto/provisioning/v1/provisioning';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { stackyard } from './cli-runner';
import { Platform } from './platform';


// Kayobe's overcloud verbs through the CLI against the whole platform (lab drivers): what an operator
// reads, and the exit codes.
describe('stackyard overcloud ...', () => {
  let nats: LocalServer;
  let p: Platform;
  const site = 'ov';
  const out: string[] = [];
  const err: string[] = [];
  const addr = (n: 'inventory' | 'provisioning' | 'network' | 'deployment') => `127.0.0.1:${p.services.get(n)!.grpcPort}`;
  const env = () => ({ STACKYARD_INVENTORY: addr('inventory'), STACKYARD_PROVISIONING: addr('provisioning'), STACKYARD_NETWORK: addr('network'), STACKYARD_DEPLOYMENT: addr('deployment') });
  const io = { token: undefined, pollMs: 100, out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  /** Parses like main.ts does, then runs; collects the output in out/err (cleared first). */
  const run = (words: string, flags: Parameters<typeof parseOvercloud>[1] = {}) => {
    out.length = 0;
    err.length = 0;
    const r = parseOvercloud(words.split(' '), { site, timeout: '30', ...flags }, env());
    if (!r.ok) throw new Error(r.message);
    return overcloud(r.request as OvercloudRequest, io);
  };
  const state = async (hostId: string) => (await call(p.clients.provisioning, p.clients.provisioning.getNode, { hostId })).node!.state;

  beforeAll(async () => {
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('ovc'), { provisioning: { LAB_LATENCY_MS: '0' }, deployment: { KOLLA_INTERNAL_VIP_ADDRESS: '10.1.0.5' } });
    await p.startAll();
    await p.defineSite(site);
    await p.registerHost(site, 'ctl-01', ['controllers']);
    await p.registerHost(site, 'cmp-01');
    for (const hostId of ['ov-ctl-01', 'ov-cmp-01']) {
      await eventually(async () => {
        const x = (await call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId })).progress!;
        return x.state === NodeState.NODE_STATE_READY ? x : undefined;
      }, 30_000, `${hostId} ready`);
    }
    // The inventory learns the end of the saga from NodeReady, a moment later.
    await eventually(async () => {
      const hosts = (await call(p.clients.inventory, p.clients.inventory.listHosts, { siteId: site, group: '', pageSize: 0, pageToken: '' })).hosts;
      return hosts.length === 2 && hosts.every((h) => h.state === HostState.HOST_STATE_READY) ? true : undefined;
    }, 10_000, 'inventory knows both ready');
  });
  afterAll(async () => {
    await p?.stopAll();
    await nats?.stop();
  });

  it('overcloud inventory lists the hosts by group, following the pages (and through bin/stackyard with --json)', async () => {
    // One host per page: the second is on the next page.
    out.length = 0;
    const r1 = parseOvercloud(['inventory'], { site }, env());
    expect(await overcloud((r1 as { request: OvercloudRequest }).request, { ...io, pageSize: 1 })).toBe(0);
    const paged = [...out];
    expect(await run('inventory')).toBe(0);
    expect(paged).toEqual(out);
    expect(out).toEqual([
      'site ov: 2 hosts in 2 groups',
      '',
      '[compute]',
      'HOST    BMC DRIVER  BMC ADDRESS  STATE',
      'cmp-01  lab         bmc-cmp-01   ready',
      '',
      '[controllers]',
      'HOST    BMC DRIVER  BMC ADDRESS  STATE',
      'ctl-01  lab         bmc-ctl-01   ready',
    ]);
    const r = await stackyard(['overcloud', 'inventory', 'discover', '--site', site, '--json'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ site, groups: { compute: ['cmp-01'], controllers: ['ctl-01'] } });
    expect(await run('inventory', { inventory: '127.0.0.1:1' })).toBe(3);
    expect(err.join('\n')).toMatch(/no inventory service answers at 127\.0\.0\.1:1[^]*stackyard up --keep/);
  });

  it('hardware inspect refuses an active node with its state, exit 1', async () => {
    expect(await run('hardware inspect', { limit: 'cmp-01' })).toBe(1);
    expect(out.find((l) => /cmp-01\s+refused: state active/.test(l)), out.join('\n')).toBeDefined();
    expect(out.find((l) => l.startsWith('cmp-01 '))).toMatch(/^cmp-01\s+active\s+-\s+active\s+refused\s+state active: hardware inspect needs enroll, manageable, available or inspect failed$/);
    expect(await run('hardware inspect', { limit: 'cmp-99' })).toBe(64);
    expect(err[0]).toMatch(/--limit cmp-99: no such host or group in site ov \(hosts: cmp-01, ctl-01\)/);
  });

  it('provision after `baremetal undeploy` brings the node back to active; an active one is skipped', async () => {
    const bm = { provisioning: addr('provisioning'), token: undefined, json: false, wait: true, timeoutMs: 20_000, out: () => undefined, err: (l: string) => err.push(l) };
    expect(await baremetalAction('ov-cmp-01', 'undeploy', bm)).toBe(0);
    expect(await state('ov-cmp-01')).toBe(ProvisionState.PROVISION_STATE_AVAILABLE);
    expect(await run('provision')).toBe(0);
    expect(out.some((l) => /cmp-01\s+deploy done: active$/.test(l)), out.join('\n')).toBe(true);
    expect(out.find((l) => l.startsWith('ctl-01 '))).toMatch(/^ctl-01\s+active\s+-\s+active\s+skipped\s+already active$/);
    expect(out.find((l) => l.startsWith('cmp-01 '))).toMatch(/^cmp-01\s+available\s+deploy\s+active\s+ok$/);
    expect(out.at(-1)).toMatch(/^overcloud provision of site ov: 1 ok, 1 skipped, 0 refused, 0 failed, 0 timed out/);
    expect(await state('ov-cmp-01')).toBe(ProvisionState.PROVISION_STATE_ACTIVE);
  });

  it('deprovision needs --yes (exit 64); with it: undeploy; then inspect (manage, inspect) and provision (provide, deploy)', async () => {
    const no = await stackyard(['overcloud', 'deprovision', '--site', site, '--limit', 'cmp-01'], env());
    expect(no.code).toBe(64);
    expect(no.stderr).toMatch(/overcloud deprovision undeploys cmp-01 of site ov: .*run it again with --yes/);
    expect(await state('ov-cmp-01')).toBe(ProvisionState.PROVISION_STATE_ACTIVE);

    expect(await run('deprovision', { limit: 'compute', yes: true })).toBe(0);
    expect(await state('ov-cmp-01')).toBe(ProvisionState.PROVISION_STATE_AVAILABLE);
    expect(await run('hardware inspect', { limit: 'cmp-01', json: true })).toBe(0);
    expect(JSON.parse(out[0]!).hosts).toMatchObject([{ host: 'cmp-01', before: 'available', done: ['manage', 'inspect'], state: 'manageable', outcome: 'ok' }]);
    expect(await run('provision', { limit: 'cmp-01' })).toBe(0);
    expect(out.find((l) => l.startsWith('cmp-01 '))).toMatch(/^cmp-01\s+manageable\s+provide,deploy\s+active\s+ok$/);
  });

  it('service deploy, diff and reconfigure print per-node results', async () => {
    expect(await run('service deploy')).toBe(0);
    expect(out[0]).toMatch(/within the node saga/);
    expect(out.find((l) => l.startsWith('ctl-01 '))).toMatch(/^ctl-01\s+deployed\s+\d+\/\d+ healthy$/);

    expect(await run('service diff')).toBe(0);
    expect(out).toContain('+++ generated/globals.yml');
    expect(out.find((l) => l.startsWith('inventory/overcloud/host_vars/cmp-01'))).toMatch(/cmp-01\s+added$/);
    expect(out.at(-1)).toMatch(/^site ov: 4 files differ from the applied inputs \(none applied yet\)/);

    expect(await run('service reconfigure')).toBe(0);
    expect(out.slice(1, 4)).toEqual(['HOST    OUTCOME  DETAIL', 'cmp-01  ok', 'ctl-01  ok']);
    expect(out.at(-1)).toBe('reconfigure of site ov (release 2025.1): 2/2 hosts ok; the inputs are recorded as applied');

    expect(await run('service diff')).toBe(0);
    expect(out.at(-1)).toMatch(/^site ov: the generated Kolla inputs equal the applied ones \(applied \d{4}-/);

    expect(await run('service upgrade', { release: '2025.2' })).toBe(0);
    expect(out.at(-1)).toBe('upgrade of site ov (release 2025.2): 2/2 hosts ok; the inputs are recorded as applied');

    const destroy = await stackyard(['overcloud', 'service', 'destroy', '--site', site], env());
    expect(destroy.code).toBe(64);
    expect(destroy.stderr).toMatch(/every container and volume of site ov.*--yes/);
  });

  it('host configure shows each host\'s addresses and rendered files, and says the saga configured them', async () => {
    expect(await run('host configure', { limit: 'ctl-01' })).toBe(0);
    expect(out[0]).toMatch(/^Stackyard configures host networks within the node saga/);
    expect(out.find((l) => l.startsWith('ctl-01 '))).toMatch(/^ctl-01\s+\S*internal=10\.1\.0\.\d+\S*\s+\/\S+/);
    expect(out.at(-1)).toBe('1/1 hosts configured');
  });
});
