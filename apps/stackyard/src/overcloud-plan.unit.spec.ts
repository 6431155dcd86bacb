import { describe, expect, it } from 'vitest';
import { HostState, type Host } from '@stackyard/proto/inventory/v1/inventory';
import { HostOutcome, NodeDeploymentState, type NodeDeployment } from '@stackyard/proto/deployment/v1/deployment';
import {
  deployExitCode,
  diffFiles,
  exitCodeOf,
  inventoryJson,
  parseLimit,
  parseOvercloud,
  planFor,
  renderDiffSummary,
  renderHostConfigs,
  renderInventory,
  renderOperation,
  renderRuns,
  selectHosts,
} from './overcloud-plan';

const host = (name: string, groups: string[], state?: HostState): Host => ({
  id: `s1-${name}`,
  siteId: 's1',
  name,
  groups,
  bmc: { address: `bmc-${name}`, driver: 'lab', credentialRef: '' },
  labels: {},
  hardwareProfile: '',
  hardware: undefined,
  version: 1,
  state,
});
const env = { STACKYARD_PROVISIONING: '127.0.0.1:7001', STACKYARD_DEPLOYMENT: '127.0.0.1:7002' };

describe('parseOvercloud', () => {
  it('maps the words to a verb, with addresses from flags, then STACKYARD_*, then the inventory default', () => {
    const r = parseOvercloud(['hardware', 'inspect'], { site: 's1', limit: 'ctl-01,compute', provisioning: 'h:1' }, env);
    expect(r).toEqual({
      ok: true,
      request: { verb: 'hardware inspect', site: 's1', limit: ['ctl-01', 'compute'], release: undefined, json: false, timeoutMs: 300_000, addresses: { inventory: '127.0.0.1:50051', provisioning: 'h:1' } },
    });
    const inv = parseOvercloud(['inventory', 'discover'], { site: 's1', json: true, timeout: '5' }, { STACKYARD_INVENTORY: 'i:2' });
    expect(inv.ok && inv.request).toMatchObject({ verb: 'inventory', json: true, timeoutMs: 5000, addresses: { inventory: 'i:2' } });
    const diff = parseOvercloud(['service', 'diff'], { site: 's1' }, env);
    expect(diff.ok && diff.request.addresses).toEqual({ deployment: '127.0.0.1:7002' });
  });

  it('says what is missing or wrong, as usage errors', () => {
    const msg = (words: string[], f: Parameters<typeof parseOvercloud>[1], e: Record<string, string> = env) => {
      const r = parseOvercloud(words, f, e);
      return r.ok ? 'ok' : r.message;
    };
    expect(msg(['provison'], { site: 's1' })).toMatch(/^overcloud: expected one of: overcloud inventory, overcloud hardware inspect, .*got "overcloud provison"/);
    expect(msg(['provision'], {})).toMatch(/--site S is required/);
    expect(msg(['host', 'configure'], { site: 's1' })).toBe('where is network? pass --network HOST:PORT or set STACKYARD_NETWORK (`stackyard up --keep` prints it)');
    expect(msg(['provision'], { site: 's1', provisioning: 'nope' })).toBe('--provisioning must be HOST:PORT, got "nope"');
    expect(msg(['provision'], { site: 's1', limit: 'a:&b' })).toMatch(/only comma-separated host or group names/);
    expect(msg(['deprovision'], { site: 's1', yes: true })).toMatch(/--limit HOST,... is required \(`--limit all`/);
    expect(msg(['deprovision'], { site: 's1', limit: 'cmp-01' })).toMatch(/^overcloud deprovision undeploys cmp-01 of site s1: .*run it again with --yes/);
    expect(msg(['deprovision'], { site: 's1', limit: 'cmp-01', yes: true })).toBe('ok');
    expect(msg(['service', 'destroy'], { site: 's1' })).toMatch(/every container and volume of site s1.*--yes/);
    expect(msg(['service', 'upgrade'], { site: 's1' })).toMatch(/--release R is required/);
    expect(msg(['service', 'reconfigure'], { site: 's1', limit: 'ctl-01' })).toMatch(/--limit is not supported: .*every host of the site/);
    expect(msg(['service', 'deploy'], { site: 's1', limit: 'ctl-01' })).toBe('ok');
    expect(msg(['inventory'], { site: 's1', timeout: '-1' })).toMatch(/--timeout must be a positive number/);
  });
});

describe('--limit', () => {
  const hosts = [host('ctl-01', ['controllers', 'overcloud']), host('cmp-01', ['compute', 'overcloud']), host('cmp-02', ['compute', 'overcloud'])];
  it('selects by host name, host id or group, keeping the inventory order, and names terms that select nothing', () => {
    expect(parseLimit(' cmp-02, ctl-01 ,')).toEqual(['cmp-02', 'ctl-01']);
    expect(parseLimit(',')).toMatch(/at least one/);
    expect(selectHosts(hosts, ['cmp-02', 'ctl-01']).hosts.map((h) => h.name)).toEqual(['ctl-01', 'cmp-02']);
    expect(selectHosts(hosts, ['compute']).hosts.map((h) => h.name)).toEqual(['cmp-01', 'cmp-02']);
    expect(selectHosts(hosts, ['s1-cmp-01']).hosts.map((h) => h.name)).toEqual(['cmp-01']);
    expect(selectHosts(hosts, ['all']).hosts).toHaveLength(3);
    expect(selectHosts(hosts, undefined).hosts).toHaveLength(3);
    expect(selectHosts(hosts, ['cmp-01', 'nope']).unknown).toEqual(['nope']);
  });
});

describe('planFor (Kayobe state rules)', () => {
  it.each([
    ['hardware inspect', 'enroll', ['manage', 'inspect']],
    ['hardware inspect', 'manageable', ['inspect']],
    ['hardware inspect', 'available', ['manage', 'inspect']],
    ['hardware inspect', 'inspect failed', ['manage', 'inspect']],
    ['provision', 'enroll', ['manage', 'provide', 'deploy']],
    ['provision', 'manageable', ['provide', 'deploy']],
    ['provision', 'available', ['deploy']],
    ['deprovision', 'active', ['undeploy']],
    ['deprovision', 'deploy failed', ['undeploy']],
    ['deprovision', 'error', ['undeploy']],
  ] as const)('%s from %s: %j', (verb, state, actions) => {
    expect(planFor(verb, state)).toEqual({ actions });
  });
  it('skips what is done and refuses other states, naming the state', () => {
    expect(planFor('provision', 'active')).toEqual({ actions: [], skip: 'already active' });
    expect(planFor('deprovision', 'available')).toEqual({ actions: [], skip: 'already available (deprovisioned)' });
    expect(planFor('hardware inspect', 'active').refused).toBe('state active: hardware inspect needs enroll, manageable, available or inspect failed');
    expect(planFor('provision', 'deploy failed').refused).toMatch(/^state deploy failed: provision needs/);
    expect(planFor('deprovision', 'manageable').refused).toMatch(/^state manageable: deprovision needs/);
  });
});

describe('output', () => {
  it('exit codes: refused or failed 1, else timeout 2, else 0', () => {
    expect(exitCodeOf([{ outcome: 'ok' }, { outcome: 'skipped' }])).toBe(0);
    expect(exitCodeOf([{ outcome: 'ok' }, { outcome: 'timeout' }])).toBe(2);
    expect(exitCodeOf([{ outcome: 'timeout' }, { outcome: 'refused' }])).toBe(1);
    expect(exitCodeOf([{ outcome: 'failed' }])).toBe(1);
  });

  it('a summary table of the runs', () => {
    const lines = renderRuns('hardware inspect', 's1', [
      { host: 'ctl-01', hostId: 's1-ctl-01', before: 'available', done: ['manage', 'inspect'], state: 'manageable', outcome: 'ok', detail: '' },
      { host: 'cmp-01', hostId: 's1-cmp-01', before: 'active', done: [], state: 'active', outcome: 'refused', detail: 'state active: ...' },
    ], 1.25);
    expect(lines.slice(1, 4)).toEqual([
      'HOST    BEFORE     DONE            STATE       RESULT   DETAIL',
      'ctl-01  available  manage,inspect  manageable  ok',
      'cmp-01  active     -               active      refused  state active: ...',
    ]);
    expect(lines.at(-1)).toBe('overcloud hardware inspect of site s1: 1 ok, 0 skipped, 1 refused, 0 failed, 0 timed out, in 1.3 s');
  });

  it('the inventory by group, hosts in each of their groups', () => {
    const hosts = [host('ctl-01', ['controllers', 'overcloud'], HostState.HOST_STATE_READY), host('cmp-01', ['compute', 'overcloud'])];
    expect(renderInventory('s1', hosts)).toEqual([
      'site s1: 2 hosts in 3 groups',
      '',
      '[compute]',
      'HOST    BMC DRIVER  BMC ADDRESS  STATE',
      'cmp-01  lab         bmc-cmp-01   -',
      '',
      '[controllers]',
      'HOST    BMC DRIVER  BMC ADDRESS  STATE',
      'ctl-01  lab         bmc-ctl-01   ready',
      '',
      '[overcloud]',
      'HOST    BMC DRIVER  BMC ADDRESS  STATE',
      'ctl-01  lab         bmc-ctl-01   ready',
      'cmp-01  lab         bmc-cmp-01   -',
    ]);
    expect(inventoryJson('s1', hosts).groups).toEqual({ compute: ['cmp-01'], controllers: ['ctl-01'], overcloud: ['ctl-01', 'cmp-01'] });
  });

  it('host network configs, one row per file', () => {
    const cfg = { hostId: 's1-ctl-01', siteId: 's1', version: 1, allocations: [{ siteId: 's1', hostId: 's1-ctl-01', network: 'internal', address: '10.1.0.10' }], files: [{ path: '/etc/a.network', content: '' }, { path: '/etc/b.netdev', content: '' }] };
    expect(renderHostConfigs([{ host: 'ctl-01', config: cfg }, { host: 'cmp-01', config: undefined }])).toEqual([
      'HOST    ADDRESSES           FILES',
      'ctl-01  internal=10.1.0.10  /etc/a.network',
      '                            /etc/b.netdev',
      'cmp-01  -                   not configured yet (the saga configures it once the node is provisioned)',
    ]);
  });

  it('service deploy exit codes', () => {
    const d = (state: NodeDeploymentState) => ({ state, containers: [] }) as unknown as NodeDeployment;
    expect(deployExitCode([d(NodeDeploymentState.NODE_DEPLOYMENT_STATE_DEPLOYED)])).toBe(0);
    expect(deployExitCode([d(NodeDeploymentState.NODE_DEPLOYMENT_STATE_DEPLOYED), undefined])).toBe(2);
    expect(deployExitCode([d(NodeDeploymentState.NODE_DEPLOYMENT_STATE_WAITING), d(NodeDeploymentState.NODE_DEPLOYMENT_STATE_FAILED)])).toBe(1);
  });

  it('a site operation, one row per host', () => {
    const lines = renderOperation({
      siteId: 's1',
      action: 'reconfigure',
      release: '2025.1',
      succeeded: false,
      hosts: [
        { host: 'cmp-01', outcome: HostOutcome.HOST_OUTCOME_OK, failure: undefined },
        { host: 'ctl-01', outcome: HostOutcome.HOST_OUTCOME_UNREACHABLE, failure: { reason: 'HostUnreachable', message: 'ssh', retryable: true, step: 'reconfigure' } },
      ],
    });
    expect(lines).toEqual(['HOST    OUTCOME      DETAIL', 'cmp-01  ok', 'ctl-01  unreachable  HostUnreachable: ssh', '', 'reconfigure of site s1 (release 2025.1): 1/2 hosts ok; failed']);
  });

  it('the diff per file and host', () => {
    const diff = '--- /dev/null\n+++ generated/globals.yml\n@@ -0,0 +1 @@\n+a\n--- applied/inventory/overcloud/host_vars/cmp-01\n+++ generated/inventory/overcloud/host_vars/cmp-01\n@@ -1 +1 @@\n-x\n+y\n--- applied/inventory/overcloud/host_vars/old\n+++ /dev/null\n@@ -1 +0,0 @@\n-z\n';
    const files = ['globals.yml', 'inventory/overcloud/host_vars/cmp-01', 'inventory/overcloud/host_vars/old'];
    expect(diffFiles(diff, files).map((f) => f.change)).toEqual(['added', 'changed', 'removed']);
    expect(renderDiffSummary('s1', files, diff, '').slice(0, 4)).toEqual([
      'FILE                                  HOST    CHANGE',
      'globals.yml                           (site)  added',
      'inventory/overcloud/host_vars/cmp-01  cmp-01  changed',
      'inventory/overcloud/host_vars/old     old     removed',
    ]);
    expect(renderDiffSummary('s1', files, diff, '').at(-1)).toMatch(/^site s1: 3 files differ from the applied inputs \(none applied yet\); `stackyard overcloud service reconfigure --site s1` applies them$/);
    expect(renderDiffSummary('s1', [], '', '2026-01-01T00:00:00Z')).toEqual(['site s1: the generated Kolla inputs equal the applied ones (applied 2026-01-01T00:00:00Z); reconfigure would change nothing']);
  });
});
