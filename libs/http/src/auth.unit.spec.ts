import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, TokenStore } from '@stackyard/grpc';
import { registerTokenAuth, SESSION_COOKIE } from './auth';

// The HTTP side of the API tokens, through fastify.inject: bearer and cookie logins, roles, sites, CSRF.
const TOK = { viewer: 'v-0123456789', operator: 'o-0123456789', dc2: 'd2-0123456789' };
const store = new TokenStore([
  { name: 'noc', role: 'viewer', sites: ['*'], tokenSha256: sha256Hex(TOK.viewer) },
  { name: 'ops', role: 'operator', sites: ['*'], tokenSha256: sha256Hex(TOK.operator) },
  { name: 'dc2-ops', role: 'operator', sites: ['dc2'], tokenSha256: sha256Hex(TOK.dc2) },
]);

function build(tokens: TokenStore | undefined): FastifyInstance {
  const app = Fastify();
  app.get('/healthz', async () => ({ status: 'ok' }));
  void app.register(async (scope) => {
    const auth = registerTokenAuth(scope, tokens, { title: 'Test' });
    scope.get('/', async (_req, reply) => reply.type('text/html').send('<p>page</p>'));
    scope.get('/api/site/:site', async (req) => {
      auth.requireSite(req, (req.params as { site: string }).site);
      return { ok: true, who: auth.principal(req)?.name ?? null };
    });
    scope.post('/api/act', async (req) => ({ done: true, who: auth.principal(req)?.name ?? null }));
    scope.setErrorHandler((err, _req, reply) => reply.code(403).send({ error: (err as Error).message }));
  });
  return app;
}

describe('registerTokenAuth', () => {
  const app = build(store);
  const open = build(undefined);
  beforeAll(async () => {
    await app.ready();
    await open.ready();
  });
  afterAll(async () => {
    await app.close();
    await open.close();
  });
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const cookieOf = (t: string) => ({ cookie: `other=1; ${SESSION_COOKIE}=${encodeURIComponent(t)}` });

  it('leaves routes outside its scope open (probes)', async () => {
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('refuses a missing or unknown token with 401 and the reason, and sends browsers to the login form', async () => {
    const none = await app.inject({ url: '/api/site/dc1' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['x-stackyard-reason']).toBe('Unauthenticated');
    expect(none.json().error).toMatch(/missing API token/);
    const bad = await app.inject({ url: '/api/site/dc1', headers: bearer('nope') });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().error).toBe('invalid API token');
    expect((await app.inject({ url: '/api/site/dc1', headers: cookieOf('nope') })).statusCode).toBe(401);
    const page = await app.inject({ url: '/?site=dc1', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/login?next=%2F%3Fsite%3Ddc1');
  });

  it('lets a viewer read but not mutate (403 naming the role)', async () => {
    expect((await app.inject({ url: '/api/site/dc1', headers: bearer(TOK.viewer) })).json()).toEqual({ ok: true, who: 'noc' });
    const act = await app.inject({ method: 'POST', url: '/api/act', headers: bearer(TOK.viewer) });
    expect(act.statusCode).toBe(403);
    expect(act.headers['x-stackyard-reason']).toBe('PermissionDenied');
    expect(act.json().error).toBe('noc (viewer) may not call POST /api/act: it needs the operator role');
    expect((await app.inject({ method: 'POST', url: '/api/act', headers: bearer(TOK.operator) })).json()).toEqual({ done: true, who: 'ops' });
  });

  it('keeps a site-scoped token inside its sites', async () => {
    expect((await app.inject({ url: '/api/site/dc2', headers: bearer(TOK.dc2) })).statusCode).toBe(200);
    const other = await app.inject({ url: '/api/site/dc1', headers: bearer(TOK.dc2) });
    expect(other.statusCode).toBe(403);
    expect(other.json().error).toBe('dc2-ops may not act on site "dc1"');
  });

  it('logs in with a token into an HttpOnly, SameSite=Strict cookie, and out again', async () => {
    const form = await app.inject({ url: '/login?next=/%3Fsite%3Ddc1' });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('name="token"');
    const login = await app.inject({ method: 'POST', url: '/login', payload: `token=${TOK.operator}&next=%2F%3Fsite%3Ddc1`, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80', host: 'localhost:80' } });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/?site=dc1');
    const set = String(login.headers['set-cookie']);
    expect(set).toMatch(new RegExp(`^${SESSION_COOKIE}=${TOK.operator}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200$`));
    expect((await app.inject({ url: '/api/whoami', headers: cookieOf(TOK.operator) })).json()).toEqual({ auth: true, name: 'ops', role: 'operator', sites: ['*'] });
    const out = await app.inject({ method: 'POST', url: '/logout' });
    expect(out.statusCode).toBe(303);
    expect(String(out.headers['set-cookie'])).toMatch(new RegExp(`^${SESSION_COOKIE}=; .*Max-Age=0`));
  });

  it('refuses a bad login naming the field, and never redirects off-site', async () => {
    const ct = { 'content-type': 'application/x-www-form-urlencoded' };
    const bad = await app.inject({ method: 'POST', url: '/login', payload: 'token=wrong', headers: ct });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['set-cookie']).toBeUndefined();
    expect(bad.body).toContain('token: not a valid API token');
    const empty = await app.inject({ method: 'POST', url: '/login', payload: 'token=', headers: ct });
    expect(empty.body).toContain('token: required');
    const off = await app.inject({ method: 'POST', url: '/login', payload: `token=${TOK.viewer}&next=%2F%2Fevil.example`, headers: ct });
    expect(off.headers.location).toBe('/');
    const cross = await app.inject({ method: 'POST', url: '/login', payload: `token=${TOK.viewer}`, headers: { ...ct, origin: 'https://evil.example', host: 'localhost' } });
    expect(cross.statusCode).toBe(403);
    expect(cross.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a cookie-authenticated mutation without the CSRF header or from another origin', async () => {
    const c = cookieOf(TOK.operator);
    const noHeader = await app.inject({ method: 'POST', url: '/api/act', headers: c });
    expect(noHeader.statusCode).toBe(403);
    expect(noHeader.json().error).toMatch(/cross-site request refused/);
    const crossOrigin = await app.inject({ method: 'POST', url: '/api/act', headers: { ...c, 'x-stackyard-csrf': '1', origin: 'https://evil.example', host: 'localhost' } });
    expect(crossOrigin.statusCode).toBe(403);
    const fetchMeta = await app.inject({ method: 'POST', url: '/api/act', headers: { ...c, 'x-stackyard-csrf': '1', 'sec-fetch-site': 'cross-site' } });
    expect(fetchMeta.statusCode).toBe(403);
    const same = await app.inject({ method: 'POST', url: '/api/act', headers: { ...c, 'x-stackyard-csrf': '1', origin: 'http://localhost', host: 'localhost', 'sec-fetch-site': 'same-origin' } });
    expect(same.json()).toEqual({ done: true, who: 'ops' });
  });

  it('checks nothing without a token store (development)', async () => {
    expect((await open.inject({ method: 'POST', url: '/api/act' })).json()).toEqual({ done: true, who: null });
    expect((await open.inject({ url: '/api/whoami' })).json()).toEqual({ auth: false });
    expect((await open.inject({ url: '/login' })).statusCode).toBe(303);
  });
});
