import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isStackyardError, PermissionDeniedError, UnauthenticatedError } from '@stackyard/errors';
import { authenticate, inScope, requireRole, requireSite, type Principal, type Role, type TokenStore } from '@stackyard/grpc';

/** The cookie the login form sets: the token itself, HttpOnly and SameSite=Strict. */
export const SESSION_COOKIE = 'stackyard_token';
/** The header a cookie-authenticated mutation must carry (a cross-site form or fetch cannot set it). */
export const CSRF_HEADER = 'x-stackyard-csrf';
/** How long the login cookie lives, in seconds. */
export const SESSION_MAX_AGE_S = 12 * 3600;

/** Per-route settings, in fastify's route `config: { auth: {...} }`. */
export interface RouteAuth {
  /** Open to everyone (the login form itself). */
  readonly public?: boolean;
  /** The role needed; by default viewer for GET/HEAD and operator for every other method. */
  readonly role?: Role;
}

/** What the routes of a token-guarded scope use to filter and check sites. */
export interface HttpAuth {
  /** False when no AUTH_TOKENS_FILE is configured: everything is open. */
  readonly enabled: boolean;
  /** The caller of a request (undefined when auth is off). */
  principal(req: FastifyRequest): Principal | undefined;
  /** Whether the caller may see a site (always true when auth is off). */
  canSee(req: FastifyRequest, site: string): boolean;
  /** Throws PermissionDeniedError unless the caller may act on `site`. */
  requireSite(req: FastifyRequest, site: string): void;
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

const safeMethod = (m: string) => m === 'GET' || m === 'HEAD' || m === 'OPTIONS';

/** A browser request from another origin: its Origin differs from our Host, or Fetch Metadata says cross-site. */
function crossSite(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    // Compared as URLs, so a default port written out (":80") does not count as another origin.
    const o = new URL(origin);
    return o.host !== new URL(`${o.protocol}//${req.headers.host ?? ''}`).host;
  } catch {
    return true;
  }
}

/** Only a local path may follow a login (no open redirect to another site). */
function localPath(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(title: string, next: string, error?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; color: #1f2328; background: #f6f8fa; margin: 0; }
  header { background: #24292f; color: #fff; padding: 12px 24px; } header h1 { font-size: 18px; margin: 0; }
  form { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 16px 24px; margin: 32px auto; max-width: 420px; }
  input[type=password] { width: 100%; box-sizing: border-box; font: inherit; padding: 6px 8px; margin: 6px 0 12px; }
  button { font: inherit; padding: 4px 14px; } .error { color: #cf222e; } .muted { color: #656d76; font-size: 12px; }
</style></head>
<body><header><h1>${esc(title)}</h1></header>
<form method="post" action="/login">
  <label for="token">API token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <input type="hidden" name="next" value="${esc(next)}">
  ${error ? `<p class="error" id="login-error">${esc(error)}</p>` : ''}
  <button type="submit">Sign in</button>
  <p class="muted">A token from AUTH_TOKENS_FILE (viewer to watch, operator to retry or abort). It is kept in an HttpOnly cookie for ${SESSION_MAX_AGE_S / 3600} hours.</p>
</form></body></html>`;
}

function sessionCookie(req: FastifyRequest, value: string, maxAge: number): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${req.protocol === 'https' ? '; Secure' : ''}`;
}

/** Sends a denial: 401 or 403 with `{error, reason}` and the reason in `x-stackyard-reason`. */
function deny(req: FastifyRequest, reply: FastifyReply, e: unknown): FastifyReply {
  const reason = isStackyardError(e) ? e.reason : 'PermissionDenied';
  const unauthenticated = reason === 'Unauthenticated';
  // A person opening a page is sent to the login form; scripts get the status.
  if (unauthenticated && req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
    return reply.code(303).header('location', `/login?next=${encodeURIComponent(req.url)}`).send();
  }
  if (unauthenticated) reply.header('www-authenticate', 'Bearer realm="stackyard"');
  return reply
    .code(unauthenticated ? 401 : 403)
    .header('x-stackyard-reason', reason)
    .send({ error: (e as Error).message, reason });
}

/**
 * Puts every route of `scope` behind the API tokens of libs/grpc (same store, roles and site
 * scope as the gRPC API): `Authorization: Bearer <token>` for scripts, or the HttpOnly,
 * SameSite=Strict cookie set by the login form (`GET/POST /login`, `POST /logout`) for browsers.
 * A cookie-authenticated mutation must also carry `x-stackyard-csrf: 1` and come from the same
 * origin. Adds `GET /api/whoami`. Without `tokens` nothing is checked (development only).
 * Register it inside a plugin scope so /healthz, /readyz and /metrics of the root stay open.
 */
export function registerTokenAuth(scope: FastifyInstance, tokens: TokenStore | undefined, opts: { title: string }): HttpAuth {
  const principals = new WeakMap<FastifyRequest, Principal>();
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  scope.addHook('onRequest', async (req, reply) => {
    const cfg = (req.routeOptions.config as { auth?: RouteAuth } | undefined)?.auth;
    if (!tokens || cfg?.public) return;
    const header = req.headers.authorization;
    const fromCookie = header === undefined ? cookie(req.headers.cookie, SESSION_COOKIE) : undefined;
    try {
      const p = authenticate(tokens, header ?? (fromCookie !== undefined ? `Bearer ${fromCookie}` : undefined));
      requireRole(p, cfg?.role ?? (safeMethod(req.method) ? 'viewer' : 'operator'), `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`);
      // A cookie rides along on any request the browser makes: a mutation must prove it comes from our page.
      if (fromCookie !== undefined && !safeMethod(req.method) && (crossSite(req) || req.headers[CSRF_HEADER] !== '1')) {
        throw new PermissionDeniedError(`cross-site request refused: a browser mutation needs the ${CSRF_HEADER} header from this origin`);
      }
      principals.set(req, p);
    } catch (e) {
      return deny(req, reply, e);
    }
  });

  const open = { auth: { public: true } satisfies RouteAuth };
  scope.get('/login', { config: open }, async (req, reply) => {
    const next = localPath((req.query as { next?: unknown }).next);
    if (!tokens) return reply.code(303).header('location', next).send();
    return reply.type('text/html; charset=utf-8').send(loginPage(opts.title, next));
  });
  scope.post('/login', { config: open }, async (req, reply) => {
    const body = (req.body ?? {}) as { token?: unknown; next?: unknown };
    const next = localPath(body.next);
    if (!tokens) return reply.code(303).header('location', next).send();
    if (crossSite(req)) return deny(req, reply, new PermissionDeniedError('cross-site login refused'));
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    const p = token ? tokens.lookup(token) : undefined;
    if (!p) {
      return reply
        .code(401)
        .header('x-stackyard-reason', 'Unauthenticated')
        .type('text/html; charset=utf-8')
        .send(loginPage(opts.title, next, token ? 'token: not a valid API token' : 'token: required'));
    }
    return reply.code(303).header('set-cookie', sessionCookie(req, token, SESSION_MAX_AGE_S)).header('location', next).send();
  });
  scope.post('/logout', { config: open }, async (req, reply) =>
    reply.code(303).header('set-cookie', sessionCookie(req, '', 0)).header('location', '/login').send(),
  );
  scope.get('/api/whoami', async (req) => {
    const p = principals.get(req);
    return p ? { auth: true, name: p.name, role: p.role, sites: p.sites } : { auth: false };
  });

  return {
    enabled: Boolean(tokens),
    principal: (req) => principals.get(req),
    canSee: (req, site) => {
      const p = principals.get(req);
      return !tokens || (p !== undefined && inScope(p, site));
    },
    requireSite: (req, site) => {
      if (!tokens) return;
      const p = principals.get(req);
      if (!p) throw new UnauthenticatedError('missing API token');
      requireSite(p, site);
    },
  };
}
