import type { Db, Document } from 'mongodb';
import { Counter, Histogram } from 'prom-client';
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { ConfigError, parseConfig, tlsProblems, type BaseConfig, type z } from '@stackyard/config';
import { startGrpcServer, TokenStore, type GrpcServer } from '@stackyard/grpc';
import { createOpsServer, type OpsServer } from '@stackyard/http';
import { AggregateStore, connectMongo, inboxKey, OutboxRelay, type MongoConnection, type StoreOptions } from '@stackyard/mongo';
import { connectBus, ensureTopologyStreams, EventConsumer, publisherFor, topologyFromConfig, type Bus, type ConsumerSpec, type HandleOutcome } from '@stackyard/nats';
import type { Envelope, EventType } from '@stackyard/events';
import { createLogger, shutdownTelemetry, type Logger } from '@stackyard/telemetry';

/** What a saga step handler gets besides its event: its inbox key and whether this is the last delivery. */
export interface StepDelivery {
  readonly appliedKey: string;
  readonly lastAttempt: boolean;
}

/**
 * A durable consumer whose handler writes through the outbox store: the inbox key is
 * `<durable>~<ce-id>` (one per consumer and event), `lastAttempt` from the delivery count.
 */
export function stepConsumer<T>(
  durable: string,
  event: EventType<T>,
  concurrency: number,
  run: (env: Envelope<T>, delivery: StepDelivery) => Promise<HandleOutcome>,
  maxDeliver?: number,
): ConsumerSpec<T> {
  return {
    durable,
    event,
    concurrency,
    ...(maxDeliver !== undefined ? { maxDeliver } : {}),
    handle: (env, ctx) => run(env, { appliedKey: inboxKey(durable, env.id), lastAttempt: ctx.lastAttempt }),
  };
}

/** What a service's composition root gets to wire its adapters. */
export interface Kit {
  readonly name: string;
  readonly config: BaseConfig;
  readonly log: Logger;
  readonly db: Db;
  readonly bus: Bus;
  readonly ops: OpsServer;
  /** The API tokens of AUTH_TOKENS_FILE (undefined: open, development only); the gRPC server and HTTP routes that want them check them. */
  readonly tokens: TokenStore | undefined;
  /** An aggregate collection whose outbox the relay publishes. */
  store<T extends Document>(collection: string, kind: string, options?: StoreOptions<T>): AggregateStore<T>;
}

export interface Wiring {
  readonly grpc: readonly { name: string; definition: ServiceDefinition; impl: UntypedServiceImplementation }[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly consumers: readonly ConsumerSpec<any>[];
  /** Called first on stop (e.g. to end gRPC streams). */
  readonly beforeStop?: () => Promise<void> | void;
}

export interface RunningService {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly kit: Kit;
  stop(): Promise<void>;
}

/**
 * Starts a Stackyard service: MongoDB, NATS streams, the outbox relay, durable consumers, the gRPC
 * server with health, and the ops HTTP server; stops them in the order of STYLE G.
 */
export async function startService(
  name: string,
  config: BaseConfig,
  wire: (kit: Kit) => Promise<Wiring> | Wiring,
  opts: { log?: Logger } = {},
): Promise<RunningService> {
  const log = opts.log ?? createLogger(name, { level: config.LOG_LEVEL });
  let mongo: MongoConnection | undefined;
  let bus: Bus | undefined;
  // Shutdown steps by name, run in STYLE G's order whatever order they were started in.
  const steps: Partial<Record<'consumers' | 'grpc' | 'http' | 'relay' | 'nats' | 'mongo', () => Promise<void>>> = {};
  const ORDER = ['consumers', 'grpc', 'http', 'relay', 'nats', 'mongo'] as const;
  const runSteps = async (onError: (e: unknown) => void) => {
    for (const k of ORDER) {
      const f = steps[k];
      delete steps[k];
      if (f) await f().catch(onError);
    }
  };
  try {
    mongo = await connectMongo(config.MONGO_URL, { appName: name });
    const m = mongo;
    steps.mongo = () => m.close();
    bus = await connectBus(config.NATS_URL, name, { user: config.NATS_USER, pass: config.NATS_PASSWORD });
    const b = bus;
    steps.nats = () => b.close();
    // The streams this process needs: one per context (or the hub/site layout of docs/scale-out.md),
    // with STREAM_REPLICAS copies when set.
    await ensureTopologyStreams(bus.jsm, topologyFromConfig(config), { replicas: config.STREAM_REPLICAS });
    const db = mongo.db(`${config.MONGO_DB_PREFIX}_${name}`);
    const ops = createOpsServer(name, [
      { name: 'nats', check: () => !b.nc.isClosed() },
      { name: 'mongodb', check: async () => (await db.command({ ping: 1 })).ok === 1 },
    ]);
    const published = new Counter({
      name: 'stackyard_outbox_published_total',
      help: 'Events published by the outbox relay',
      registers: [ops.registry],
    });
    const publish = publisherFor(bus.js);
    const relay = new OutboxRelay(async (e) => {
      await publish(e);
      published.inc();
    }, log);
    const stores: AggregateStore<Document>[] = [];
    const tokens = config.AUTH_TOKENS_FILE ? TokenStore.fromFile(config.AUTH_TOKENS_FILE) : undefined;
    const kit: Kit = {
      name,
      config,
      log,
      db,
      bus,
      ops,
      tokens,
      store: <T extends Document>(collection: string, kind: string, options?: StoreOptions<T>) => {
        const s: AggregateStore<T> = new AggregateStore<T>(
          db,
          collection,
          kind,
          (rev) => relay.written(s as unknown as AggregateStore<Document>, rev),
          { log, ...options },
        );
        stores.push(s as unknown as AggregateStore<Document>);
        relay.add(s as unknown as AggregateStore<Document>);
        return s;
      },
    };
    const wiring = await wire(kit);
    for (const s of stores) await s.ensureIndexes();
    relay.start();
    steps.relay = () => relay.stop();

    const handled = new Counter({
      name: 'stackyard_events_handled_total',
      help: 'Events handled by consumers, by outcome',
      labelNames: ['consumer', 'outcome'],
      registers: [ops.registry],
    });
    const duration = new Histogram({
      name: 'stackyard_event_handle_seconds',
      help: 'Time to handle one event (saga step duration as seen by its consumer)',
      labelNames: ['consumer'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [ops.registry],
    });
    const metrics = {
      handled: (c: string, outcome: string, s: number) => {
        handled.inc({ consumer: c, outcome });
        duration.observe({ consumer: c }, s);
      },
    };
    const consumers = wiring.consumers.map((spec) => new EventConsumer(b, { ackWaitMs: config.CONSUMER_ACK_WAIT_MS, ...spec }, log.child({ consumer: spec.durable }), metrics));
    for (const c of consumers) await c.start();
    steps.consumers = async () => {
      await Promise.all(consumers.map((c) => c.stop()));
    };

    const problems = tlsProblems(config);
    if (problems.length) throw new ConfigError(problems);
    if (!tokens) log.warn({}, 'AUTH_TOKENS_FILE is not set: the gRPC API (and the dashboard of monitoring) accepts every caller (development only)');
    const grpc: GrpcServer = await startGrpcServer(config.GRPC_HOST, config.GRPC_PORT, wiring.grpc, {
      tls: config.GRPC_TLS_CERT_FILE && config.GRPC_TLS_KEY_FILE
        ? { certFile: config.GRPC_TLS_CERT_FILE, keyFile: config.GRPC_TLS_KEY_FILE, clientCaFile: config.GRPC_TLS_CLIENT_CA_FILE }
        : undefined,
      tokens,
      log,
    });
    steps.grpc = () => grpc.stop(5000);
    const httpPort = await ops.listen(config.HTTP_HOST, config.HTTP_PORT);
    steps.http = () => ops.close();
    grpc.setServing(true);
    ops.setReady(true);
    log.info({ grpcPort: grpc.port, httpPort }, `${name} started`);

    let stopping: Promise<void> | undefined;
    return {
      grpcPort: grpc.port,
      httpPort,
      kit,
      stop: () =>
        (stopping ??= (async () => {
          ops.setReady(false);
          grpc.setServing(false);
          await wiring.beforeStop?.();
          await runSteps((e: unknown) => log.warn({ err: e }, 'error during shutdown'));
          log.info({}, `${name} stopped`);
        })()),
    };
  } catch (e) {
    await runSteps(() => undefined);
    throw e;
  }
}

/**
 * main(): parse config (every problem listed, exit 1), start, stop on SIGTERM/SIGINT with a force
 * timeout. Nothing else reads process.env.
 */
export function runMain<S extends z.ZodTypeAny>(
  name: string,
  schema: S,
  start: (config: Readonly<z.infer<S>>) => Promise<RunningService>,
): void {
  let config: Readonly<z.infer<S>>;
  try {
    // eslint-disable-next-line n/no-process-env
    config = parseConfig(schema, process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${name}: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  start(config).then(
    (svc) => {
      const shutdown = (signal: string) => {
        const force = setTimeout(() => {
          process.stderr.write(`${name}: shutdown did not finish in time, exiting\n`);
          process.exit(1);
        }, (config as BaseConfig).SHUTDOWN_TIMEOUT_MS);
        force.unref();
        process.stderr.write(`${name}: ${signal} received, shutting down\n`);
        svc
          .stop()
          .then(() => shutdownTelemetry())
          .then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    },
    (e: unknown) => {
      process.stderr.write(`${name}: failed to start: ${(e as Error).message}${(e as Error).cause ? ` (${String((e as { cause: unknown }).cause)})` : ''}\n`);
      process.exit(1);
    },
  );
}
