import { z } from 'zod';

/** Variables every service reads (STYLE G); each service extends this schema with its own. */
export const baseConfigSchema = z.object({
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  /** This service's NATS user (docs: permissions limited to its own subjects). */
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL').default('mongodb://127.0.0.1:27017/'),
  /** Prefix of this service's database name: one database per service (`<prefix>_<service>`). */
  MONGO_DB_PREFIX: z.string().regex(/^[a-z0-9_]+$/, 'lowercase letters, digits and _').default('stackyard'),
  GRPC_HOST: z.string().default('127.0.0.1'),
  GRPC_PORT: z.coerce.number().int().min(0).max(65535),
  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** gRPC TLS: certificate and key (PEM). With GRPC_TLS_CLIENT_CA_FILE, clients need a certificate (mTLS). */
  GRPC_TLS_CERT_FILE: z.string().optional(),
  GRPC_TLS_KEY_FILE: z.string().optional(),
  GRPC_TLS_CLIENT_CA_FILE: z.string().optional(),
  /** JSON list of API tokens (name, role, sites, token_sha256). When unset, the API is open (development only). */
  AUTH_TOKENS_FILE: z.string().optional(),
  /** JetStream redelivers an event whose handler neither acked nor sent a heartbeat for this long. */
  CONSUMER_ACK_WAIT_MS: z.coerce.number().int().min(1000).default(30_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(25_000),
  /**
   * Copies JetStream keeps of each stream (1..5; 3 on a 3-node cluster). Unset: new streams get 1 and
   * existing streams keep theirs (docs/scale-out.md).
   */
  STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).optional(),
  /** Multi-site stream layout (docs/scale-out.md): `single` (default), `hub` or `site`. */
  NATS_STREAM_TOPOLOGY: z.enum(['single', 'hub', 'site']).optional(),
  /** With NATS_STREAM_TOPOLOGY=site: the site this JetStream domain serves (also its domain name). */
  NATS_SITE: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a site id (lowercase letters, digits, - and _)').optional(),
  /** With NATS_STREAM_TOPOLOGY=hub: comma-separated site ids whose streams the hub sources. */
  NATS_HUB_SITES: z.string().regex(/^[a-z0-9][a-z0-9_-]*(,[a-z0-9][a-z0-9_-]*)*$/, 'comma-separated site ids').optional(),
  /** With NATS_STREAM_TOPOLOGY=site: the hub's JetStream domain (default hub). */
  NATS_HUB_DOMAIN: z.string().regex(/^[A-Za-z0-9_-]+$/, 'a JetStream domain name').optional(),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

/** TLS settings must come as a pair: a certificate without its key (or a CA alone) is a mistake. */
export function tlsProblems(c: Pick<BaseConfig, 'GRPC_TLS_CERT_FILE' | 'GRPC_TLS_KEY_FILE' | 'GRPC_TLS_CLIENT_CA_FILE'>): string[] {
  const p: string[] = [];
  if (Boolean(c.GRPC_TLS_CERT_FILE) !== Boolean(c.GRPC_TLS_KEY_FILE)) p.push('GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE: set both or neither');
  if (c.GRPC_TLS_CLIENT_CA_FILE && !c.GRPC_TLS_CERT_FILE) p.push('GRPC_TLS_CLIENT_CA_FILE: mutual TLS needs GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE');
  return p;
}

/** Thrown with every problem listed, one per line, each naming the variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment once, lists every problem, returns a frozen object. */
export function parseConfig<S extends z.ZodTypeAny>(schema: S, env: Record<string, string | undefined>): Readonly<z.infer<S>> {
  const r = schema.safeParse(env);
  if (!r.success) {
    throw new ConfigError(r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return Object.freeze(r.data);
}

export { z };
export { LabFaults } from './lab-faults';
