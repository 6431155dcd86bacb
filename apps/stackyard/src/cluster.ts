import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, REPO_ROOT, startFerretDb, startNatsServer, type LocalServer } from '@stackyard/devinfra';

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
  readonly services: Record<ServiceName, ServiceProcess>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Use this NATS instead of starting one. */
  readonly natsUrl?: string | undefined;
  /** Use this MongoDB-wire server instead of starting FerretDB. */
  readonly mongoUrl?: string | undefined;
  readonly dbPrefix: string;
  readonly logDir: string;
  /** Extra environment per service (e.g. lab latencies, faults). */
  readonly env?: Partial<Record<ServiceName, Record<string, string>>>;
  readonly say: (line: string) => void;
}

async function waitReady(svc: ServiceProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (svc.process.exitCode !== null) {
      throw new Error(`${svc.name} exited with code ${svc.process.exitCode} during start; see ${svc.logFile}`);
    }
    try {
      const r = await fetch(`http://127.0.0.1:${svc.httpPort}/readyz`);
      if (r.status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${svc.name} was not ready within ${timeoutMs / 1000} s; see ${svc.logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the five services as processes, plus NATS and FerretDB where no URL is given. */
export async function startLocalCluster(opts: ClusterOptions): Promise<LocalCluster> {
  const owned: LocalServer[] = [];
  const procs: ServiceProcess[] = [];
  const stopAll = async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((res) => {
            if (p.process.exitCode !== null || p.process.signalCode !== null) return res();
            const t = setTimeout(() => p.process.kill('SIGKILL'), 10_000);
            p.process.once('exit', () => {
              clearTimeout(t);
              res();
            });
            p.process.kill('SIGTERM');
          }),
      ),
    );
    for (const s of owned.reverse()) await s.stop();
  };
  try {
    mkdirSync(opts.logDir, { recursive: true });
    let natsUrl = opts.natsUrl;
    if (!natsUrl) {
      opts.say('starting nats-server with JetStream (local, private data directory)...');
      const n = await startNatsServer();
      owned.push(n);
      natsUrl = n.url;
    }
    let mongoUrl = opts.mongoUrl;
    if (!mongoUrl) {
      opts.say('starting FerretDB on SQLite (MongoDB wire protocol, private data directory)...');
      const f = await startFerretDb();
      owned.push(f);
      mongoUrl = f.url;
    }
    opts.say(`NATS ${natsUrl}  MongoDB ${mongoUrl}`);
    for (const name of SERVICES) {
      const grpcPort = await freePort();
      const httpPort = await freePort();
      const dir = join(REPO_ROOT, 'services', name);
      const logFile = join(opts.logDir, `${name}.log`);
      const out = createWriteStream(logFile);
      // eslint-disable-next-line n/no-process-env
      const parentEnv = process.env;
      const proc = spawn(
        process.execPath,
        ['--conditions=@stackyard/source', '--import', 'tsx', '--import', './src/instrumentation.ts', 'src/main.ts'],
        {
          cwd: dir,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...parentEnv,
            OTEL_TRACES_EXPORTER: parentEnv['OTEL_TRACES_EXPORTER'] ?? 'none',
            OTEL_METRICS_EXPORTER: parentEnv['OTEL_METRICS_EXPORTER'] ?? 'none',
            OTEL_LOGS_EXPORTER: parentEnv['OTEL_LOGS_EXPORTER'] ?? 'none',
            NATS_URL: natsUrl,
            MONGO_URL: mongoUrl,
            MONGO_DB_PREFIX: opts.dbPrefix,
            GRPC_PORT: String(grpcPort),
            HTTP_PORT: String(httpPort),
            ...(opts.env?.[name] ?? {}),
          },
        },
      );
      proc.stdout?.pipe(out);
      proc.stderr?.pipe(out);
      procs.push({ name, grpcPort, httpPort, process: proc, logFile });
    }
    opts.say(`starting ${SERVICES.join(', ')} (logs in ${opts.logDir})...`);
    await Promise.all(procs.map((p) => waitReady(p, 60_000)));
    return {
      natsUrl,
      mongoUrl,
      services: Object.fromEntries(procs.map((p) => [p.name, p])) as Record<ServiceName, ServiceProcess>,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
