import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { call, FIELD_KEY } from '@stackyard/grpc';
import type { LocalServer } from '@stackyard/devinfra';
import { HostOutcome, NodeDeploymentState } from '@stackyard/proto/deployment/v1/deployment';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { connectBus, type Bus } from '@stackyard/nats';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';
import { countBySubject, drained } from './streams';

type GrpcError = { code: number; metadata: { get(k: string): unknown[] } };
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as GrpcError);

async function readyAll(p: Platform, ids: string[]) {
  for (const hostId of ids) {
    await eventually(async () => {
      const pr = (await call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId })).progress!;
      return pr.state === NodeState.NODE_STATE_READY ? pr : undefined;
    }, 30_000, `${hostId} ready`);
  }
}

// Site operations over gRPC on the whole platform (real NATS JetStream + MongoDB-wire server), lab runtime.
describe('deployment operations end to end: DiffConfig, Reconfigure, Upgrade, Destroy (lab runtime)', () => {
  let nats: LocalServer;
  let p: Platform;
  const site = 'ops';

  beforeAll(async () => {
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('depops'), { deployment: { KOLLA_INTERNAL_VIP_ADDRESS: '10.1.0.5' } });
    await p.startAll();
    await p.defineSite(site);
    await p.registerHost(site, 'ctl-01', ['controllers']);
    await p.registerHost(site, 'cmp-01');
    await readyAll(p, ['ops-ctl-01', 'ops-cmp-01']);
  });
  afterAll(async () => {
    await p?.stopAll();
    await nats?.stop();
  });

  it('diffs, reconfigures, upgrades and destroys a site through the runtime', async () => {
    const d = p.clients.deployment;
    // The lab runtime does not consume inputs, so nothing was applied by the saga: everything is new.
    const first = await call(d, d.diffConfig, { siteId: site });
    expect(first.changedFiles).toEqual(['globals.yml', 'inventory/overcloud/host_vars/cmp-01', 'inventory/overcloud/host_vars/ctl-01', 'inventory/overcloud/hosts']);
    expect(first.appliedAt).toBe('');
    expect(first.diff).toContain('--- /dev/null\n+++ generated/globals.yml\n');
    expect(first.diff).toContain('+kolla_internal_vip_address: "10.1.0.5"');
    expect(first.diff).toContain('+ansible_host: "10.1.0.10"');
    expect(first.diff).not.toMatch(/password/i);

    const rec = (await call(d, d.reconfigure, { siteId: site, requestId: 'r1' })).result!;
    expect(rec).toMatchObject({ siteId: site, action: 'reconfigure', release: '2025.1', succeeded: true });
    expect(rec.hosts.map((h) => [h.host, h.outcome])).toEqual([
      ['cmp-01', HostOutcome.HOST_OUTCOME_OK],
      ['ctl-01', HostOutcome.HOST_OUTCOME_OK],
    ]);
    const after = await call(d, d.diffConfig, { siteId: site });
    expect(after).toMatchObject({ diff: '', changedFiles: [] });
    expect(after.appliedAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    const up = (await call(d, d.upgrade, { siteId: site, release: '2025.2', requestId: 'u1' })).result!;
    expect(up).toMatchObject({ action: 'upgrade', release: '2025.2', succeeded: true });
    expect((await call(d, d.diffConfig, { siteId: site })).diff).toBe('');
    // The same request again: the first result, not a second run.
    expect((await call(d, d.upgrade, { siteId: site, release: '2025.2', requestId: 'u1' })).result).toEqual(up);

    const bad = await failure(call(d, d.destroy, { siteId: site, confirm: 'yes', requestId: 'd1' }));
    expect(bad?.code).toBe(status.INVALID_ARGUMENT);
    expect(bad?.metadata.get(FIELD_KEY)).toEqual(['confirm']);
    const gone = (await call(d, d.destroy, { siteId: site, confirm: site, requestId: 'd2' })).result!;
    expect(gone).toMatchObject({ action: 'destroy', succeeded: true });
    // Nothing is applied any more: every generated file is new again.
    expect((await call(d, d.diffConfig, { siteId: site })).changedFiles).toHaveLength(4);
  });

  it('rejects bad input naming the field and reports an unknown site as NOT_FOUND', async () => {
    const d = p.clients.deployment;
    const noRelease = await failure(call(d, d.upgrade, { siteId: site, release: '', requestId: 'x' }));
    expect(noRelease?.code).toBe(status.INVALID_ARGUMENT);
    expect(noRelease?.metadata.get(FIELD_KEY)).toEqual(['release']);
    const noSite = await failure(call(d, d.reconfigure, { siteId: '', requestId: 'x' }));
    expect(noSite?.metadata.get(FIELD_KEY)).toEqual(['site_id']);
    expect((await failure(call(d, d.diffConfig, { siteId: 'nosuch' })))?.code).toBe(status.NOT_FOUND);
  });
});

// The saga with DEPLOY_RUNTIME=kolla-ansible. The real kolla-ansible is not installed here: a bash script
// stands in for it, records its argv and prints a PLAY RECAP (every host it is limited to ok, except
// cmp-bad whose task fails).
describe('the node saga through the kolla-ansible runtime (stand-in binary)', () => {
  let nats: LocalServer;
  let p: Platform;
  const site = 'ka';
  const root = mkdtempSync(join(tmpdir(), 'stackyard-ka-e2e-'));
  const bin = join(root, 'kolla-ansible');
  const calls = join(root, 'calls');
  let bus: Bus;

  beforeAll(async () => {
    writeFileSync(
      bin,
      `#!/usr/bin/env bash
echo "$*" >> '${calls}'
limit=""; prev=""
for a in "$@"; do [ "$prev" = "--limit" ] && limit="$a"; prev="$a"; done
echo "PLAY [Apply role common] ***"
echo "TASK [common : Ensuring config directories exist] ***"
for h in \${limit//,/ }; do
  if [ "$h" = "cmp-bad" ]; then echo "fatal: [$h]: FAILED! => {\\"changed\\": false, \\"msg\\": \\"Container nova_compute exited with 1\\"}"; else echo "ok: [$h]"; fi
done
echo
echo "PLAY RECAP ***"
rc=0
for h in \${limit//,/ }; do
  if [ "$h" = "cmp-bad" ]; then echo "$h : ok=3 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0"; rc=2; else echo "$h : ok=9 changed=2 unreachable=0 failed=0 skipped=1 rescued=0 ignored=0"; fi
done
exit $rc
`,
    );
    chmodSync(bin, 0o755);
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('depka'), {
      deployment: { DEPLOY_RUNTIME: 'kolla-ansible', KOLLA_ANSIBLE_BIN: bin, KOLLA_WORK_DIR: join(root, 'work'), KOLLA_INTERNAL_VIP_ADDRESS: '10.1.0.5' },
    });
    await p.startAll();
    await p.defineSite(site);
    await p.defineSite('kb');
    bus = await connectBus(nats.url, 'observer');
  });
  afterAll(async () => {
    await bus?.close();
    await p?.stopAll();
    await nats?.stop();
    rmSync(root, { recursive: true, force: true });
  });
  const deployment = (hostId: string) => call(p.clients.deployment, p.clients.deployment.getNodeDeployment, { hostId }).then((r) => r.deployment!);
  /** The stand-in's recorded command lines, each as [action, --limit hosts]. */
  const runs = () =>
    readFileSync(calls, 'utf8')
      .trim()
      .split('\n')
      .map((l) => [l.split(' ')[0]!, (/--limit (\S+)/.exec(l)?.[1] ?? '').split(',')] as const);

  it('deploys each node with kolla-ansible deploy --limit <host>, records the inputs as applied, and fails a node whose task fails', async () => {
    await p.registerHost(site, 'cmp-01');
    await p.registerHost(site, 'cmp-bad');
    await readyAll(p, ['ka-cmp-01']);
    const d = p.clients.deployment;
    const bad = await eventually(async () => {
      const r = await failure(call(d, d.getNodeDeployment, { hostId: 'ka-cmp-bad' }));
      if (r) return undefined;
      const dep = (await call(d, d.getNodeDeployment, { hostId: 'ka-cmp-bad' })).deployment!;
      return dep.state === NodeDeploymentState.NODE_DEPLOYMENT_STATE_FAILED ? dep : undefined;
    }, 30_000, 'cmp-bad failed');
    expect(bad.lastFailure).toMatchObject({ step: 'services', reason: 'KollaTaskFailed', retryable: false });
    expect(bad.lastFailure?.message).toBe('cmp-bad: failed in task "common : Ensuring config directories exist": Container nova_compute exited with 1');

    const dir = join(root, 'work', site);
    const lines = readFileSync(calls, 'utf8').trim().split('\n');
    expect(lines).toContain(`deploy -i ${dir}/inventory/overcloud/hosts --configdir ${dir} --limit cmp-01`);
    expect(lines).toContain(`deploy -i ${dir}/inventory/overcloud/hosts --configdir ${dir} --limit cmp-bad`);
    expect(statSync(join(dir, 'passwords.yml')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, 'inventory/overcloud/host_vars/cmp-01'))).toBe(true);
    // cmp-01's deploy recorded the site's inputs as applied; cmp-bad's inputs (with itself) were not.
    const diff = await call(d, d.diffConfig, { siteId: site });
    expect(diff.appliedAt).not.toBe('');
    expect(diff.diff).not.toMatch(/password/i);
  });

  it('deploys the control plane with one kolla-ansible deploy --limit over the ready controllers, computes after, and publishes SiteServicesDeployed once', async () => {
    const ctls = ['kctl-01', 'kctl-02', 'kctl-03'];
    for (const c of ctls) await p.registerHost('kb', c, ['controllers']);
    await p.registerHost('kb', 'kcmp-01');
    await readyAll(p, [...ctls, 'kcmp-01'].map((h) => `kb-${h}`));
    const deploys = runs().filter(([action, hosts]) => action === 'deploy' && hosts.some((h) => h.startsWith('kctl-')));
    // One call with every controller ready when the quorum (2 of 3) was reached; a later one joins alone.
    expect(deploys.filter(([, hosts]) => hosts.length > 1)).toHaveLength(1);
    expect(deploys[0]![1].length).toBeGreaterThanOrEqual(2);
    expect(deploys.flatMap(([, hosts]) => hosts).sort()).toEqual(ctls);
    const all = runs();
    expect(all.findIndex(([, hosts]) => hosts.includes('kcmp-01'))).toBeGreaterThan(all.findIndex(([, hosts]) => hosts.length > 1));
    await eventually(() => drained(bus.jsm), 10_000, 'drained');
    const counts = await countBySubject(bus.jsm, 'stackyard.kb.deployment.site.>');
    expect(counts).toEqual({ 'stackyard.kb.deployment.site.kb.control-plane-released': 1, 'stackyard.kb.deployment.site.kb.services-deployed': 1 });
  });

  it('aborts a node by kolla-ansible destroy --limit <host> --yes-i-really-really-mean-it; a failing destroy is reported as DeployFailed (step destroy), not swallowed', async () => {
    const dir = join(root, 'work', site);
    await call(p.clients.monitoring, p.clients.monitoring.abortNode, { hostId: 'ka-cmp-01', requestedBy: 'alice' });
    await eventually(async () => ((await deployment('ka-cmp-01')).state === NodeDeploymentState.NODE_DEPLOYMENT_STATE_REMOVED ? true : undefined), 30_000, 'cmp-01 removed');
    const lines = readFileSync(calls, 'utf8').trim().split('\n');
    expect(lines).toContain(`destroy -i ${dir}/inventory/overcloud/hosts --configdir ${dir} --limit cmp-01 --yes-i-really-really-mean-it`);

    // cmp-bad's deploy failed (it may hold containers): its destroy runs and fails in the stand-in.
    await call(p.clients.monitoring, p.clients.monitoring.abortNode, { hostId: 'ka-cmp-bad', requestedBy: 'alice' });
    const bad = await eventually(async () => {
      const d = await deployment('ka-cmp-bad');
      return d.lastFailure?.step === 'destroy' ? d : undefined;
    }, 30_000, 'cmp-bad destroy failed');
    expect(bad.state).toBe(NodeDeploymentState.NODE_DEPLOYMENT_STATE_FAILED);
    expect(bad.lastFailure).toMatchObject({ step: 'destroy', reason: 'KollaTaskFailed', retryable: false });
    expect(readFileSync(calls, 'utf8')).toContain(`destroy -i ${dir}/inventory/overcloud/hosts --configdir ${dir} --limit cmp-bad --yes-i-really-really-mean-it`);
    await eventually(() => drained(bus.jsm), 10_000, 'drained');
    const counts = await countBySubject(bus.jsm, 'stackyard.ka.deployment.node.>');
    expect(counts['stackyard.ka.deployment.node.ka-cmp-01.services-removed']).toBe(1);
    expect(counts['stackyard.ka.deployment.node.ka-cmp-bad.services-removed']).toBeUndefined();
    expect(counts['stackyard.ka.deployment.node.ka-cmp-bad.deploy-failed']).toBe(2);
  });
});
