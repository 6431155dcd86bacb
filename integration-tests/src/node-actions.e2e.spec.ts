import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type ServiceError } from '@grpc/grpc-js';
import { call } from '@stackyard/grpc';
import type { LocalServer } from '@stackyard/devinfra';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { ProvisionState, type Node } from '@stackyard/proto/provisioning/v1/provisioning';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { baremetalAction, baremetalQueue, baremetalShow } from '@stackyard/cli';
import { Platform } from './platform';

// Operator actions through the gRPC API: Ironic's verbs and power changes, checked against the
// state machine when asked (FAILED_PRECONDITION), carried out asynchronously by the service.
describe('node actions (gRPC NodeAction, GetWorkQueue)', () => {
  let nats: LocalServer;
  let p: Platform;

  beforeAll(async () => {
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('act'), { provisioning: { LAB_LATENCY_MS: '100' } });
    await p.startAll();
    await p.defineSite('na');
    await p.registerHost('na', 'cmp-01');
    await eventually(async () => {
      const x = (await call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId: 'na-cmp-01' })).progress!;
      return x.state === NodeState.NODE_STATE_READY ? x : undefined;
    }, 30_000, 'na-cmp-01 ready');
  });
  afterAll(async () => {
    await p?.stopAll();
    await nats?.stop();
  });

  const node = async () => (await call(p.clients.provisioning, p.clients.provisioning.getNode, { hostId: 'na-cmp-01' })).node!;
  const act = (action: string, hostId = 'na-cmp-01') => call(p.clients.provisioning, p.clients.provisioning.nodeAction, { hostId, action });
  const settled = (what: string, ok: (n: Node) => boolean) =>
    eventually(async () => {
      const n = await node();
      return !n.pendingAction && ok(n) ? n : undefined;
    }, 20_000, what);
  const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: ServiceError) => e);

  it('shows an active node with what it allows next', async () => {
    const n = await node();
    expect(n.state).toBe(ProvisionState.PROVISION_STATE_ACTIVE);
    expect(n.power).toBe('on');
    expect(n.allowedActions).toEqual(['undeploy', 'power on', 'power off', 'reboot']);
  });

  it('rejects a verb the state does not allow with FAILED_PRECONDITION listing what is allowed', async () => {
    const e = await failure(act('deploy'));
    expect(e?.code).toBe(status.FAILED_PRECONDITION);
    expect(e?.details).toMatch(/active.*deploy.*allowed: rebuild, undeploy/);
    expect((await node()).state).toBe(ProvisionState.PROVISION_STATE_ACTIVE);
  });

  it('rejects an unknown action with INVALID_ARGUMENT naming the field, and an unknown host with NOT_FOUND', async () => {
    const e = await failure(act('explode'));
    expect(e?.code).toBe(status.INVALID_ARGUMENT);
    expect(e?.details).toMatch(/^action: unknown action "explode"; one of: manage, inspect, provide, deploy, undeploy, power on, power off, reboot/);
    expect((await failure(act('undeploy', 'na-nope')))?.code).toBe(status.NOT_FOUND);
  });

  it('powers the node off, one action at a time, then on again', async () => {
    const r = await act('power off');
    expect(r.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.node?.pendingAction).toBe('power off');
    const busy = await failure(act('power on'));
    expect(busy?.code).toBe(status.FAILED_PRECONDITION);
    expect(busy?.details).toMatch(/power off under way/);
    expect((await settled('powered off', (n) => n.power === 'off')).state).toBe(ProvisionState.PROVISION_STATE_ACTIVE);
    await act('power on');
    await settled('powered on', (n) => n.power === 'on');
  });

  it('undeploys to available and powered off, then deploys again to active', async () => {
    await act('undeploy');
    const off = await settled('undeployed', (n) => n.state === ProvisionState.PROVISION_STATE_AVAILABLE);
    expect(off.power).toBe('off');
    expect(off.allowedActions).toEqual(['manage', 'deploy', 'power on', 'power off', 'reboot']);
    await act('deploy');
    const on = await settled('deployed', (n) => n.state === ProvisionState.PROVISION_STATE_ACTIVE);
    expect(on.power).toBe('on');
    expect(on.lastFailure).toBeUndefined();
  });

  it('shows the limits the work went through', async () => {
    const q = await call(p.clients.provisioning, p.clients.provisioning.getWorkQueue, {});
    const names = q.limits.map((l) => l.name);
    expect(names).toEqual(expect.arrayContaining(['deploy', 'inspect', 'site:na', 'bmc:bmc-cmp-01']));
    for (const l of q.limits) expect(l).toMatchObject({ inFlight: 0, queued: [] });
    expect(q.limits.find((l) => l.name === 'bmc:bmc-cmp-01')?.limit).toBe(4);
  });

  it('the CLI shows the node, refuses what is not allowed, and follows an action to its end', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const o = { provisioning: `127.0.0.1:${p.services.get('provisioning')!.grpcPort}`, token: undefined, json: false, wait: true, timeoutMs: 20_000, out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    expect(await baremetalShow('na-cmp-01', o)).toBe(0);
    expect(out).toEqual([
      'cmp-01 (na-cmp-01) driver lab, BMC bmc-cmp-01',
      '  state   active',
      '  power   on',
      '  allowed undeploy, power-on, power-off, reboot',
    ]);
    out.length = 0;
    expect(await baremetalAction('na-cmp-01', 'inspect', o)).toBe(1);
    expect(err.at(-1)).toMatch(/^stackyard: .*active.*inspect.*allowed: rebuild, undeploy/);
    expect(await baremetalAction('na-cmp-01', 'reboot', o)).toBe(0);
    expect(out.at(-1)).toBe('cmp-01: reboot done: active, power on');
    out.length = 0;
    expect(await baremetalQueue(o)).toBe(0);
    expect(out[0]).toMatch(/^LIMIT\s+IN FLIGHT\s+QUEUED\s+WAITING$/);
    expect(out.find((l) => l.startsWith('bmc:bmc-cmp-01'))).toMatch(/^bmc:bmc-cmp-01\s+0\/4\s+0$/);
    expect(await baremetalShow('na-cmp-01', { ...o, provisioning: '127.0.0.1:1' })).toBe(3);
    expect(err.at(-1)).toMatch(/no provisioning service answers at 127.0.0.1:1/);
  });
});
