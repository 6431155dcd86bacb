import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepFailedError, ValidationError } from '@stackyard/errors';
import { FileCredentialStore } from './file-credential-store';

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
