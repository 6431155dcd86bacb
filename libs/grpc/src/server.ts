import {
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
export async function startGrpcServer(
  host: string,
  port: number,
  services: readonly { name: string; definition: ServiceDefinition; impl: UntypedServiceImplementation }[],
): Promise<GrpcServer> {
  const server = new Server();
  const statusMap: ServingStatusMap = { '': 'NOT_SERVING' };
  for (const s of services) statusMap[s.name] = 'NOT_SERVING';
  const health = new HealthImplementation(statusMap);
  health.addToServer(server);
  for (const s of services) server.addService(s.definition, s.impl);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
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
