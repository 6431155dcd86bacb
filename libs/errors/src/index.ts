/**
 * Stackyard's error model: every error a caller can see has an UpperCamelCase `reason`.
 * `libs/grpc` maps these classes to gRPC status codes in one place; handlers never do.
 */
const STACKYARD_ERROR = Symbol.for('stackyard.error');

export interface ErrorMetadata {
  readonly [key: string]: string | number | boolean | undefined;
}

export abstract class StackyardError extends Error {
  abstract readonly reason: string;
  readonly metadata: ErrorMetadata;
  readonly [STACKYARD_ERROR] = true;

  constructor(message: string, options: { cause?: unknown; metadata?: ErrorMetadata } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.metadata = options.metadata ?? {};
  }
}

export function isStackyardError(e: unknown): e is StackyardError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[STACKYARD_ERROR] === true;
}

/** Bad input. `field` names the offending field (dotted path), always. */
export class ValidationError extends StackyardError {
  readonly reason = 'InvalidArgument';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`, { metadata: { field } });
  }
}

export class NotFoundError extends StackyardError {
  readonly reason = 'NotFound';
  constructor(kind: string, id: string) {
    super(`${kind} "${id}" not found`, { metadata: { kind, id } });
  }
}

export class AlreadyExistsError extends StackyardError {
  readonly reason = 'AlreadyExists';
  constructor(kind: string, id: string) {
    super(`${kind} "${id}" already exists`, { metadata: { kind, id } });
  }
}

export class InvalidTransitionError extends StackyardError {
  readonly reason = 'InvalidTransition';
  constructor(entity: string, from: string, to: string) {
    super(`${entity}: transition from "${from}" to "${to}" is not allowed`, { metadata: { from, to } });
  }
}

/** Optimistic concurrency: somebody else changed the aggregate first. Retry from a fresh read. */
export class ConcurrencyError extends StackyardError {
  readonly reason = 'ConcurrentModification';
  constructor(kind: string, id: string, expectedVersion: number) {
    super(`${kind} "${id}" was modified concurrently (expected version ${expectedVersion})`, {
      metadata: { kind, id, expectedVersion },
    });
  }
}

export class DependencyUnavailableError extends StackyardError {
  readonly reason = 'DependencyUnavailable';
  constructor(dependency: string, cause?: unknown) {
    super(`${dependency} is unavailable`, { cause, metadata: { dependency } });
  }
}

/** No valid credentials were presented. */
export class UnauthenticatedError extends StackyardError {
  readonly reason = 'Unauthenticated';
  constructor(message = 'missing or invalid API token') {
    super(message);
  }
}

/** Valid credentials, but not allowed to do this (role or site scope). */
export class PermissionDeniedError extends StackyardError {
  readonly reason = 'PermissionDenied';
  constructor(message: string) {
    super(message);
  }
}

export class TimeoutError extends StackyardError {
  readonly reason = 'Timeout';
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${ms} ms`, { metadata: { ms } });
  }
}

/**
 * A failure of a saga step, with its own reason and whether retrying can help.
 * Drivers throw these; the step handler turns them into `…-failed` events.
 */
export class StepFailedError extends StackyardError {
  constructor(
    readonly reason: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message, { metadata: { retryable } });
  }
}

/** Whether a consumer should redeliver (nak) rather than give up (term). */
export function isRetryable(e: unknown): boolean {
  if (e instanceof StepFailedError) return e.retryable;
  if (isStackyardError(e)) {
    return e.reason === 'DependencyUnavailable' || e.reason === 'Timeout' || e.reason === 'ConcurrentModification';
  }
  // Unknown errors (driver crashes, network errors from libraries) are retried a bounded number of times.
  return true;
}
