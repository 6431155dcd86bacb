import type { FastifyInstance } from 'fastify';
import { isStackyardError, ValidationError } from '@stackyard/errors';
import { assertToken } from '@stackyard/events';
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
 * `/api/nodes?site=` and `/api/stream?site=` (server-sent events: every node, then every change).
 */
export function registerDashboard(app: FastifyInstance, svc: MonitoringService, shutdown: AbortSignal): void {
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof ValidationError) return reply.code(400).send({ error: err.message, field: err.field });
    if (isStackyardError(err) && err.reason === 'NotFound') return reply.code(404).send({ error: err.message });
    if (isStackyardError(err) && err.reason === 'InvalidTransition') return reply.code(409).send({ error: err.message });
    return reply.code(500).send({ error: 'internal error' });
  });
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(DASHBOARD_HTML));
  app.get('/api/sites', async () => {
    const sites = new Map<string, number>();
    for (const r of await svc.list('')) sites.set(r.data.host.siteId, (sites.get(r.data.host.siteId) ?? 0) + 1);
    return { sites: [...sites].map(([id, nodes]) => ({ id, nodes })) };
  });
  app.get('/api/nodes', async (req) => ({ nodes: (await svc.list(siteParam(req.query))).map(nodeView) }));
  // Prometheus: file_sd targets of the deployed cloud (ready nodes) and alert rules.
  app.get('/api/prometheus/targets', async (req) => {
    const q = req.query as { network?: unknown };
    const network = typeof q.network === 'string' && q.network ? q.network : 'internal';
    return scrapeTargets((await svc.list(siteParam(req.query))).map((r) => r.data), network);
  });
  app.post('/api/nodes/:hostId/retry', async (req) => nodeView(await svc.retry((req.params as { hostId: string }).hostId, 'dashboard')));
  app.post('/api/nodes/:hostId/abort', async (req) => nodeView(await svc.abort((req.params as { hostId: string }).hostId, 'dashboard')));
  app.get('/api/prometheus/rules', async (_req, reply) => reply.type('application/yaml').send(alertRules()));
  app.get('/api/stream', async (req, reply) => {
    const site = siteParam(req.query);
    const ac = new AbortController();
    const abort = () => ac.abort();
    req.raw.on('close', abort);
    shutdown.addEventListener('abort', abort, { once: true });
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const ping = setInterval(() => reply.raw.write(': ping\n\n'), 15_000);
    try {
      await svc.watch(site, ac.signal, (r) => reply.raw.write(`data: ${JSON.stringify(nodeView(r))}\n\n`), 1000);
    } finally {
      clearInterval(ping);
      shutdown.removeEventListener('abort', abort);
      reply.raw.end();
    }
  });
}
