import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '@stackyard/devinfra';
import { sha256Hex } from '@stackyard/grpc';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { makePki } from './pki';
import { stackyard } from './cli-runner';
import { Platform } from './platform';


const TOKENS = { viewer: 'tok-viewer-0123456789', operator: 'tok-operator-ac-0123456789', other: 'tok-operator-zz-0123456789' };

interface NodeJson {
  hostId: string;
  state: string;
  retries: number;
}

// The operator surfaces of a secured platform: monitoring with mutual TLS and API tokens on gRPC,
// and its dashboard/JSON API behind the same tokens; the CLI with --token and --tls-*.
describe('operator access: dashboard HTTP API and CLI with tokens and mutual TLS', () => {
  let nats: LocalServer;
  let p: Platform;
  let f: (name: string) => string;
  const http = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${p.services.get('monitoring')!.httpPort}${path}`, { redirect: 'manual', ...init });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const nodes = async () => ((await (await http('/api/nodes?site=ac', { headers: bearer(TOKENS.viewer) })).json()) as { nodes: NodeJson[] }).nodes;
  const grpcAddr = () => `127.0.0.1:${p.services.get('monitoring')!.grpcPort}`;
  const mtls = () => ['--tls-ca', f('ca.crt'), '--tls-cert', f('client.crt'), '--tls-key', f('client.key')];

  beforeAll(async () => {
    f = makePki('stackyard-access-');
    writeFileSync(
      f('tokens.json'),
      JSON.stringify([
        { name: 'noc', role: 'viewer', sites: ['*'], token_sha256: sha256Hex(TOKENS.viewer) },
        { name: 'ac-ops', role: 'operator', sites: ['ac'], token_sha256: sha256Hex(TOKENS.operator) },
        { name: 'zz-ops', role: 'operator', sites: ['zz'], token_sha256: sha256Hex(TOKENS.other) },
      ]),
    );
    writeFileSync(f('bad-token'), 'not-a-known-token\n');
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('access'), {
      provisioning: { LAB_LATENCY_MS: '0', LAB_FAIL_STEPS: 'cmp-02:inspect:1' },
      monitoring: {
        GRPC_TLS_CERT_FILE: f('server.crt'),
        GRPC_TLS_KEY_FILE: f('server.key'),
        GRPC_TLS_CLIENT_CA_FILE: f('ca.crt'),
        AUTH_TOKENS_FILE: f('tokens.json'),
      },
    });
    await p.startAll();
    await p.defineSite('ac');
    await p.registerHost('ac', 'cmp-01');
    await p.registerHost('ac', 'cmp-02');
    await eventually(async () => {
      const n = await nodes();
      return n.length === 2 && n.every((x) => x.state === 'ready' || x.state === 'failed') ? true : undefined;
    }, 30_000, 'both nodes settled');
  });
  afterAll(async () => {
    await p?.stopAll();
    await nats?.stop();
  });

  it('keeps /healthz, /readyz and /metrics open for probes and scrapers', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await http(path)).status, path).toBe(200);
  });

  it('refuses the dashboard API without a token or with an unknown one (401, reason), and sends a browser to the login form', async () => {
    for (const path of ['/api/sites', '/api/nodes?site=ac', '/api/stream?site=ac', '/api/prometheus/rules', '/api/whoami']) {
      const r = await http(path);
      expect(r.status, path).toBe(401);
      expect(r.headers.get('x-stackyard-reason')).toBe('Unauthenticated');
      expect(((await r.json()) as { error: string }).error).toMatch(/missing API token/);
    }
    const bad = await http('/api/nodes?site=ac', { headers: bearer('not-a-token') });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: string }).error).toBe('invalid API token');
    expect((await http('/api/nodes/ac-cmp-02/retry', { method: 'POST', headers: bearer('not-a-token') })).status).toBe(401);
    const page = await http('/?site=ac', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2F%3Fsite%3Dac');
  });

  it('lets a viewer watch but not press retry (403 naming the role), and nothing changes', async () => {
    expect((await nodes()).map((n) => [n.hostId, n.state])).toEqual([
      ['ac-cmp-01', 'ready'],
      ['ac-cmp-02', 'failed'],
    ]);
    const r = await http('/api/nodes/ac-cmp-02/retry', { method: 'POST', headers: bearer(TOKENS.viewer) });
    expect(r.status).toBe(403);
    expect(r.headers.get('x-stackyard-reason')).toBe('PermissionDenied');
    expect(((await r.json()) as { error: string }).error).toBe('noc (viewer) may not call POST /api/nodes/:hostId/retry: it needs the operator role');
    expect((await http('/api/nodes/ac-cmp-02/abort', { method: 'POST', headers: bearer(TOKENS.viewer) })).status).toBe(403);
    const failed = (await nodes()).find((n) => n.hostId === 'ac-cmp-02')!;
    expect([failed.state, failed.retries]).toEqual(['failed', 0]);
  });

  it('keeps a site-scoped token out of other sites: hidden from the list, 403 on their nodes and stream', async () => {
    const other = bearer(TOKENS.other);
    expect(await (await http('/api/sites', { headers: other })).json()).toEqual({ sites: [] });
    expect(await (await http('/api/sites', { headers: bearer(TOKENS.operator) })).json()).toEqual({ sites: [{ id: 'ac', nodes: 2 }] });
    for (const path of ['/api/nodes?site=ac', '/api/stream?site=ac', '/api/prometheus/targets?site=ac']) {
      const r = await http(path, { headers: other });
      expect(r.status, path).toBe(403);
      expect(((await r.json()) as { error: string }).error).toBe('zz-ops may not act on site "ac"');
    }
    const retry = await http('/api/nodes/ac-cmp-02/retry', { method: 'POST', headers: other });
    expect(retry.status).toBe(403);
    expect(((await retry.json()) as { error: string }).error).toBe('zz-ops may not act on site "ac"');
    expect((await nodes()).find((n) => n.hostId === 'ac-cmp-02')!.retries).toBe(0);
  });

  it('logs a browser in with a token (HttpOnly cookie) and refuses a cookie mutation without the CSRF header', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const wrong = await http('/login', { method: 'POST', headers: form, body: 'token=wrong&next=%2F' });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('token: not a valid API token');
    const login = await http('/login', { method: 'POST', headers: form, body: `token=${TOKENS.viewer}&next=%2F%3Fsite%3Dac` });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/?site=ac');
    const setCookie = login.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly; SameSite=Strict/);
    const cookie = { cookie: setCookie.split(';')[0]! };
    expect(await (await http('/api/whoami', { headers: cookie })).json()).toEqual({ auth: true, name: 'noc', role: 'viewer', sites: ['*'] });
    expect((await http('/?site=ac', { headers: { ...cookie, accept: 'text/html' } })).status).toBe(200);
    const csrf = await http('/api/nodes/ac-cmp-02/retry', { method: 'POST', headers: cookie });
    expect(csrf.status).toBe(403);
  });

  it('CLI: refuses without a token, with a bad token file, a viewer retrying and an out-of-site token, printing the reason and what to do', async () => {
    const none = await stackyard(['nodes', '--site', 'ac', '--monitoring', grpcAddr(), ...mtls()]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`monitoring at ${grpcAddr()} refused the call: UNAUTHENTICATED (x-stackyard-reason: Unauthenticated): missing API token`);
    expect(none.stderr).toMatch(/--token TOKEN or --token-file FILE/);

    const bad = await stackyard(['nodes', '--site', 'ac', '--monitoring', grpcAddr(), '--token-file', f('bad-token'), ...mtls()]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('UNAUTHENTICATED (x-stackyard-reason: Unauthenticated): invalid API token');

    const viewer = await stackyard(['retry', 'ac-cmp-02', '--monitoring', grpcAddr(), '--token', TOKENS.viewer, ...mtls()]);
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toContain('PERMISSION_DENIED (x-stackyard-reason: PermissionDenied): noc (viewer) may not call /stackyard.monitoring.v1.MonitoringService/RetryNode: it needs the operator role');
    expect(viewer.stderr).toMatch(/its role or sites do not allow this/);

    const other = await stackyard(['node', 'show', 'ac-cmp-02', '--monitoring', grpcAddr(), '--token', TOKENS.other, ...mtls()]);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('zz-ops may not act on host "ac-cmp-02" (outside its sites)');
    expect((await nodes()).find((n) => n.hostId === 'ac-cmp-02')!.retries).toBe(0);
  });

  it('CLI: without TLS (or without a client certificate) the service is unreachable, with a hint for --tls-ca', async () => {
    const plain = await stackyard(['nodes', '--site', 'ac', '--monitoring', grpcAddr(), '--token', TOKENS.viewer]);
    expect(plain.code).toBe(3);
    expect(plain.stderr).toContain('If the service uses TLS, pass --tls-ca FILE');
    const noCert = await stackyard(['nodes', '--site', 'ac', '--monitoring', grpcAddr(), '--token', TOKENS.viewer, '--tls-ca', f('ca.crt')]);
    expect(noCert.code).toBe(3);
    const half = await stackyard(['nodes', '--site', 'ac', '--monitoring', grpcAddr(), '--tls-cert', f('client.crt')]);
    expect(half.code).toBe(64);
    expect(half.stderr).toContain('--tls-cert and --tls-key go together (mutual TLS): --tls-key is missing');
  });

  it('CLI: lists with a viewer token, and an operator of the site retries the failed node to ready (token and TLS from the environment)', async () => {
    const list = await stackyard(['nodes', '--site', 'ac', '--monitoring', grpcAddr(), '--token', TOKENS.viewer, ...mtls()]);
    expect(list.code, list.stderr).toBe(1);
    expect(list.stdout).toMatch(/cmp-02\s+compute\s+failed\s+enrolled\s+inspect: BmcError/);
    const env = { STACKYARD_TOKEN: TOKENS.operator, STACKYARD_TLS_CA: f('ca.crt'), STACKYARD_TLS_CERT: f('client.crt'), STACKYARD_TLS_KEY: f('client.key'), STACKYARD_MONITORING: grpcAddr() };
    const retry = await stackyard(['retry', 'ac-cmp-02'], env);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain('cmp-02: retry 1 requested');
    await eventually(async () => ((await nodes()).find((n) => n.hostId === 'ac-cmp-02')?.state === 'ready' ? true : undefined), 20_000, 'cmp-02 ready after the retry');
    const done = await stackyard(['nodes', '--site', 'ac', '--json'], env);
    expect(done.code, done.stderr).toBe(0);
    expect((JSON.parse(done.stdout) as { name: string; state: string; retries: number }[]).map((n) => [n.name, n.state, n.retries])).toEqual([
      ['cmp-01', 'ready', 0],
      ['cmp-02', 'ready', 1],
    ]);
  });
});
