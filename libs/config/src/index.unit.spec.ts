import { describe, expect, it } from 'vitest';
import { ConfigError, baseConfigSchema, parseConfig, z } from './index';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('parseConfig', () => {
  it('applies defaults, coerces numbers and freezes the result', () => {
    const c = parseConfig(baseConfigSchema, { GRPC_PORT: '50051', HTTP_PORT: '0' });
    expect(c).toEqual({
      NATS_URL: 'nats://127.0.0.1:4222',
      MONGO_URL: 'mongodb://127.0.0.1:27017/',
      MONGO_DB_PREFIX: 'stackyard',
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: 50051,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: 0,
      LOG_LEVEL: 'info',
      CONSUMER_ACK_WAIT_MS: 30_000,
      SHUTDOWN_TIMEOUT_MS: 25_000,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('ignores variables it does not know', () => {
    expect(parseConfig(baseConfigSchema, { GRPC_PORT: '1', HTTP_PORT: '2', PATH: '/usr/bin' })).not.toHaveProperty('PATH');
  });

  it('Given several bad variables, then it lists every problem, each naming its variable', () => {
    const e = configError(() =>
      parseConfig(baseConfigSchema, {
        MONGO_URL: 'postgres://db',
        MONGO_DB_PREFIX: 'Bad-Prefix',
        GRPC_PORT: 'fifty',
        HTTP_PORT: '70000',
        LOG_LEVEL: 'loud',
        CONSUMER_ACK_WAIT_MS: '500',
        SHUTDOWN_TIMEOUT_MS: '-5',
      }),
    );
    expect(e.problems.map((p) => p.split(':')[0])).toEqual(['MONGO_URL', 'MONGO_DB_PREFIX', 'GRPC_PORT', 'HTTP_PORT', 'LOG_LEVEL', 'CONSUMER_ACK_WAIT_MS', 'SHUTDOWN_TIMEOUT_MS']);
    expect(e.problems[0]).toBe('MONGO_URL: must be a mongodb:// URL');
    expect(e.problems[1]).toBe('MONGO_DB_PREFIX: lowercase letters, digits and _');
    expect(e.message.split('\n')).toEqual(['invalid configuration:', ...e.problems.map((p) => `  - ${p}`)]);
    expect(e.name).toBe('ConfigError');
  });

  it('reports required variables that are missing', () => {
    const e = configError(() => parseConfig(baseConfigSchema, {}));
    expect(e.problems.map((p) => p.split(':')[0])).toEqual(['GRPC_PORT', 'HTTP_PORT']);
  });

  it('names (root) for a problem of the whole environment', () => {
    const schema = z.object({ A: z.string().optional(), B: z.string().optional() }).refine((c) => c.A || c.B, 'set A or B');
    expect(configError(() => parseConfig(schema, {})).problems).toEqual(['(root): set A or B']);
  });

  it('accepts mongodb+srv URLs', () => {
    expect(parseConfig(baseConfigSchema, { GRPC_PORT: '1', HTTP_PORT: '2', MONGO_URL: 'mongodb+srv://cluster.example.net/' }).MONGO_URL).toBe('mongodb+srv://cluster.example.net/');
  });
});
