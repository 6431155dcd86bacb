import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './index';

/**
 * Scale-out NATS topologies on loopback, for tests and demos (docs/scale-out.md): a 3-node
 * JetStream cluster, and a hub with leaf-node sites, each site with its own JetStream domain and a
 * link that can be cut and restored. Real nats-server processes, each with its own store directory.
 */

/** One nats-server process that can be stopped, SIGKILLed and started again on the same ports and store. */
export interface NatsNode {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly configFile: string;
  /** Is the process running? */
  running(): boolean;
  /** SIGTERM (graceful: the node leaves the cluster), waits for exit. Keeps the store. */
  stop(): Promise<void>;
  /** SIGKILL, waits for exit. Keeps the store: a crash. */
  kill(): Promise<void>;
  /** Starts the node again with the same config, ports and store: it rejoins. */
  restart(): Promise<void>;
}

function natsBin(): string {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin', '/sbin', '/usr/bin'])) {
    const p = join(dir, 'nats-server');
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  throw new Error('nats-server is not installed: run `bash scripts/setup.sh` (installs Debian package nats-server)');
}

function waitExit(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((res) => proc.once('exit', () => res()));
}

/**
 * A nats-server from a config text (written to `<storeDir>/<name>.conf`), which must listen on
 * 127.0.0.1:`port`; `env` is added to the process environment (values the config references as
 * `$NAME`). For a server whose whole configuration a test renders (docs/scale-out.md).
 */
export function startNatsNode(
  name: string,
  port: number,
  storeDir: string,
  config: string,
  opts: { log?: (line: string) => void; env?: Readonly<Record<string, string>> } = {},
): Promise<NatsNode> {
  return startNode(name, port, storeDir, config, opts.log, opts.env);
}

/** A nats-server from a config file; `log` gets its stderr (e.g. for debugging a test). */
async function startNode(name: string, port: number, storeDir: string, config: string, log?: (line: string) => void, env?: Readonly<Record<string, string>>): Promise<NatsNode> {
  const bin = natsBin();
  mkdirSync(storeDir, { recursive: true });
  const configFile = join(storeDir, `${name}.conf`);
  writeFileSync(configFile, config);
  let proc: ChildProcess;
  const launch = async () => {
    proc = spawn(bin, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) });
    proc.stderr?.on('data', (b: Buffer) => log?.(`[${name}] ${b.toString()}`));
    await waitForPort(port, 15_000, `nats-server ${name}`, proc);
  };
  await launch();
  const end = async (signal: NodeJS.Signals) => {
    const p = proc;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    const exited = waitExit(p);
    p.kill(signal);
    await exited;
    clearTimeout(t);
  };
  return {
    name,
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    configFile,
    running: () => proc.exitCode === null && proc.signalCode === null,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    restart: async () => {
      if (proc.exitCode === null && proc.signalCode === null) throw new Error(`nats-server ${name} is still running`);
      await launch();
    },
  };
}

export interface NatsCluster {
  readonly nodes: readonly NatsNode[];
  /** Every node's client URL, comma-separated: what NATS_URL takes. */
  readonly url: string;
  readonly urls: readonly string[];
  /** Stops every node and removes the store directories. */
  stop(): Promise<void>;
}

/**
 * A JetStream cluster of `size` nodes (default 3) on loopback: server names `<name>-1..n`, full-mesh
 * routes, one store directory per node under `dir`. JetStream becomes usable once a meta leader is
 * elected (about a second after start); callers poll for it (e.g. `jsm.getAccountInfo()`).
 */
export async function startNatsCluster(opts: { size?: number; name?: string; dir?: string; domain?: string; log?: (line: string) => void } = {}): Promise<NatsCluster> {
  const size = opts.size ?? 3;
  const name = opts.name ?? 'sy';
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'stackyard-nats-cluster-'));
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort() })));
  const nodes: NatsNode[] = [];
  try {
    await Promise.all(
      ports.map(async (p, i) => {
        const server = `${name}-${i + 1}`;
        const storeDir = join(dir, server);
        const routes = ports.filter((_, j) => j !== i).map((q) => `"nats-route://127.0.0.1:${q.route}"`);
        const config = [
          `server_name: ${JSON.stringify(server)}`,
          `listen: "127.0.0.1:${p.client}"`,
          `jetstream { store_dir: ${JSON.stringify(storeDir)}${opts.domain ? `, domain: ${JSON.stringify(opts.domain)}` : ''} }`,
          `cluster {`,
          `  name: ${JSON.stringify(name)}`,
          `  listen: "127.0.0.1:${p.route}"`,
          `  routes: [ ${routes.join(', ')} ]`,
          `}`,
          '',
        ].join('\n');
        nodes[i] = await startNode(server, p.client, storeDir, config, opts.log);
      }),
    );
  } catch (e) {
    await Promise.all(nodes.filter(Boolean).map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const urls = nodes.map((n) => n.url);
  return {
    nodes,
    urls,
    url: urls.join(','),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP relay on loopback whose link can be cut (every connection through it is closed and new ones
 * are refused) and restored. It stands for the WAN between a site and the hub.
 */
export interface LinkProxy {
  readonly port: number;
  readonly up: boolean;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startLinkProxy(targetPort: number): Promise<LinkProxy> {
  const sockets = new Set<Socket>();
  let up = true;
  const server: Server = createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    const pair = [client, upstream];
    for (const s of pair) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        for (const o of pair) o.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = await new Promise<number>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      res(typeof a === 'object' && a ? a.port : 0);
    });
  });
  return {
    port,
    get up() {
      return up;
    },
    cut: () => {
      up = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore: () => {
      up = true;
    },
    close: async () => {
      up = false;
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}

export interface LeafSite {
  readonly site: string;
  /** JetStream domain of the site's leaf server (= the site id). */
  readonly domain: string;
  readonly server: NatsNode;
  readonly link: LinkProxy;
  /** Closes the site's connection to the hub (and refuses reconnects) until `reconnect()`. */
  cut(): void;
  reconnect(): void;
}

export interface HubAndLeaves {
  readonly hub: NatsNode;
  /** JetStream domain of the hub. */
  readonly hubDomain: string;
  readonly sites: ReadonlyMap<string, LeafSite>;
  site(id: string): LeafSite;
  stop(): Promise<void>;
}

/**
 * Users on every server of a hub-and-leaves topology (docs/scale-out.md, "Sites with users"): the
 * hub's and each leaf's `authorization.users` block bodies (e.g. `natsUsersConfig` of libs/nats plus
 * an operator user), and the user each site's leaf remote authenticates with at the hub (one of the
 * hub's users, e.g. `leafLinkUsersConfig`).
 */
export interface HubAndLeavesAuth {
  readonly hubUsers: string;
  readonly siteUsers: (site: string) => string;
  readonly leafCredentials: (site: string) => { readonly user: string; readonly password: string };
}

const usersBlock = (users: string) => `authorization {\n  users = [\n${users}\n  ]\n}`;

/**
 * A hub nats-server with JetStream (domain `hubDomain`, default "hub") accepting leaf nodes, and one
 * leaf server per site with its own JetStream (domain = site id), each connected to the hub through a
 * LinkProxy. The leaves retry the hub every second (`leafnodes.reconnect: 1`). With `auth`, every
 * server requires users and each leaf authenticates at the hub as its own link user.
 */
export async function startHubAndLeaves(
  sites: readonly string[],
  opts: { hubDomain?: string; dir?: string; log?: (line: string) => void; auth?: HubAndLeavesAuth } = {},
): Promise<HubAndLeaves> {
  const hubDomain = opts.hubDomain ?? 'hub';
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'stackyard-nats-leaf-'));
  const started: NatsNode[] = [];
  const links: LinkProxy[] = [];
  try {
    const hubPort = await freePort();
    const leafPort = await freePort();
    // A leaf adds the URL the hub advertises for leaf connections to its remote's list and would
    // reconnect there directly, around its LinkProxy (no_advertise does not stop that in 2.9). The
    // hub advertises a sink that closes every connection instead, so the link is the only way in.
    const sink = await startLinkProxy(leafPort);
    sink.cut();
    links.push(sink);
    const hubStore = join(dir, 'hub');
    const hub = await startNode(
      'hub',
      hubPort,
      hubStore,
      [
        `server_name: "hub"`,
        `listen: "127.0.0.1:${hubPort}"`,
        `jetstream { store_dir: ${JSON.stringify(hubStore)}, domain: ${JSON.stringify(hubDomain)} }`,
        `leafnodes { listen: "127.0.0.1:${leafPort}", advertise: "127.0.0.1:${sink.port}" }`,
        // Without a leafnodes.authorization block, leaf remotes authenticate as one of these users
        // and its permissions apply to the link (2.9's leafnode users cannot carry permissions).
        ...(opts.auth ? [usersBlock(opts.auth.hubUsers)] : []),
        '',
      ].join('\n'),
      opts.log,
    );
    started.push(hub);
    const map = new Map<string, LeafSite>();
    for (const site of sites) {
      const link = await startLinkProxy(leafPort);
      links.push(link);
      const port = await freePort();
      const store = join(dir, `leaf-${site}`);
      const cred = opts.auth?.leafCredentials(site);
      const userinfo = cred ? `${encodeURIComponent(cred.user)}:${encodeURIComponent(cred.password)}@` : '';
      const server = await startNode(
        `leaf-${site}`,
        port,
        store,
        [
          `server_name: ${JSON.stringify(`leaf-${site}`)}`,
          `listen: "127.0.0.1:${port}"`,
          `jetstream { store_dir: ${JSON.stringify(store)}, domain: ${JSON.stringify(site)} }`,
          `leafnodes {`,
          `  reconnect: 1`,
          // Events cross the link only through JetStream sourcing (docs/scale-out.md), never as
          // core messages: no stream on one side captures what was published on the other.
          `  remotes: [ { url: "nats-leaf://${userinfo}127.0.0.1:${link.port}", deny_imports: ["stackyard.>"], deny_exports: ["stackyard.>"] } ]`,
          `}`,
          ...(opts.auth ? [usersBlock(opts.auth.siteUsers(site))] : []),
          '',
        ].join('\n'),
        opts.log,
      );
      started.push(server);
      map.set(site, { site, domain: site, server, link, cut: () => link.cut(), reconnect: () => link.restore() });
    }
    return {
      hub,
      hubDomain,
      sites: map,
      site: (id) => {
        const s = map.get(id);
        if (!s) throw new Error(`no leaf site ${id}`);
        return s;
      },
      stop: async () => {
        await Promise.all(links.map((l) => l.close()));
        await Promise.all(started.map((n) => n.stop()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await Promise.all(links.map((l) => l.close()));
    await Promise.all(started.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
