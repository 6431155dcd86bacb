import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ferretGogc, freePort, REPO_ROOT, startFerretDb, startNatsServer, type LocalServer } from '@stackyard/devinfra';
import { natsUsersConfig } from '@stackyard/nats';

export const SERVICES = ['inventory', 'provisioning', 'network', 'deployment', 'monitoring'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface ServiceProcess {
  readonly name: ServiceName;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly process: ChildProcess;
  readonly logFile: string;
}

export interface LocalCluster {
  readonly natsUrl: string;
  readonly mongoUrl: string;
  /** 'postgresql' or 'sqlite' for a FerretDB started here, 'external' for MONGO_URL. */
  readonly mongoBackend: string;
  /** The PostgreSQL database of a FerretDB started here on PostgreSQL (bench statistics). */
  readonly postgresDb?: string | undefined;
  /** The process id of a FerretDB started here (bench CPU figures). */
  readonly ferretPid?: number | undefined;
  /** The process id of a nats-server started here (bench CPU figures). */
  readonly natsPid?: number | undefined;
  /** The current process of each service (replaced by `restart`). */
  readonly services: Record<ServiceName, ServiceProcess>;
  /** SIGKILLs a service: no graceful shutdown, events in flight stay unacknowledged. */
  kill(name: ServiceName): Promise<void>;
  /** Starts a killed or stopped service again on the same ports and waits until it is ready. */
  restart(name: ServiceName): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Use this NATS instead of starting one. */
  readonly natsUrl?: string | undefined;
  /** Use this MongoDB-wire server instead of starting FerretDB. */
  readonly mongoUrl?: string | undefined;
  readonly dbPrefix: string;
  readonly logDir: string;
  /** Extra environment for every service, then per service (e.g. lab latencies, faults). */
  readonly commonEnv?: Record<string, string>;
  readonly env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Extra node options for every service (e.g. `--cpu-prof`, which NODE_OPTIONS may not carry). */
  readonly nodeArgs?: readonly string[];
  readonly say: (line: string) => void;
}

async function waitReady(svc: ServiceProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (svc.process.exitCode !== null) {
      throw new Error(`${svc.name} exited with code ${svc.process.exitCode} during start; see ${svc.logFile}`);
    }
    try {
      // The answer must come from this service: a port picked free may have been taken meanwhile by
      // another process (then this one exits with EADDRINUSE, see startService below).
      const r = await fetch(`http://127.0.0.1:${svc.httpPort}/readyz`);
      if (r.status === 200 && ((await r.json()) as { service?: string }).service === svc.name) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${svc.name} was not ready within ${timeoutMs / 1000} s; see ${svc.logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function terminate(p: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise<void>((res) => {
    if (p.exitCode !== null || p.signalCode !== null) return res();
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.once('exit', () => {
      clearTimeout(t);
      res();
    });
    p.kill(signal);
  });
}

/** Starts the five services as processes, plus NATS and FerretDB where no URL is given. */
export async function startLocalCluster(opts: ClusterOptions): Promise<LocalCluster> {
  const owned: LocalServer[] = [];
  const natsUsers = new Map<ServiceName, string>();
  const procs = {} as Record<ServiceName, ServiceProcess>;
  const stopAll = async () => {
    await Promise.all(Object.values(procs).map((p) => terminate(p.process, 'SIGTERM')));
    for (const s of owned.reverse()) await s.stop();
  };
  try {
    mkdirSync(opts.logDir, { recursive: true });
    let natsUrl = opts.natsUrl;
    let natsPid: number | undefined;
    if (!natsUrl) {
      opts.say('starting nats-server with JetStream (local, private data directory, one user per service)...');
      // Each service gets its own NATS user, allowed to publish only its own context's events.
      for (const svc of SERVICES) natsUsers.set(svc, randomBytes(18).toString('base64url'));
      const n = await startNatsServer({ authorization: natsUsersConfig((svc) => natsUsers.get(svc as ServiceName)!) });
      owned.push(n);
      natsUrl = n.url;
      natsPid = n.process.pid;
    }
    let mongoUrl = opts.mongoUrl;
    let mongoBackend = 'external';
    let postgresDb: string | undefined;
    let ferretPid: number | undefined;
    if (!mongoUrl) {
      const f = await startFerretDb();
      opts.say(`started FerretDB on ${f.backend === 'postgresql' ? 'the local PostgreSQL (a private database)' : 'SQLite (a private directory)'}: MongoDB wire protocol`);
      owned.push(f);
      mongoUrl = f.url;
      mongoBackend = `FerretDB on ${f.backend} (GOGC ${ferretGogc()})`;
      postgresDb = f.postgresDb;
      ferretPid = f.process.pid;
    }
    opts.say(`NATS ${natsUrl}  MongoDB ${mongoUrl}`);
    const launch = (name: ServiceName, grpcPort: number, httpPort: number): ServiceProcess => {
      const logFile = join(opts.logDir, `${name}.log`);
      const out = createWriteStream(logFile, { flags: 'a' });
      // eslint-disable-next-line n/no-process-env
      const parentEnv = process.env;
      const proc = spawn(
        process.execPath,
        [...(opts.nodeArgs ?? []), '--conditions=@stackyard/source', '--import', 'tsx', '--import', './src/instrumentation.ts', 'src/main.ts'],
        {
          cwd: join(REPO_ROOT, 'services', name),
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...parentEnv,
            OTEL_TRACES_EXPORTER: parentEnv['OTEL_TRACES_EXPORTER'] ?? 'none',
            OTEL_METRICS_EXPORTER: parentEnv['OTEL_METRICS_EXPORTER'] ?? 'none',
            OTEL_LOGS_EXPORTER: parentEnv['OTEL_LOGS_EXPORTER'] ?? 'none',
            NATS_URL: natsUrl,
            ...(natsUsers.has(name) ? { NATS_USER: name, NATS_PASSWORD: natsUsers.get(name)! } : {}),
            MONGO_URL: mongoUrl,
            MONGO_DB_PREFIX: opts.dbPrefix,
            GRPC_PORT: String(grpcPort),
            HTTP_PORT: String(httpPort),
            ...(opts.commonEnv ?? {}),
            ...(opts.env?.[name] ?? {}),
          },
        },
      );
      // Two sources into one file: neither may end it (stderr can still write after stdout ended);
      // it ends once the process and both of its streams are closed.
      proc.stdout?.pipe(out, { end: false });
      proc.stderr?.pipe(out, { end: false });
      proc.once('close', () => out.end());
      return { name, grpcPort, httpPort, process: proc, logFile };
    };
    opts.say(`starting ${SERVICES.join(', ')} (logs in ${opts.logDir})...`);
    // Ports are picked free and then bound by the child: another process can take one in between.
    // A service that exits on EADDRINUSE during its first start is started again on new ports.
    const startFresh = async (name: ServiceName): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        procs[name] = launch(name, await freePort(), await freePort());
        try {
          return await waitReady(procs[name], 60_000);
        } catch (e) {
          const log = await readFile(procs[name].logFile, 'utf8').catch(() => '');
          if (attempt >= 3 || !/EADDRINUSE/.test(log.split('\n').slice(-5).join('\n'))) throw e;
        }
      }
    };
    await Promise.all(SERVICES.map(startFresh));
    return {
      natsUrl,
      mongoUrl,
      mongoBackend,
      postgresDb,
      ferretPid,
      natsPid,
      services: procs,
      kill: (name) => terminate(procs[name].process, 'SIGKILL'),
      restart: async (name) => {
        const old = procs[name];
        await terminate(old.process, 'SIGTERM');
        procs[name] = launch(name, old.grpcPort, old.httpPort);
        await waitReady(procs[name], 60_000);
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
