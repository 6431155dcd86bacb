import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  jetstream,
  jetstreamManager,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
  type StreamSource,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { DependencyUnavailableError, ValidationError } from '@stackyard/errors';
import { assertToken, CONTEXTS, SUBJECT_ROOT, streamFor, type Context } from '@stackyard/events';

export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  close(): Promise<void>;
}

/** Dedup window of every Stackyard stream (docs/adr/0003): longer than any relay retry loop. */
export const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

/**
 * Connects to one server or a cluster: `servers` is a comma-separated list of URLs (every node of a
 * cluster, or a site's leaf server). The client reconnects forever, every 250 ms plus up to 250 ms of
 * jitter (so replicas do not stampede a restarted node), to any server of the list or any the
 * cluster advertises. A failed first connect is `DependencyUnavailableError`.
 */
export async function connectBus(servers: string, name: string, auth: { user?: string | undefined; pass?: string | undefined } = {}): Promise<Bus> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: servers
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 250,
      ...(auth.user ? { user: auth.user, pass: auth.pass ?? '' } : {}),
    });
  } catch (e) {
    throw new DependencyUnavailableError(`NATS at ${servers}`, e);
  }
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (e) {
    await nc.close().catch(() => undefined);
    throw new DependencyUnavailableError(`JetStream at ${servers}`, e);
  }
  return {
    nc,
    js: jetstream(nc),
    jsm,
    close: async () => {
      if (!nc.isClosed()) await nc.drain();
    },
  };
}

/** Errors a JetStream API call gets while a cluster elects a leader or a node restarts: worth retrying. */
export function isTransientJetStreamError(e: unknown): boolean {
  const m = `${(e as Error)?.message ?? ''} ${(e as { code?: unknown })?.code ?? ''}`;
  return /timeout|no responders|503|jetstream (is )?not enabled|temporarily unavailable|no suitable peers|leader|disconnect|reconnect/i.test(m);
}

/** Runs `f`, retrying transient JetStream errors with jittered backoff for up to `budgetMs`. */
export async function retryTransient<T>(f: () => Promise<T>, budgetMs = 30_000): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (e) {
      if (!isTransientJetStreamError(e) || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2)));
    }
  }
}

/** How many copies JetStream keeps of each stream: 1 (a single server) up to 5 (a cluster). */
export function assertReplicas(replicas: number): number {
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new ValidationError('STREAM_REPLICAS', `must be an integer from 1 to 5, got ${String(replicas)}`);
  }
  return replicas;
}

/**
 * Description that marks a stream laid out by `ensureTopologyStreams` (site-scoped subjects, or
 * sourced from other JetStream domains). `ensureStreams` leaves its subjects alone.
 */
export const TOPOLOGY_MARK = 'stackyard:topology';

export interface EnsureStreamsOptions {
  /**
   * num_replicas. Unset: new streams get 1 and existing streams keep theirs (the default
   * behaviour). Set (STREAM_REPLICAS): new streams get it and existing ones are scaled to it.
   */
  readonly replicas?: number | undefined;
}

/**
 * Creates (or updates) the stream of each context. Idempotent; every service calls it at start.
 * Streams laid out by `ensureTopologyStreams` keep their subjects and sources. Transient cluster
 * errors (leader election) are retried for up to 30 s.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  contexts: readonly Context[] = CONTEXTS,
  replicasOrOptions: number | EnsureStreamsOptions = {},
): Promise<void> {
  const replicas = typeof replicasOrOptions === 'number' ? replicasOrOptions : replicasOrOptions.replicas;
  if (replicas !== undefined) assertReplicas(replicas);
  for (const c of contexts) {
    const { name, subjects } = streamFor(c);
    const config = { name, subjects, storage: StorageType.File, duplicate_window: nanos(DUPLICATE_WINDOW_MS), num_replicas: replicas ?? 1 };
    await retryTransient(async () => {
      let existing: StreamConfig | undefined;
      try {
        existing = (await jsm.streams.info(name)).config;
      } catch (e) {
        if (!/stream not found/i.test((e as Error).message)) throw e;
      }
      if (existing) {
        const managed = existing.description === TOPOLOGY_MARK;
        await jsm.streams.update(name, {
          ...(managed ? {} : { subjects }),
          duplicate_window: config.duplicate_window,
          ...(replicas !== undefined ? { num_replicas: replicas } : {}),
        });
        return;
      }
      try {
        await jsm.streams.add(config);
      } catch (e2) {
        // Another service created it between our info and add.
        if (!/already in use|already exists/i.test((e2 as Error).message)) throw e2;
      }
    });
  }
}

/**
 * Where a service's JetStream sits in a multi-site deployment (docs/scale-out.md). `single` is the
 * default: one JetStream (a server or a cluster) holds every stream and every site's events.
 */
export type StreamTopology =
  | { readonly kind: 'single' }
  /** The hub domain: hub contexts capture every site; site contexts are sourced from each site's domain. */
  | { readonly kind: 'hub'; readonly sites: readonly string[] }
  /** A site's leaf domain: site contexts capture this site only; hub contexts are sourced (filtered to this site) from the hub domain. */
  | { readonly kind: 'site'; readonly site: string; readonly hubDomain: string };

/** Contexts whose workers run at the sites, near the BMCs. The others (inventory, monitoring) run at the hub. */
export const SITE_CONTEXTS: readonly Context[] = ['provisioning', 'network', 'deployment'];

/** Reads the topology from the opt-in settings (`NATS_STREAM_TOPOLOGY`, `NATS_SITE`, `NATS_HUB_SITES`, `NATS_HUB_DOMAIN`). */
export function topologyFromConfig(c: {
  readonly NATS_STREAM_TOPOLOGY?: 'single' | 'hub' | 'site' | undefined;
  readonly NATS_SITE?: string | undefined;
  readonly NATS_HUB_SITES?: string | undefined;
  readonly NATS_HUB_DOMAIN?: string | undefined;
}): StreamTopology {
  switch (c.NATS_STREAM_TOPOLOGY ?? 'single') {
    case 'single':
      return { kind: 'single' };
    case 'hub': {
      const sites = (c.NATS_HUB_SITES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      for (const s of sites) assertToken('NATS_HUB_SITES', s);
      return { kind: 'hub', sites };
    }
    case 'site': {
      if (!c.NATS_SITE) throw new ValidationError('NATS_SITE', 'is required when NATS_STREAM_TOPOLOGY is site');
      assertToken('NATS_SITE', c.NATS_SITE);
      return { kind: 'site', site: c.NATS_SITE, hubDomain: c.NATS_HUB_DOMAIN ?? 'hub' };
    }
  }
}

/** The stream configuration of one context in a topology (exported for docs and tests). */
export function topologyStreamConfig(context: Context, topology: StreamTopology, replicas = 1): Partial<StreamConfig> & { name: string } {
  const { name, subjects } = streamFor(context);
  const base = { name, storage: StorageType.File, duplicate_window: nanos(DUPLICATE_WINDOW_MS), num_replicas: replicas };
  const atSite = SITE_CONTEXTS.includes(context);
  switch (topology.kind) {
    case 'single':
      return { ...base, subjects };
    case 'hub':
      if (!atSite) return { ...base, subjects };
      return {
        ...base,
        description: TOPOLOGY_MARK,
        subjects: [],
        sources: topology.sites.map((s): StreamSource => ({ name, external: { api: `$JS.${s}.API`, deliver: '' } })),
      };
    case 'site':
      // Subjects stay every site's: a consumer's filter must be a subset of them, and consumers
      // filter across sites. Site facts are published here by this site's workers; hub facts come
      // in only through the source, filtered to this site. The leaf link carries no `stackyard.>`
      // core traffic, so nothing published at the hub or another site is captured here.
      if (atSite) return { ...base, subjects };
      return {
        ...base,
        description: TOPOLOGY_MARK,
        subjects,
        sources: [{ name, filter_subject: `${SUBJECT_ROOT}.${topology.site}.${context}.>`, external: { api: `$JS.${topology.hubDomain}.API`, deliver: '' } }],
      };
  }
}

/**
 * Lays out the five streams for a topology (opt-in, docs/scale-out.md); `single` is `ensureStreams`.
 * Same stream names as the default, so consumers need no change. Existing streams are updated to the
 * topology (subjects, sources: a hub adds newly listed sites' sources and keeps the others).
 */
export async function ensureTopologyStreams(jsm: JetStreamManager, topology: StreamTopology, opts: EnsureStreamsOptions = {}): Promise<void> {
  if (topology.kind === 'single') return ensureStreams(jsm, CONTEXTS, opts);
  const replicas = opts.replicas === undefined ? 1 : assertReplicas(opts.replicas);
  for (const c of CONTEXTS) {
    const want = topologyStreamConfig(c, topology, replicas);
    await retryTransient(async () => {
      let existing: StreamConfig | undefined;
      try {
        existing = (await jsm.streams.info(want.name)).config;
      } catch (e) {
        if (!/stream not found/i.test((e as Error).message)) throw e;
      }
      if (!existing) {
        try {
          await jsm.streams.add(want);
          return;
        } catch (e2) {
          if (!/already in use|already exists/i.test((e2 as Error).message)) throw e2;
          existing = (await jsm.streams.info(want.name)).config;
        }
      }
      const sources = [...(existing.sources ?? [])];
      for (const s of want.sources ?? []) if (!sources.some((x) => x.name === s.name && x.external?.api === s.external?.api)) sources.push(s);
      await jsm.streams.update(want.name, {
        ...(want.description ? { description: want.description } : {}),
        subjects: want.subjects ?? [],
        duplicate_window: want.duplicate_window,
        ...(opts.replicas !== undefined ? { num_replicas: replicas } : {}),
        ...(sources.length ? { sources } : {}),
      });
    });
  }
}
