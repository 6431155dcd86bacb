import Fastify, { type FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';

export interface HealthCheck {
  readonly name: string;
  check(): Promise<boolean> | boolean;
}

export interface OpsServer {
  readonly app: FastifyInstance;
  readonly registry: Registry;
  setReady(ready: boolean): void;
  listen(host: string, port: number): Promise<number>;
  /**
   * Stops listening and waits for requests in flight; after `graceMs` the connections still open
   * are destroyed (a client that stopped reading a response, or a stream nobody ended, must not hold
   * the shutdown for ever).
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * How often prom-client samples the event loop's delay for `nodejs_eventloop_lag_*` (ms). Its
 * default, 10 ms, is a timer waking every process 100 times a second: about 9 ms of CPU per second
 * per idle service on the 2-core machine, 40 % of what the five idle services burn
 * (docs/performance.md, session 17). At 100 ms the percentiles come from 10 samples a second.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * The operations HTTP server of every service (separate port from gRPC): /healthz (the process is
 * alive), /readyz (dependencies reachable and not shutting down), /metrics (Prometheus).
 */
export function createOpsServer(service: string, checks: readonly HealthCheck[], registry = new Registry()): OpsServer {
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const app = Fastify({ logger: false });
  let ready = false;
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const results: Record<string, boolean> = {};
    for (const c of checks) {
      try {
        results[c.name] = await c.check();
      } catch {
        results[c.name] = false;
      }
    }
    const ok = ready && Object.values(results).every(Boolean);
    return reply.code(ok ? 200 : 503).send({ service, status: ok ? 'ready' : 'not ready', accepting: ready, checks: results });
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return {
    app,
    registry,
    setReady: (r) => {
      ready = r;
    },
    listen: async (host, port) => {
      await app.listen({ host, port });
      const addr = app.server.address();
      return typeof addr === 'object' && addr ? addr.port : port;
    },
    close: async (graceMs = 5000) => {
      const force = setTimeout(() => app.server.closeAllConnections(), graceMs);
      try {
        await app.close();
      } finally {
        clearTimeout(force);
      }
    },
  };
}

export { registerTokenAuth, SESSION_COOKIE, CSRF_HEADER, SESSION_MAX_AGE_S, type HttpAuth, type RouteAuth } from './auth';
