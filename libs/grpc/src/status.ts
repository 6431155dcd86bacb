import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { isStackyardError } from '@stackyard/errors';

export const REASON_KEY = 'x-stackyard-reason';
export const FIELD_KEY = 'x-stackyard-field';

const CODES: Record<string, status> = {
  InvalidArgument: status.INVALID_ARGUMENT,
  NotFound: status.NOT_FOUND,
  AlreadyExists: status.ALREADY_EXISTS,
  InvalidTransition: status.FAILED_PRECONDITION,
  ConcurrentModification: status.ABORTED,
  DependencyUnavailable: status.UNAVAILABLE,
  Timeout: status.DEADLINE_EXCEEDED,
  Unauthenticated: status.UNAUTHENTICATED,
  PermissionDenied: status.PERMISSION_DENIED,
};

/**
 * An ASCII metadata value: a field path may carry a caller's key (`labels.<key>`), and grpc-js throws on
 * anything outside printable ASCII in a text header. Such values are percent-encoded (RFC 3986), the
 * rest is kept as it is.
 */
export function headerValue(v: string): string {
  return /^[\x20-\x7e]*$/.test(v) ? v : encodeURIComponent(v);
}

/**
 * The one mapping from errors to gRPC statuses (STYLE F). Unknown errors become INTERNAL with a
 * generic message; their details go to the log only.
 */
export function toServiceError(e: unknown): Partial<ServiceError> & { code: status; details: string } {
  const metadata = new Metadata();
  if (isStackyardError(e)) {
    metadata.set(REASON_KEY, headerValue(e.reason));
    const field = e.metadata['field'];
    if (typeof field === 'string') metadata.set(FIELD_KEY, headerValue(field));
    const code = CODES[e.reason] ?? status.FAILED_PRECONDITION;
    return { code, details: e.message, message: e.message, metadata };
  }
  metadata.set(REASON_KEY, 'Internal');
  return { code: status.INTERNAL, details: 'internal error', message: 'internal error', metadata };
}
