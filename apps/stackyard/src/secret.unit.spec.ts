import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseKey, unseal } from '@stackyard/provisioning';
import { secretCommand } from './secret';


let dir: string;
let out: string[];
let err: string[];
const io = (input: string) => ({ stdin: Readable.from([input]), out: (l: string) => out.push(l), err: (l: string) => err.push(l) });
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'secret-'));
  out = [];
  err = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('stackyard secret', () => {
  it('keygen prints a 32-byte key; seal prints a value that opens with it to the secret, without the newline', async () => {
    expect(await secretCommand(['keygen'], undefined, io(''))).toBe(0);
    const key = out[0]!;
    expect(parseKey(key)).toHaveLength(32);
    const file = join(dir, 'key');
    writeFileSync(file, key);
    chmodSync(file, 0o600);
    out = [];
    expect(await secretCommand(['seal'], file, io('s3cret pass\n'))).toBe(0);
    expect(out[0]).toMatch(/^enc:v1:/);
    expect(unseal(out[0]!, parseKey(key))).toBe('s3cret pass');
  });

  it.each<[string, string[], string | undefined, string, number, RegExp]>([
    ['no subcommand', [], undefined, '', 64, /expected `secret keygen` or `secret seal --key-file FILE`/],
    ['seal without a key file', ['seal'], undefined, 'x', 64, /needs --key-file FILE/],
    ['a missing key file', ['seal'], '/nonexistent/key', 'x', 1, /--key-file \/nonexistent\/key: ENOENT/],
    ['an empty secret', ['seal'], 'KEY', '', 1, /nothing on stdin to seal/],
  ])('refuses %s', async (_what, args, keyFile, input, code, msg) => {
    let kf = keyFile;
    if (keyFile === 'KEY') {
      kf = join(dir, 'key');
      writeFileSync(kf, Buffer.alloc(32, 1).toString('base64'));
      chmodSync(kf, 0o600);
    }
    expect(await secretCommand(args, kf, io(input))).toBe(code);
    expect(err.join('\n')).toMatch(msg);
    expect(out).toEqual([]);
  });
});
