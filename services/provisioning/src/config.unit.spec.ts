import { describe, expect, it } from 'vitest';
import { parseConfig } from '@stackyard/config';
import { IRONIC_REQUEST_TIMEOUT_MS } from './adapters/ironic/client';
import { configSchema } from './config';

const env = { GRPC_PORT: '50052', HTTP_PORT: '8082' };

describe('provisioning configuration: IRONIC_REQUEST_TIMEOUT_MS', () => {
  it('Given no value, then the driver default (longer than Ironic\'s 120 s wait for its conductor)', () => {
    expect(parseConfig(configSchema, env).IRONIC_REQUEST_TIMEOUT_MS).toBe(IRONIC_REQUEST_TIMEOUT_MS);
    expect(parseConfig(configSchema, { ...env, IRONIC_REQUEST_TIMEOUT_MS: '200000' }).IRONIC_REQUEST_TIMEOUT_MS).toBe(200_000);
  });

  it.each(['-5', '0', 'soon', '1.5'])('Given %j, then the configuration is refused naming the variable', (v) => {
    expect(() => parseConfig(configSchema, { ...env, IRONIC_REQUEST_TIMEOUT_MS: v })).toThrow(/IRONIC_REQUEST_TIMEOUT_MS: /);
  });
});
