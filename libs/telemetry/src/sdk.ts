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

export function startTelemetry(serviceName: string): { shutdown(): Promise<void> } {
  const sdk = new NodeSDK({
    serviceName,
    instrumentations: [new GrpcInstrumentation(), new MongoDBInstrumentation()],
  });
  sdk.start();
  started = { shutdown: () => sdk.shutdown() };
  return started;
}
