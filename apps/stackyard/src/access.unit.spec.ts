import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAccess } from './access';

// The CLI's token and TLS flags: every bad one named, before any call (exit 64 in main).
describe('resolveAccess', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stackyard-access-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const message = (flags: Record<string, string>, env: Record<string, string> = {}) => {
    const r = resolveAccess(flags, env);
    return r.ok ? 'ok' : r.message;
  };

  it('takes the token from --token, --token-file or the environment, flags first', () => {
    const tokenFile = file('token', '  tok-from-file\n');
    const token = (flags: Record<string, string>, env: Record<string, string> = {}) => {
      const r = resolveAccess(flags, env);
      return r.ok ? r.access.token : r.message;
    };
    expect(token({})).toBeUndefined();
    expect(token({ token: 'tok-flag' }, { STACKYARD_TOKEN: 'tok-env' })).toBe('tok-flag');
    expect(token({}, { STACKYARD_TOKEN: 'tok-env' })).toBe('tok-env');
    expect(token({ 'token-file': tokenFile }, { STACKYARD_TOKEN: 'tok-env' })).toBe('tok-from-file');
    expect(token({ token: 'tok-flag' }, { STACKYARD_TOKEN_FILE: tokenFile })).toBe('tok-flag');
    expect(token({}, { STACKYARD_TOKEN_FILE: tokenFile })).toBe('tok-from-file');
  });

  it('names the bad token flag', () => {
    expect(message({ token: 'a', 'token-file': 'b' })).toBe('--token and --token-file are alternatives: pass one');
    expect(message({ 'token-file': join(dir, 'missing') })).toBe(`--token-file ${join(dir, 'missing')}: cannot read it (ENOENT)`);
    expect(message({ 'token-file': file('empty', '\n') })).toBe(`--token-file ${join(dir, 'empty')}: the file is empty`);
    expect(message({ token: 'two words' })).toBe('--token: an API token has no spaces or line breaks');
    expect(message({ 'token-file': file('lines', 'one\ntwo\n') })).toMatch(/^--token: an API token has no spaces or line breaks \(read from /);
  });

  it('names the bad TLS flag', () => {
    const pem = file('x.pem', 'not checked here');
    expect(message({ 'tls-cert': pem })).toBe('--tls-cert and --tls-key go together (mutual TLS): --tls-key is missing');
    expect(message({ 'tls-key': pem })).toBe('--tls-cert and --tls-key go together (mutual TLS): --tls-cert is missing');
    expect(message({ 'tls-cert': pem, 'tls-key': pem })).toBe("--tls-cert needs --tls-ca, the CA that signed the services' certificates");
    expect(message({ 'tls-ca': join(dir, 'nope.crt') })).toBe(`--tls-ca ${join(dir, 'nope.crt')}: cannot read it (ENOENT)`);
    expect(message({}, { STACKYARD_TLS_CA: join(dir, 'nope.crt') })).toBe(`--tls-ca ${join(dir, 'nope.crt')}: cannot read it (ENOENT)`);
  });
});
