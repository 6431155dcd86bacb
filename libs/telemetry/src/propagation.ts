import { context, propagation, trace, SpanKind, SpanStatusCode, ROOT_CONTEXT, type Span } from '@opentelemetry/api';
import {
  ATTR_CLOUDEVENTS_EVENT_TYPE,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  MESSAGING_SYSTEM_NATS,
} from './semconv';

const tracer = () => trace.getTracer('stackyard');

/** Adds traceparent/tracestate of the active context to a header record (no-op without a span). */
export function injectTraceHeaders(headers: Record<string, string>): Record<string, string> {
  propagation.inject(context.active(), headers);
  return headers;
}

/** The remote parent carried by traceparent/tracestate headers (NATS headers or gRPC metadata). */
function contextFrom(header: (name: string) => string | undefined) {
  const carrier: Record<string, string> = {};
  for (const k of ['traceparent', 'tracestate']) {
    const v = header(k);
    if (v) carrier[k] = v;
  }
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/**
 * Runs a gRPC handler in a server span, continuing the caller's trace from `traceparent` metadata.
 * When gRPC auto-instrumentation already made a span, that span is used as it is.
 */
export async function withServerSpan<R>(method: string, header: (name: string) => string | undefined, fn: () => Promise<R>): Promise<R> {
  if (trace.getActiveSpan()) return fn();
  const parent = contextFrom(header);
  const span = tracer().startSpan(method, { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.method': method } }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), fn);
  } catch (e) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
    throw e;
  } finally {
    span.end();
  }
}

/**
 * Runs `fn` in a consumer span whose parent is the producer's context carried in the headers, so a
 * node's saga is one trace across services.
 */
export async function withConsumerSpan<R>(
  info: { subject: string; eventId: string; eventType: string; consumer: string },
  header: (name: string) => string | undefined,
  fn: (span: Span) => Promise<R>,
): Promise<R> {
  const parent = contextFrom(header);
  const span = tracer().startSpan(
    `process ${info.eventType}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_NATS,
        [ATTR_MESSAGING_DESTINATION_NAME]: info.subject,
        [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
        [ATTR_MESSAGING_MESSAGE_ID]: info.eventId,
        [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: info.consumer,
        [ATTR_CLOUDEVENTS_EVENT_TYPE]: info.eventType,
      },
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (e) {
    span.recordException(e as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
    throw e;
  } finally {
    span.end();
  }
}

/**
 * Runs a store operation in a client span (`db.system` mongodb) under the active span, so that a
 * saga's trace shows its reads and writes next to its gRPC and NATS spans whatever the driver-level
 * instrumentation does (it is not loaded in every process, e.g. in tests).
 */
export async function withDbSpan<R>(operation: string, collection: string, fn: () => Promise<R>): Promise<R> {
  const span = tracer().startSpan(`${operation} ${collection}`, {
    kind: SpanKind.CLIENT,
    attributes: { 'db.system': 'mongodb', 'db.operation.name': operation, 'db.collection.name': collection },
  });
  try {
    return await context.with(trace.setSpan(context.active(), span), fn);
  } catch (e) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
    throw e;
  } finally {
    span.end();
  }
}
