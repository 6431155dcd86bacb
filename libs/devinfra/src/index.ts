import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Local servers for the embedded default and the integration tests: a nats-server with JetStream
 * and a FerretDB (MongoDB wire protocol) on SQLite, each on a free loopback port with its own data
 * directory. Real servers, started as child processes.
 */

export const FERRETDB_VERSION = 'v1.24.2';
export const REPO_ROOT = resolve(__dirname, '../../..');
export const FERRETDB_BIN = join(REPO_ROOT, '.stackyard/bin/ferretdb');

export interface LocalServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** FerretDB only: the storage backend in use. */
  readonly backend?: FerretBackend;
  /** FerretDB on PostgreSQL only: its private PostgreSQL database (e.g. for `pg_stat_user_tables`). */
  readonly postgresDb?: string;
  stop(): Promise<void>;
  /** SIGKILL, no cleanup of data: for crash tests. */
  kill(): void;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

export function waitForPort(port: number, timeoutMs: number, what: string, proc?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((res, rej) => {
    const attempt = () => {
      if (proc && proc.exitCode !== null) {
        rej(new Error(`${what} exited with code ${proc.exitCode} before listening on port ${port}`));
        return;
      }
      const sock = tcpConnect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        res();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) rej(new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function which(bin: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin', '/sbin'])) {
    const p = join(dir, bin);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function stopper(proc: ChildProcess, dataDir: string, keepData: boolean): () => Promise<void> {
  return () =>
    new Promise<void>((res) => {
      const done = () => {
        if (!keepData) rmSync(dataDir, { recursive: true, force: true });
        res();
      };
      if (proc.exitCode !== null || proc.signalCode !== null) return done();
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(t);
        done();
      });
      proc.kill('SIGTERM');
    });
}

export interface StartOptions {
  readonly port?: number;
  readonly dataDir?: string;
  readonly keepData?: boolean;
  readonly log?: (line: string) => void;
}

/**
 * Starts `nats-server -js` on loopback. Throws a message saying how to install it when missing.
 * `authorization` is a nats-server config block body (e.g. users with permissions); with it the
 * server is started from a config file.
 */
export async function startNatsServer(opts: StartOptions & { authorization?: string } = {}): Promise<LocalServer> {
  const bin = which('nats-server');
  if (!bin) throw new Error('nats-server is not installed: run `bash scripts/setup.sh` (installs Debian package nats-server)');
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'stackyard-nats-'));
  mkdirSync(dataDir, { recursive: true });
  let args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dataDir];
  if (opts.authorization) {
    const conf = join(dataDir, 'nats.conf');
    writeFileSync(
      conf,
      `listen: "127.0.0.1:${port}"\njetstream { store_dir: ${JSON.stringify(dataDir)} }\nauthorization {\n  users = [\n${opts.authorization}\n  ]\n}\n`,
    );
    args = ['-c', conf];
  }
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr?.on('data', (b: Buffer) => opts.log?.(b.toString()));
  await waitForPort(port, 10_000, 'nats-server', proc);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    dataDir,
    process: proc,
    stop: stopper(proc, dataDir, opts.keepData ?? false),
    kill: () => proc.kill('SIGKILL'),
  };
}

/** Is something accepting TCP connections on 127.0.0.1:port? */
export function reachable(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((res) => {
    const sock = tcpConnect(port, host);
    const done = (ok: boolean) => {
      sock.destroy();
      res(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Runs SQL on the local PostgreSQL as its superuser; resolves with psql's unaligned, tuples-only output. */
export function psql(sql: string, db = 'postgres'): Promise<string> {
  return new Promise((res, rej) => {
    const p = spawn('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    p.once('error', rej);
    p.once('exit', (code) => (code === 0 ? res(out) : rej(new Error(`psql failed (${code}): ${err.trim()}`))));
  });
}

export type FerretBackend = 'postgresql' | 'sqlite';

/**
 * FerretDB 1.24 on PostgreSQL turns every equality filter, `_id` included, into
 * `_jsonb->'<field>' @> '<value>'`, and indexes each MongoDB index as a btree on
 * `(_jsonb->'<field>')`, which PostgreSQL cannot use for `@>`: every lookup scanned the table
 * (docs/performance.md). This event trigger gives every such btree expression a GIN twin on the same
 * expression, which `@>` does use (20,000 documents: 13 ms -> 1.4 ms per `findOne({_id})`): for the
 * index's first key, once per expression (a compound index's later keys are never filtered alone
 * here, and every GIN index costs on each row write). Install
 * it in the database before FerretDB creates its tables (needs a superuser, once per database).
 */
export const FERRETDB_GIN_TRIGGER_SQL = `
CREATE OR REPLACE FUNCTION stackyard_ferretdb_gin() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE
  cmd record;
  ix record;
  col text;
BEGIN
  FOR cmd IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' AND object_type = 'index' LOOP
    SELECT i.indexrelid, i.indrelid::regclass AS tbl, i.indnkeyatts AS n, am.amname INTO ix
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
     WHERE i.indexrelid = cmd.objid;
    CONTINUE WHEN ix.amname IS DISTINCT FROM 'btree';
    -- The first key only (equality filters name it: {site: 1, latest: 1} serves {site, latest}),
    -- and once per expression: each GIN index is rewritten on every row write (no HOT updates).
    col := pg_get_indexdef(ix.indexrelid, 1, true);
    CONTINUE WHEN col NOT LIKE '%_jsonb -> %';
    CONTINUE WHEN EXISTS (
      SELECT 1 FROM pg_index i2 JOIN pg_class c2 ON c2.oid = i2.indexrelid JOIN pg_am a2 ON a2.oid = c2.relam
       WHERE i2.indrelid = ix.tbl AND a2.amname = 'gin' AND pg_get_indexdef(i2.indexrelid, 1, true) = col);
    EXECUTE format('CREATE INDEX ON %s USING gin ((%s))', ix.tbl, col);
  END LOOP;
END
$fn$;
DROP EVENT TRIGGER IF EXISTS stackyard_ferretdb_gin;
CREATE EVENT TRIGGER stackyard_ferretdb_gin ON ddl_command_end WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION stackyard_ferretdb_gin();
`;

/**
 * The backend FerretDB should use: PostgreSQL when one accepts connections on 127.0.0.1:5432 and
 * psql is installed (FerretDB pushes filters down to it: ~2 ms per lookup where its SQLite backend
 * scans the collection, docs/performance.md), SQLite otherwise.
 */
export async function defaultFerretBackend(): Promise<FerretBackend> {
  return which('psql') && (await reachable(5432)) ? 'postgresql' : 'sqlite';
}

/**
 * FerretDB's Go garbage collector target (`GOGC`): 1000 unless `STACKYARD_FERRETDB_GOGC` says
 * otherwise. With Go's default (100) FerretDB spent over half its CPU in the runtime, mostly
 * collecting the garbage of decoding every document it reads and writes (perf at 1,000 nodes:
 * 18 % of the machine's CPU); at 1000 its resident memory stayed at 110-300 MB during a 1,000-node
 * run and its CPU per saga node drops by a third (docs/performance.md, session 16).
 */
export function ferretGogc(): string {
  // eslint-disable-next-line n/no-process-env -- a switch for benchmarks comparing collector settings
  const v = process.env['STACKYARD_FERRETDB_GOGC'];
  if (v === undefined || v === '') return '1000';
  if (v !== 'off' && !/^[1-9][0-9]*$/.test(v)) throw new Error(`STACKYARD_FERRETDB_GOGC must be a positive integer or "off", got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Starts FerretDB (binary built by scripts/setup.sh, pinned FERRETDB_VERSION) on a private
 * PostgreSQL database (created, and dropped on stop) or a private SQLite directory.
 */
export async function startFerretDb(opts: StartOptions & { bin?: string; backend?: FerretBackend } = {}): Promise<LocalServer> {
  const bin = opts.bin ?? FERRETDB_BIN;
  if (!existsSync(bin)) {
    throw new Error(`FerretDB is not built at ${bin}: run \`bash scripts/setup.sh\` (builds FerretDB ${FERRETDB_VERSION} from its Go module)`);
  }
  const backend = opts.backend ?? (await defaultFerretBackend());
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'stackyard-ferretdb-'));
  mkdirSync(dataDir, { recursive: true });
  const pgDb = `stackyard_ferret_${port}_${process.pid}`;
  const storage =
    backend === 'postgresql'
      ? ['--handler=postgresql', `--postgresql-url=postgres://postgres@127.0.0.1:5432/${pgDb}`]
      : ['--handler=sqlite', `--sqlite-url=file:${dataDir}/`];
  if (backend === 'postgresql') {
    await psql(`DROP DATABASE IF EXISTS ${pgDb}`);
    await psql(`CREATE DATABASE ${pgDb}`);
    // eslint-disable-next-line n/no-process-env -- a switch for benchmarks comparing with and without
    if (process.env['STACKYARD_FERRETDB_GIN'] !== '0') await psql(FERRETDB_GIN_TRIGGER_SQL, pgDb);
    // FerretDB passes the field name as a parameter (`_jsonb->$1 @> $2`) of statements its driver
    // prepares once: after five runs PostgreSQL may switch to a generic plan, which cannot match the
    // `(_jsonb->'_id')` indexes, and `_id` lookups became sequential scans of the whole collection
    // (docs/performance.md, session 13). Custom plans see the field name and use the GIN twins.
    // eslint-disable-next-line n/no-process-env -- a switch for benchmarks comparing with and without
    if (process.env['STACKYARD_FERRETDB_CUSTOM_PLANS'] !== '0') await psql(`ALTER DATABASE ${pgDb} SET plan_cache_mode = force_custom_plan`);
  }
  // eslint-disable-next-line n/no-process-env -- the child inherits the environment, with its collector setting
  const env = { ...process.env, GOGC: ferretGogc() };
  const proc = spawn(
    bin,
    [...storage, `--listen-addr=127.0.0.1:${port}`, '--debug-addr=-', '--telemetry=disable', `--state-dir=${dataDir}`, '--log-level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'], env },
  );
  proc.stderr?.on('data', (b: Buffer) => opts.log?.(b.toString()));
  await waitForPort(port, 20_000, 'ferretdb', proc);
  const stopProc = stopper(proc, dataDir, opts.keepData ?? false);
  return {
    url: `mongodb://127.0.0.1:${port}/`,
    port,
    dataDir,
    process: proc,
    backend,
    ...(backend === 'postgresql' ? { postgresDb: pgDb } : {}),
    stop: async () => {
      await stopProc();
      if (backend === 'postgresql' && !opts.keepData) await psql(`DROP DATABASE IF EXISTS ${pgDb} WITH (FORCE)`).catch(() => undefined);
    },
    kill: () => proc.kill('SIGKILL'),
  };
}
export * from './ironic';
export * from './nats-cluster';
