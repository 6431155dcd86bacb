import { readFileSync } from 'node:fs';
import {
  Metadata,
  Server,
  ServerCredentials,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatusMap } from 'grpc-health-check';
import { withServerSpan, type Logger } from '@stackyard/telemetry';
import { authorize, type TokenStore } from './auth';
import { toServiceError } from './status';

/** Wraps an async handler into a grpc-js unary handler with the one error mapping. */
export function unary<Req, Res>(log: Logger, fn: (req: Req) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const header = (k: string) => {
      const v = call.metadata.get(k)[0];
      return typeof v === 'string' ? v : undefined;
    };
    withServerSpan(call.getPath(), header, () => fn(call.request)).then(
      (res) => callback(null, res),
      (e: unknown) => {
        const se = toServiceError(e);
        if (se.code === 13) log.error({ err: e, path: call.getPath() }, 'unhandled error in gRPC handler');
        callback(se, null);
      },
    );
  };
}

/** Wraps an async server-streaming handler; it ends the stream when `fn` resolves. */
export function serverStream<Req, Res>(
  log: Logger,
  fn: (req: Req, call: ServerWritableStream<Req, Res>) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    fn(call.request, call).then(
      () => call.end(),
      (e: unknown) => {
        const se = toServiceError(e);
        if (se.code === 13) log.error({ err: e, path: call.getPath() }, 'unhandled error in gRPC stream');
        call.destroy(Object.assign(new Error(se.details), se));
      },
    );
  };
}

export interface GrpcServer {
  readonly port: number;
  setServing(serving: boolean): void;
  stop(graceMs?: number): Promise<void>;
}

/** Starts a gRPC server with the standard health service. `serviceName` is reported by health. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** When set, clients must present a certificate signed by this CA (mutual TLS). */
  readonly clientCaFile?: string | undefined;
}

export interface ServerSecurity {
  readonly tls?: TlsFiles | undefined;
  /** When set, every RPC but the health service needs a token allowed to call it. */
  readonly tokens?: TokenStore | undefined;
  readonly log?: Logger;
}

/** Wraps every handler of a service with the token check (the health service stays open for probes). */
function guarded(definition: ServiceDefinition, impl: UntypedServiceImplementation, tokens: TokenStore, log?: Logger): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(impl)) {
    const path = definition[name]?.path ?? name;
    const check = (call: { metadata: Metadata; request?: unknown }) => {
      const auth = call.metadata.get('authorization')[0];
      try {
        authorize(tokens, typeof auth === 'string' ? auth : undefined, path, call.request);
        return undefined;
      } catch (e) {
        log?.warn({ path, reason: (e as { reason?: string }).reason }, 'request denied');
        const se = toServiceError(e);
        return Object.assign(new Error(se.details), se);
      }
    };
    if (definition[name]?.responseStream) {
      out[name] = ((call: ServerWritableStream<unknown, unknown>) => {
        const denied = check(call);
        if (denied) call.destroy(denied);
        else (handler as (c: unknown) => void)(call);
      }) as never;
    } else {
      out[name] = ((call: { metadata: Metadata; request: unknown }, cb: (e: unknown, r: unknown) => void) => {
        const denied = check(call);
        if (denied) cb(denied, null);
        else (handler as (c: unknown, cb: unknown) => void)(call, cb);
      }) as never;
    }
  }
  return out;
}

export async function startGrpcServer(
  host: string,
  port: number,
  services: readonly { name: string; definition: ServiceDefinition; impl: UntypedServiceImplementation }[],
  security: ServerSecurity = {},
): Promise<GrpcServer> {
  const server = new Server();
  const statusMap: ServingStatusMap = { '': 'NOT_SERVING' };
  for (const s of services) statusMap[s.name] = 'NOT_SERVING';
  const health = new HealthImplementation(statusMap);
  health.addToServer(server);
  for (const s of services) {
    server.addService(s.definition, security.tokens ? guarded(s.definition, s.impl, security.tokens, security.log) : s.impl);
  }
  const t = security.tls;
  const creds = t
    ? ServerCredentials.createSsl(
        t.clientCaFile ? readFileSync(t.clientCaFile) : null,
        [{ cert_chain: readFileSync(t.certFile), private_key: readFileSync(t.keyFile) }],
        Boolean(t.clientCaFile),
      )
    : ServerCredentials.createInsecure();
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p))),
  );
  const setServing = (serving: boolean) => {
    for (const name of Object.keys(statusMap)) health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
  };
  return {
    port: bound,
    setServing,
    stop: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        setServing(false);
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
}
