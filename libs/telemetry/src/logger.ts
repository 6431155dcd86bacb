import pino from 'pino';
import { trace } from '@opentelemetry/api';

/** The logging port: pino-compatible, with child loggers carrying bindings. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Paths redacted in every log line: credentials never reach logs. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'bmc.password',
  '*.bmc.password',
  'credentials',
  '*.credentials',
  'authorization',
  '*.authorization',
  'token',
  '*.token',
];

export function createLogger(service: string, opts: { level?: string; site?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service, ...(opts.site ? { site: opts.site } : {}) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      mixin() {
        const ctx = trace.getActiveSpan()?.spanContext();
        return ctx ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
      },
    },
    (opts.destination as pino.DestinationStream | undefined) ?? pino.destination(1),
  );
}
