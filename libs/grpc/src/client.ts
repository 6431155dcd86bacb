import { readFileSync } from 'node:fs';
import { credentials, Metadata, status, type CallOptions, type Client, type ServiceError } from '@grpc/grpc-js';

type Callback<Res> = (err: ServiceError | null, res: Res) => void;

/** Statuses a client may retry (STYLE F): the request had no effect or is idempotent by request_id. */
export const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.ABORTED]);

/** Calls a ts-proto grpc-js unary method as a promise, retrying retryable statuses with jittered backoff. */
export async function call<Req, Res>(
  client: Client,
  method: (req: Req, metadata: Metadata, options: Partial<CallOptions>, cb: Callback<Res>) => unknown,
  req: Req,
  opts: { attempts?: number; deadlineMs?: number; metadata?: Metadata } = {},
): Promise<Res> {
  const attempts = opts.attempts ?? 4;
  for (let i = 1; ; i++) {
    try {
      return await new Promise<Res>((resolve, reject) => {
        const cb: Callback<Res> = (err, res) => (err ? reject(err) : resolve(res));
        method.call(client, req, opts.metadata ?? new Metadata(), { deadline: Date.now() + (opts.deadlineMs ?? 10_000) }, cb);
      });
    } catch (e) {
      const code = (e as ServiceError).code;
      if (i >= attempts || !RETRYABLE.has(code)) throw e;
      await new Promise((r) => setTimeout(r, 100 * 2 ** i * (0.5 + Math.random())));
    }
  }
}

export const insecure = () => credentials.createInsecure();

/** Client credentials: TLS with a CA (and a client certificate for mutual TLS), or insecure. */
export function clientCredentials(tls?: { caFile: string; certFile?: string; keyFile?: string }) {
  if (!tls) return credentials.createInsecure();
  return credentials.createSsl(
    readFileSync(tls.caFile),
    tls.keyFile ? readFileSync(tls.keyFile) : null,
    tls.certFile ? readFileSync(tls.certFile) : null,
  );
}

/** Call metadata carrying an API token. */
export function withToken(token: string): Metadata {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}
