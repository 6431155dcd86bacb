import { describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  ConcurrencyError,
  DependencyUnavailableError,
  InvalidTransitionError,
  NotFoundError,
  StackyardError,
  StepFailedError,
  TimeoutError,
  ValidationError,
  isRetryable,
  isStackyardError,
} from './index';

describe('error classes', () => {
  it.each<[string, StackyardError, string, string, Record<string, unknown>]>([
    ['ValidationError', new ValidationError('bmc.address', 'is not a host name'), 'InvalidArgument', 'bmc.address: is not a host name', { field: 'bmc.address' }],
    ['NotFoundError', new NotFoundError('host', 'dc1-x'), 'NotFound', 'host "dc1-x" not found', { kind: 'host', id: 'dc1-x' }],
    ['AlreadyExistsError', new AlreadyExistsError('site', 'dc1'), 'AlreadyExists', 'site "dc1" already exists', { kind: 'site', id: 'dc1' }],
    ['InvalidTransitionError', new InvalidTransitionError('node', 'active', 'enroll'), 'InvalidTransition', 'node: transition from "active" to "enroll" is not allowed', { from: 'active', to: 'enroll' }],
    ['ConcurrencyError', new ConcurrencyError('node', 'n1', 3), 'ConcurrentModification', 'node "n1" was modified concurrently (expected version 3)', { kind: 'node', id: 'n1', expectedVersion: 3 }],
    ['DependencyUnavailableError', new DependencyUnavailableError('mongodb'), 'DependencyUnavailable', 'mongodb is unavailable', { dependency: 'mongodb' }],
    ['TimeoutError', new TimeoutError('enroll', 5000), 'Timeout', 'enroll did not finish within 5000 ms', { ms: 5000 }],
    ['StepFailedError', new StepFailedError('BmcTimeout', 'BMC timed out', true), 'BmcTimeout', 'BMC timed out', { retryable: true }],
  ])('%s has its reason, name, message and metadata', (name, e, reason, message, metadata) => {
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(StackyardError);
    expect(e.name).toBe(name);
    expect(e.reason).toBe(reason);
    expect(e.message).toBe(message);
    expect(e.metadata).toEqual(metadata);
    expect(e.reason).toMatch(/^[A-Z][A-Za-z]+$/);
    expect(isStackyardError(e)).toBe(true);
  });

  it('ValidationError exposes the field', () => {
    expect(new ValidationError('network.cidr', 'bad').field).toBe('network.cidr');
  });

  it('DependencyUnavailableError keeps its cause, others have none', () => {
    const cause = new Error('ECONNREFUSED');
    expect(new DependencyUnavailableError('nats', cause).cause).toBe(cause);
    expect(new NotFoundError('host', 'x').cause).toBeUndefined();
  });

  it('never carries a numeric code (grpc-js would use it as the status)', () => {
    expect((new NotFoundError('host', 'x') as unknown as { code?: unknown }).code).toBeUndefined();
  });
});

describe('isStackyardError', () => {
  it('recognises an error from another copy of the package by its global symbol', () => {
    const foreign = Object.assign(new Error('from another bundle'), { reason: 'NotFound', metadata: {}, [Symbol.for('stackyard.error')]: true });
    expect(isStackyardError(foreign)).toBe(true);
  });

  it.each([new Error('plain'), new TypeError('t'), null, undefined, 'NotFound', 42, { reason: 'NotFound' }, { [Symbol('stackyard.error')]: true }])(
    'is false for %o',
    (v) => {
      expect(isStackyardError(v)).toBe(false);
    },
  );
});

describe('isRetryable', () => {
  it.each<[string, unknown, boolean]>([
    ['a retryable step failure', new StepFailedError('BmcTimeout', 'x', true), true],
    ['a non-retryable step failure', new StepFailedError('BmcError', 'x', false), false],
    ['an unavailable dependency', new DependencyUnavailableError('mongodb'), true],
    ['a timeout', new TimeoutError('deploy', 10), true],
    ['a concurrent modification', new ConcurrencyError('node', 'n', 1), true],
    ['bad input', new ValidationError('f', 'bad'), false],
    ['a missing entity', new NotFoundError('node', 'n'), false],
    ['a duplicate', new AlreadyExistsError('host', 'h'), false],
    ['an invalid transition', new InvalidTransitionError('node', 'a', 'b'), false],
    ['an unknown error (driver crash)', new Error('socket hang up'), true],
    ['a thrown string', 'boom', true],
  ])('%s -> %s', (_what, e, expected) => {
    expect(isRetryable(e)).toBe(expected);
  });
});
