import { NodeSDK } from '@opentelemetry/sdk-node';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';

/**
 * Starts the OpenTelemetry SDK (loaded before anything else through `--require`). Exporters are
 * configured by the standard OTEL_* variables; OTEL_SDK_DISABLED=true turns it off.
 */
let started: { shutdown(): Promise<void> } | undefined;

/** Flushes and stops the SDK started by `startTelemetry` (the last step of a graceful shutdown). */
export async function shutdownTelemetry(): Promise<void> {
  await started?.shutdown();
  started = undefined;
}

/**
 * True when every signal's exporter is explicitly `none` (OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER,
 * OTEL_LOGS_EXPORTER): nothing would leave the process, so the SDK is not started. Spans, the async
 * context manager and the MongoDB/gRPC instrumentations cost about a third of a service's CPU under
 * load (bench/saga.ts, docs/performance.md) for telemetry nobody receives. Unset exporters keep the
 * SDK's default (OTLP).
 */
export function telemetryExportsNothing(env: NodeJS.ProcessEnv): boolean {
  return ['OTEL_TRACES_EXPORTER', 'OTEL_METRICS_EXPORTER', 'OTEL_LOGS_EXPORTER'].every((k) => env[k]?.trim() === 'none');
}

// eslint-disable-next-line n/no-process-env
export function startTelemetry(serviceName: string, env: NodeJS.ProcessEnv = process.env): { shutdown(): Promise<void> } {
  if (telemetryExportsNothing(env)) {
    started = { shutdown: async () => undefined };
    return started;
  }
  const sdk = new NodeSDK({
    serviceName,
    instrumentations: [new GrpcInstrumentation(), new MongoDBInstrumentation()],
  });
  sdk.start();
  started = { shutdown: () => sdk.shutdown() };
  return started;
}
