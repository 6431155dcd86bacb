import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortNode, listNodes, retryNode, showNode, watchSite } from '@stackyard/cli';
import type { LocalServer } from '@stackyard/devinfra';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { call } from '@stackyard/grpc';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';

// The CLI's node verbs against a running platform: what an operator reads, and the exit codes.
describe('stackyard nodes / node show / retry / watch', () => {
  let nats: LocalServer;
  let p: Platform;
  const out: string[] = [];
  const err: string[] = [];
  const o = () => ({ monitoring: `127.0.0.1:${p.services.get('monitoring')!.grpcPort}`, token: undefined, json: false, out: (l: string) => out.push(l), err: (l: string) => err.push(l) });

  beforeAll(async () => {
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('cli'), { provisioning: { LAB_LATENCY_MS: '0', LAB_FAIL_STEPS: 'cmp-02:inspect:1' } });
    await p.startAll();
    await p.defineSite('cl');
    await p.registerHost('cl', 'cmp-01');
    await p.registerHost('cl', 'cmp-02');
    await eventually(async () => {
      const n = (await call(p.clients.monitoring, p.clients.monitoring.listNodeProgress, { siteId: 'cl' })).nodes;
      return n.length === 2 && n.every((x) => x.state !== NodeState.NODE_STATE_IN_PROGRESS) ? true : undefined;
    }, 20_000, 'both nodes settled');
  });
  afterAll(async () => {
    await p?.stopAll();
    await nats?.stop();
  });

  it('lists the nodes, shows why one failed, retries it, and follows it to ready', async () => {
    out.length = 0;
    expect(await listNodes('cl', o())).toBe(1);
    expect(out[0]).toMatch(/^HOST\s+GROUPS\s+STATE\s+STEP\s+DETAIL$/);
    expect(out.find((l) => l.startsWith('cmp-02'))).toMatch(/failed\s+enrolled\s+inspect: BmcError: lab: inspect of cmp-02 fails by configuration/);
    expect(out.at(-1)).toBe('2 nodes: 1 ready, 1 failed');

    out.length = 0;
    expect(await showNode('cl-cmp-02', o())).toBe(1);
    expect(out).toContain('retry this step: stackyard retry cl-cmp-02');
    expect(out.some((l) => /inspected\s+failed/.test(l))).toBe(true);

    out.length = 0;
    expect(await retryNode('cl-cmp-02', 'test', o())).toBe(0);
    expect(out[0]).toBe('cmp-02: retry 1 requested; follow it with: stackyard watch --site cl');
    expect(await watchSite('cl', true, o())).toBe(0);
    expect(out.some((l) => /cmp-02\s+\[#######\]\s+ready/.test(l)), out.join('\n')).toBe(true);

    out.length = 0;
    expect(await listNodes('cl', { ...o(), json: true })).toBe(0);
    const nodes = JSON.parse(out[0]!) as { name: string; state: string; retries: number }[];
    expect(nodes.map((n) => [n.name, n.state, n.retries])).toEqual([
      ['cmp-01', 'ready', 0],
      ['cmp-02', 'ready', 1],
    ]);
  });

  it('says what went wrong, with exit codes that mean something', async () => {
    err.length = 0;
    expect(await retryNode('cl-cmp-01', 'test', o())).toBe(1);
    expect(err[0]).toMatch(/transition from "ready" to "retry" is not allowed/);
    expect(await showNode('cl-nope', o())).toBe(1);
    expect(err[1]).toMatch(/not found/);
    expect(await listNodes('cl', { ...o(), monitoring: '127.0.0.1:1' })).toBe(3);
    expect(err[2]).toMatch(/no monitoring service answers at 127\.0\.0\.1:1/);
  });

  it('aborts a node and the listing shows it aborted', async () => {
    out.length = 0;
    expect(await abortNode('cl-cmp-01', 'test', o())).toBe(0);
    expect(out[0]).toMatch(/^cmp-01: aborting/);
    expect(await watchSite('cl', true, o())).toBe(0);
    out.length = 0;
    await listNodes('cl', o());
    expect(out.find((l) => l.startsWith('cmp-01'))).toMatch(/aborted/);
    expect(await abortNode('cl-cmp-01', 'test', o())).toBe(1);
  });
});
