import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isStackyardError, ValidationError } from '@stackyard/errors';
import { assertToken } from '@stackyard/events';
import type { TokenStore } from '@stackyard/grpc';
import { registerTokenAuth, type HttpAuth } from '@stackyard/http';
import type { MonitoringService } from '../../application/monitoring';
import { STEPS, degradedReasons, type ProgressData } from '../../domain/progress';
import { alertRules, scrapeTargets } from '../../domain/prometheus';
import { DASHBOARD_HTML } from './dashboard-page';

/** The JSON shape the dashboard (and scripts) read: one node's saga. */
export function nodeView(r: { data: ProgressData; version: number }) {
  const d = r.data;
  const failedStep = d.state === 'failed' ? STEPS.find((s) => d.steps[s] === undefined) : undefined;
  return {
    hostId: d.host.hostId,
    site: d.host.siteId,
    name: d.host.name,
    groups: d.host.groups,
    state: d.state,
    version: r.version,
    steps: STEPS.map((name) => ({ name, state: d.steps[name] !== undefined ? 'done' : name === failedStep ? 'failed' : 'pending', at: d.steps[name] ?? null })),
    failure: d.state === 'failed' ? (d.lastFailure ?? null) : null,
    retries: d.retries ?? 0,
    // While degraded: since when, why, and the unhealthy containers (the row's detail).
    degraded:
      d.state === 'degraded'
        ? { since: d.degradedSince ?? null, reasons: degradedReasons(d.health), containers: (d.health?.unhealthyContainers ?? []).map((c) => c.name) }
        : null,
  };
}

function siteParam(q: unknown): string {
  const site = (q as { site?: unknown }).site;
  if (typeof site !== 'string' || !site) throw new ValidationError('site', 'query parameter required');
  assertToken('site', site);
  return site;
}

/**
 * The live dashboard, served on monitoring's HTTP port: `/` (the page), `/api/sites`,
 * `/api/nodes?site=`, `/api/stream?site=` (server-sent events: every node, then every change),
 * Prometheus targets and rules, and the retry and abort actions. With `tokens` (AUTH_TOKENS_FILE)
 * every one of these needs a token (libs/http registerTokenAuth): viewer to read, operator to
 * retry or abort, and a site-scoped token sees and acts on its sites only. /healthz, /readyz and
 * /metrics are outside this scope and stay open for probes and scrapers.
 */
export function registerDashboard(app: FastifyInstance, svc: MonitoringService, shutdown: AbortSignal, tokens?: TokenStore): void {
  void app.register(async (scope) => dashboardRoutes(scope, svc, shutdown, tokens));
}

function dashboardRoutes(app: FastifyInstance, svc: MonitoringService, shutdown: AbortSignal, tokens: TokenStore | undefined): void {
  const auth: HttpAuth = registerTokenAuth(app, tokens, { title: 'Stackyard' });
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof ValidationError) return reply.code(400).send({ error: err.message, field: err.field });
    if (isStackyardError(err) && err.reason === 'NotFound') return reply.code(404).send({ error: err.message });
    if (isStackyardError(err) && err.reason === 'InvalidTransition') return reply.code(409).send({ error: err.message });
    if (isStackyardError(err) && (err.reason === 'PermissionDenied' || err.reason === 'Unauthenticated')) {
      return reply.code(err.reason === 'PermissionDenied' ? 403 : 401).header('x-stackyard-reason', err.reason).send({ error: err.message, reason: err.reason });
    }
    return reply.code(500).send({ error: 'internal error' });
  });
  // A site the caller names: valid, and inside the caller's token scope.
  const site = (req: FastifyRequest) => {
    const s = siteParam(req.query);
    auth.requireSite(req, s);
    return s;
  };
  // An action on a node: the node's own site must be in the caller's scope (checked before anything is written).
  const nodeAction = async (req: FastifyRequest, act: (hostId: string) => Promise<Parameters<typeof nodeView>[0]>) => {
    const hostId = (req.params as { hostId: string }).hostId;
    auth.requireSite(req, (await svc.get(hostId)).data.host.siteId);
    return nodeView(await act(hostId));
  };
  const by = (req: FastifyRequest) => {
    const p = auth.principal(req);
    return p ? `dashboard:${p.name}` : 'dashboard';
  };
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(DASHBOARD_HTML));
  app.get('/api/sites', async (req) => {
    const sites = new Map<string, number>();
    for (const r of await svc.list('')) {
      if (auth.canSee(req, r.data.host.siteId)) sites.set(r.data.host.siteId, (sites.get(r.data.host.siteId) ?? 0) + 1);
    }
    return { sites: [...sites].map(([id, nodes]) => ({ id, nodes })) };
  });
  app.get('/api/nodes', async (req) => ({ nodes: (await svc.list(site(req))).map(nodeView) }));
  // Prometheus: file_sd targets of the deployed cloud (ready nodes) and alert rules.
  app.get('/api/prometheus/targets', async (req) => {
    const q = req.query as { network?: unknown };
    const network = typeof q.network === 'string' && q.network ? q.network : 'internal';
    return scrapeTargets((await svc.list(site(req))).map((r) => r.data), network);
  });
  app.post('/api/nodes/:hostId/retry', async (req) => nodeAction(req, (id) => svc.retry(id, by(req))));
  app.post('/api/nodes/:hostId/abort', async (req) => nodeAction(req, (id) => svc.abort(id, by(req))));
  app.get('/api/prometheus/rules', async (_req, reply) => reply.type('application/yaml').send(alertRules()));
  app.get('/api/stream', async (req, reply) => {
    const s = site(req);
    const ac = new AbortController();
    const abort = () => ac.abort();
    req.raw.on('close', abort);
    shutdown.addEventListener('abort', abort, { once: true });
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const ping = setInterval(() => reply.raw.write(': ping\n\n'), 15_000);
    try {
      await svc.watch(s, ac.signal, (r) => reply.raw.write(`data: ${JSON.stringify(nodeView(r))}\n\n`), 1000);
    } finally {
      clearInterval(ping);
      shutdown.removeEventListener('abort', abort);
      reply.raw.end();
    }
  });
}
