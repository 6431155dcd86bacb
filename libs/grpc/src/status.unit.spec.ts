import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import {
  AlreadyExistsError,
  ConcurrencyError,
  DependencyUnavailableError,
  InvalidTransitionError,
  NotFoundError,
  StepFailedError,
  TimeoutError,
  ValidationError,
} from '@stackyard/errors';
import { RETRYABLE } from './client';
import { FIELD_KEY, REASON_KEY, toServiceError } from './status';

describe('toServiceError', () => {
  it.each<[string, Error, status, string]>([
    ['ValidationError', new ValidationError('name', 'bad'), status.INVALID_ARGUMENT, 'InvalidArgument'],
    ['NotFoundError', new NotFoundError('host', 'h'), status.NOT_FOUND, 'NotFound'],
    ['AlreadyExistsError', new AlreadyExistsError('host', 'h'), status.ALREADY_EXISTS, 'AlreadyExists'],
    ['InvalidTransitionError', new InvalidTransitionError('node', 'active', 'enroll'), status.FAILED_PRECONDITION, 'InvalidTransition'],
    ['ConcurrencyError', new ConcurrencyError('node', 'n', 2), status.ABORTED, 'ConcurrentModification'],
    ['DependencyUnavailableError', new DependencyUnavailableError('mongodb'), status.UNAVAILABLE, 'DependencyUnavailable'],
    ['TimeoutError', new TimeoutError('deploy', 100), status.DEADLINE_EXCEEDED, 'Timeout'],
    ['StepFailedError (any other reason)', new StepFailedError('AddressPoolExhausted', 'pool empty', false), status.FAILED_PRECONDITION, 'AddressPoolExhausted'],
  ])('maps %s to its status, keeps the message and puts the reason in x-stackyard-reason', (_name, e, code, reason) => {
    const se = toServiceError(e);
    expect(se.code).toBe(code);
    expect(se.details).toBe(e.message);
    expect(se.message).toBe(e.message);
    expect(se.metadata?.get(REASON_KEY)).toEqual([reason]);
    expect(REASON_KEY).toBe('x-stackyard-reason');
  });

  it('adds the offending field of a ValidationError as x-stackyard-field, and only for those', () => {
    expect(toServiceError(new ValidationError('bmc.address', 'bad')).metadata?.get(FIELD_KEY)).toEqual(['bmc.address']);
    expect(FIELD_KEY).toBe('x-stackyard-field');
    expect(toServiceError(new NotFoundError('host', 'h')).metadata?.get(FIELD_KEY)).toEqual([]);
  });

  it('percent-encodes a field path that is not printable ASCII (a caller-chosen label key), so the status can still be sent', () => {
    const se = toServiceError(new ValidationError('labels.rack\u00e9\n', 'bad'));
    expect(se.metadata?.get(FIELD_KEY)).toEqual(['labels.rack%C3%A9%0A']);
    expect(decodeURIComponent(String(se.metadata?.get(FIELD_KEY)[0]))).toBe('labels.rack\u00e9\n');
  });

  it.each<[string, unknown]>([
    ['a plain Error', new Error('E11000 duplicate key: mongodb://admin:s3cret@db/stackyard')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 's3cret')")],
    ['a thrown string', 's3cret'],
    ['an error with an HTTP code', Object.assign(new Error('s3cret'), { code: 404 })],
  ])('maps %s to INTERNAL with a generic message that hides the details', (_what, e) => {
    const se = toServiceError(e);
    expect(se.code).toBe(status.INTERNAL);
    expect(se.details).toBe('internal error');
    expect(se.message).toBe('internal error');
    expect(JSON.stringify(se)).not.toContain('s3cret');
    expect(se.metadata?.get(REASON_KEY)).toEqual(['Internal']);
  });

  it('keeps the client retry set to UNAVAILABLE, RESOURCE_EXHAUSTED and ABORTED', () => {
    expect([...RETRYABLE].sort((a, b) => a - b)).toEqual([status.RESOURCE_EXHAUSTED, status.ABORTED, status.UNAVAILABLE].sort((a, b) => a - b));
    expect(RETRYABLE.has(toServiceError(new ConcurrencyError('n', 'n', 1)).code)).toBe(true);
    expect(RETRYABLE.has(toServiceError(new ValidationError('f', 'x')).code)).toBe(false);
  });
});
