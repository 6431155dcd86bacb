import { NodeSDK } from '@opentelemetry/sdk-node';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';

/**
 * Starts the OpenTelemetry SDK (loaded before anything else through `--require`). Exporters are
 * configured by the standard OTEL_* variables; OTEL_SDK_DISABLED=true turns it off.
 */
export function startTelemetry(serviceName: string): { shutdown(): Promise<void> } {
  const sdk = new NodeSDK({
    serviceName,
    instrumentations: [new GrpcInstrumentation(), new MongoDBInstrumentation()],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
