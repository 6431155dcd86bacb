import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort, type LocalServer } from './index';

/**
 * A private OpenStack Ironic for the bare-metal driver's integration tests: Debian's packaged
 * `ironic-conductor` and `ironic-api` (apt-get install ironic-api ironic-conductor python3-sushy),
 * started as two child processes on a fresh config and SQLite database in a temp dir, talking
 * JSON-RPC to each other on loopback. No Keystone (noauth), no message bus, no Neutron, no DHCP,
 * no cleaning; `fake-hardware` nodes go enroll -> manageable -> inspected -> available -> active
 * -> available in well under a second per step. Nothing is written outside the temp dir.
 */

export const IRONIC_BINARIES = ['ironic-api', 'ironic-conductor', 'ironic-dbsync'] as const;
export const IRONIC_APT_PACKAGES = 'ironic-api ironic-conductor python3-sushy';

function findBin(bin: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/bin', '/usr/local/bin'])) {
    if (dir && existsSync(join(dir, bin))) return join(dir, bin);
  }
  return undefined;
}

/** Are Debian's Ironic API, conductor and dbsync installed? */
export function ironicInstalled(): boolean {
  return IRONIC_BINARIES.every((b) => findBin(b) !== undefined);
}

export interface IronicServer extends LocalServer {
  /** http://127.0.0.1:<port> (the API root; the driver appends /v1). */
  readonly url: string;
  /** The API process (ironic-api); `conductor` is the other one. */
  readonly process: ChildProcess;
  readonly conductor: ChildProcess;
  readonly jsonRpcPort: number;
  /** The conductor's host name, as listed by GET /v1/conductors. */
  readonly conductorHost: string;
  /** Milliseconds from the call to the API answering with a live conductor and its drivers. */
  readonly startMs: number;
  /** The last lines of the API and conductor logs, for failure messages. */
  logTail(lines?: number): string;
}

export interface StartIronicOptions {
  readonly port?: number;
  readonly dataDir?: string;
  readonly keepData?: boolean;
  /** Receives the children's stdout/stderr (their logs go to files in the data dir). */
  readonly log?: (line: string) => void;
  /** Default 127.0.0.1: the API reaches the conductor over JSON-RPC at this name. */
  readonly conductorHost?: string;
  /** Lets GET /v1/nodes/{id} show instance_info.configdrive (policy show_instance_secrets), for tests. */
  readonly showInstanceSecrets?: boolean;
  /** Extra ini text appended to ironic.conf (oslo.config: a key repeated later wins). */
  readonly extraConfig?: string;
  readonly startTimeoutMs?: number;
}

function ironicConf(dir: string, apiPort: number, rpcPort: number, host: string, policyFile: string | undefined): string {
  const d = (sub: string) => join(dir, sub);
  return `# Written by @stackyard/devinfra startIronic: a private, throw-away Ironic.
[DEFAULT]
auth_strategy = noauth
rpc_transport = json-rpc
host = ${host}
debug = false
use_stderr = false
log_dir = ${dir}
state_path = ${dir}
tempdir = ${d('tmp')}
enabled_hardware_types = fake-hardware,redfish,ipmi
enabled_bios_interfaces = fake,no-bios,redfish
enabled_boot_interfaces = fake,redfish-virtual-media,pxe
enabled_console_interfaces = fake,no-console
enabled_deploy_interfaces = fake,direct
enabled_inspect_interfaces = fake,no-inspect,redfish
enabled_management_interfaces = fake,redfish,ipmitool
enabled_network_interfaces = noop
enabled_power_interfaces = fake,redfish,ipmitool
enabled_raid_interfaces = fake,no-raid
enabled_rescue_interfaces = fake,no-rescue
enabled_storage_interfaces = fake,noop
enabled_vendor_interfaces = fake,no-vendor
default_network_interface = noop

[api]
host_ip = 127.0.0.1
port = ${apiPort}
api_workers = 1

[conductor]
automated_clean = false
# Fast fake timings: periodic tasks every second instead of every minute.
heartbeat_interval = 2
sync_power_state_interval = 5
check_provision_state_interval = 1
power_state_change_timeout = 10
deploy_callback_timeout = 60

[database]
connection = sqlite:///${d('ironic.sqlite')}

[dhcp]
dhcp_provider = none

[json_rpc]
auth_strategy = noauth
host_ip = 127.0.0.1
port = ${rpcPort}

[oslo_concurrency]
lock_path = ${d('locks')}

[redfish]
# An unreachable BMC fails verification at once instead of after 5 x 4 s.
connection_attempts = 1
connection_retry_interval = 1

[pxe]
tftp_root = ${d('tftpboot')}
tftp_master_path = ${d('tftpboot/master_images')}
images_path = ${d('images')}
instance_master_path = ${d('master_images')}

[deploy]
http_root = ${d('httpboot')}
http_url = http://127.0.0.1:${apiPort}/httpboot
iso_master_path = ${d('master_iso_images')}

[agent]
deploy_logs_local_path = ${d('deploy-logs')}
certificates_path = ${d('certificates')}
${policyFile ? `\n[oslo_policy]\npolicy_file = ${policyFile}\n` : ''}`;
}

/** Registered children, killed (their whole process groups) if this process exits without stop(). */
const live = new Set<number>();
let exitHook = false;
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return `(${file} missing)`;
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

async function getJson(url: string, version?: string): Promise<unknown> {
  const res = await fetch(url, { headers: version ? { 'X-OpenStack-Ironic-API-Version': version } : {}, signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.json();
}

/**
 * Starts a private Ironic (Debian's ironic-conductor and ironic-api, JSON-RPC between them) and
 * resolves once GET /v1 answers, a live conductor is listed and the fake-hardware driver is loaded.
 * Throws, with the tails of both logs, when a process exits or the deadline passes.
 */
export async function startIronic(opts: StartIronicOptions = {}): Promise<IronicServer> {
  const t0 = Date.now();
  const missing = IRONIC_BINARIES.filter((b) => !findBin(b));
  if (missing.length > 0) {
    throw new Error(`Ironic is not installed (missing ${missing.join(', ')}): apt-get install -y ${IRONIC_APT_PACKAGES}`);
  }
  const port = opts.port ?? (await freePort());
  const rpcPort = await freePort();
  const host = opts.conductorHost ?? '127.0.0.1';
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'stackyard-ironic-'));
  for (const sub of ['tmp', 'locks', 'tftpboot', 'httpboot', 'images', 'master_images', 'master_iso_images', 'deploy-logs', 'certificates']) {
    mkdirSync(join(dataDir, sub), { recursive: true });
  }
  let policyFile: string | undefined;
  if (opts.showInstanceSecrets) {
    policyFile = join(dataDir, 'policy.yaml');
    writeFileSync(policyFile, '"show_instance_secrets": "@"\n');
  }
  const conf = join(dataDir, 'ironic.conf');
  writeFileSync(conf, ironicConf(dataDir, port, rpcPort, host, policyFile) + (opts.extraConfig ? `\n${opts.extraConfig}\n` : ''));
  const logTail = (lines = 30) =>
    ['ironic-conductor', 'ironic-api'].map((n) => `--- ${n}.log\n${tail(join(dataDir, `${n}.log`), lines)}`).join('\n');

  const sync = spawnSync(findBin('ironic-dbsync')!, ['--config-file', conf, 'create_schema'], { encoding: 'utf8', timeout: 60_000 });
  if (sync.status !== 0) {
    const out = `${sync.stdout ?? ''}${sync.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`ironic-dbsync create_schema failed (${sync.status ?? sync.signal}):\n${out}`);
  }
  // The API and the conductor write to the same SQLite file: WAL (persistent in the file) lets
  // readers go on while one writes, instead of "database is locked" under concurrent requests.
  spawnSync('python3', ['-c', `import sqlite3; sqlite3.connect(${JSON.stringify(join(dataDir, 'ironic.sqlite'))}).execute('PRAGMA journal_mode=WAL')`]);

  const launch = (bin: string): ChildProcess => {
    // Own process group: ironic-api forks a worker, and stop() must end both.
    const p = spawn(findBin(bin) ?? bin, ['--config-file', conf], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    p.stdout?.on('data', (b: Buffer) => opts.log?.(b.toString()));
    p.stderr?.on('data', (b: Buffer) => opts.log?.(b.toString()));
    if (p.pid !== undefined) live.add(p.pid);
    return p;
  };
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => live.forEach((pid) => killGroup(pid, 'SIGKILL')));
  }
  const conductor = launch('ironic-conductor');
  const api = launch('ironic-api');

  const stopAll = async (signal: NodeJS.Signals) => {
    await Promise.all(
      [api, conductor].map(
        (p) =>
          new Promise<void>((res) => {
            const finish = () => {
              killGroup(p.pid, 'SIGKILL'); // the API's forked worker, if it outlived its parent
              if (p.pid !== undefined) live.delete(p.pid);
              res();
            };
            if (p.exitCode !== null || p.signalCode !== null) return finish();
            const t = setTimeout(() => killGroup(p.pid, 'SIGKILL'), 5000);
            p.once('exit', () => {
              clearTimeout(t);
              finish();
            });
            killGroup(p.pid, signal);
          }),
      ),
    );
  };

  const deadline = t0 + (opts.startTimeoutMs ?? 90_000);
  try {
    await waitForPort(port, Math.max(1, deadline - Date.now()), 'ironic-api', api);
    const base = `http://127.0.0.1:${port}`;
    for (;;) {
      for (const [name, p] of [['ironic-conductor', conductor], ['ironic-api', api]] as const) {
        if (p.exitCode !== null || p.signalCode !== null) throw new Error(`${name} exited (${p.exitCode ?? p.signalCode}) during start`);
      }
      try {
        await getJson(`${base}/v1`);
        const c = (await getJson(`${base}/v1/conductors`, '1.49')) as { conductors?: { hostname: string; alive: boolean }[] };
        const d = (await getJson(`${base}/v1/drivers`, '1.49')) as { drivers?: { name: string }[] };
        if (c.conductors?.some((x) => x.hostname === host && x.alive) && d.drivers?.some((x) => x.name === 'fake-hardware')) break;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error(`no live conductor with fake-hardware within ${opts.startTimeoutMs ?? 90_000} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    const logs = logTail(20);
    await stopAll('SIGKILL');
    if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`Ironic did not start: ${(e as Error).message}\n${logs}`);
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    process: api,
    conductor,
    jsonRpcPort: rpcPort,
    conductorHost: host,
    startMs: Date.now() - t0,
    logTail,
    stop: () =>
      (stopped ??= stopAll('SIGTERM').then(() => {
        if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
      })),
    kill: () => {
      killGroup(api.pid, 'SIGKILL');
      killGroup(conductor.pid, 'SIGKILL');
    },
  };
}
