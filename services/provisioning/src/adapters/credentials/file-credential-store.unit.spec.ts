import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepFailedError, ValidationError } from '@stackyard/errors';
import { FileCredentialStore } from './file-credential-store';
import { newKey, parseKey, seal } from './sealed';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'creds-'));
  file = join(dir, 'bmc.yaml');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(text: string, mode = 0o600) {
  writeFileSync(file, text);
  chmodSync(file, mode);
}

describe('FileCredentialStore', () => {
  it('resolves references to credentials, and nothing for an empty reference', async () => {
    write('vault:bmc/ctl-01: { username: admin, password: "p@ss: w0rd" }\n');
    const s = new FileCredentialStore(file);
    expect(await s.resolve('vault:bmc/ctl-01')).toEqual({ username: 'admin', password: 'p@ss: w0rd' });
    expect(await s.resolve('')).toBeUndefined();
  });

  it('an unknown reference fails for good naming the reference, never a password', async () => {
    write('a: { username: admin, password: hunter2 }\n');
    const e = await new FileCredentialStore(file).resolve('vault:bmc/nope').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StepFailedError);
    expect(e).toMatchObject({ reason: 'CredentialsNotFound', retryable: false });
    expect((e as Error).message).toContain('"vault:bmc/nope"');
    expect((e as Error).message).not.toContain('hunter2');
  });

  it('reads the file again when it changes (rotation without restart)', async () => {
    write('a: { username: admin, password: one }\n');
    const s = new FileCredentialStore(file);
    expect((await s.resolve('a'))?.password).toBe('one');
    write('a: { username: admin, password: two-rotated }\n');
    const later = new Date(Date.now() + 2000);
    const { utimesSync } = await import('node:fs');
    utimesSync(file, later, later);
    expect((await s.resolve('a'))?.password).toBe('two-rotated');
  });

  it.each<[string, string, number, RegExp]>([
    ['a file readable by others', 'a: { username: x, password: y }', 0o644, /readable by group or others \(mode 644\); chmod 600/],
    ['malformed YAML', 'a: [unclosed', 0o600, /not valid YAML/],
    ['a list', '- a', 0o600, /must map credential references/],
    ['an entry without username', 'a: { password: y }', 0o600, /entry "a" needs a non-empty string username/],
    ['an entry with a numeric password', 'a: { username: x, password: 1234 }', 0o600, /entry "a" needs/],
  ])('rejects %s naming BMC_CREDENTIALS_FILE', (_what, text, mode, msg) => {
    write(text, mode);
    const e = (() => {
      try {
        new FileCredentialStore(file);
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('BMC_CREDENTIALS_FILE');
    expect((e as Error).message).toMatch(msg);
    expect((e as Error).message).not.toContain('1234');
  });
});

describe('FileCredentialStore with sealed passwords (BMC_CREDENTIALS_KEY_FILE)', () => {
  let keyFile: string;
  let key: Buffer;
  beforeEach(() => {
    keyFile = join(dir, 'key');
    const k = newKey();
    writeFileSync(keyFile, `${k}\n`);
    chmodSync(keyFile, 0o600);
    key = parseKey(k);
  });

  it('opens sealed passwords with the key; the file itself never holds the password', async () => {
    const sealed = seal('hunter2', key);
    write(`a: { username: admin, password: "${sealed}" }\n`);
    expect(sealed).toMatch(/^enc:v1:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('hunter2');
    expect(seal('hunter2', key)).not.toBe(sealed); // a fresh IV every time
    expect(await new FileCredentialStore(file, keyFile).resolve('a')).toEqual({ username: 'admin', password: 'hunter2' });
  });

  it.each<[string, () => string, string | undefined, RegExp]>([
    ['a clear password while a key is set', () => 'a: { username: x, password: hunter2 }', 'key', /entry "a" has a clear-text password while BMC_CREDENTIALS_KEY_FILE is set/],
    ['a sealed password without a key', () => `a: { username: x, password: "${seal('hunter2', key)}" }`, undefined, /entry "a" is sealed but BMC_CREDENTIALS_KEY_FILE is not set/],
    ['a sealed password under another key', () => `a: { username: x, password: "${seal('hunter2', parseKey(newKey()))}" }`, 'key', /does not open with this key/],
    ['an altered sealed password', () => `a: { username: x, password: "${seal('hunter2', key).slice(0, -2)}AA" }`, 'key', /does not open with this key/],
  ])('refuses %s, naming BMC_CREDENTIALS_FILE and never the password', (_what, text, useKey, msg) => {
    write(text());
    const e = (() => {
      try {
        new FileCredentialStore(file, useKey ? keyFile : undefined);
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).field).toBe('BMC_CREDENTIALS_FILE');
    expect((e as Error).message).toMatch(msg);
    expect((e as Error).message).not.toContain('hunter2');
  });

  it.each<[string, string, number, RegExp]>([
    ['a key readable by others', newKey(), 0o640, /mode 640/],
    ['a key of the wrong size', Buffer.alloc(16).toString('base64'), 0o600, /32 bytes in base64 \(got 16 bytes\)/],
  ])('refuses %s naming BMC_CREDENTIALS_KEY_FILE', (_what, content, mode, msg) => {
    write('{}');
    writeFileSync(keyFile, content);
    chmodSync(keyFile, mode);
    expect(() => new FileCredentialStore(file, keyFile)).toThrow(msg);
    try {
      new FileCredentialStore(file, keyFile);
    } catch (e) {
      expect((e as ValidationError).field).toBe('BMC_CREDENTIALS_KEY_FILE');
    }
  });
});
