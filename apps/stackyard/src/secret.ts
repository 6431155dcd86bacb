import { readFileSync, statSync } from 'node:fs';
import { newKey, parseKey, seal } from '@stackyard/provisioning';

export interface SecretIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

async function readAll(s: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `stackyard secret keygen | seal --key-file FILE`: sealed BMC passwords for BMC_CREDENTIALS_FILE
 * (the provisioning service opens them with BMC_CREDENTIALS_KEY_FILE). Exit 0 done, 1 refused, 64 usage.
 */
export async function secretCommand(args: readonly string[], keyFile: string | undefined, io: SecretIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'keygen' && rest.length === 0) {
    io.out(newKey());
    io.err('stackyard: store it in a file readable only by the provisioning service (chmod 600) and set BMC_CREDENTIALS_KEY_FILE');
    return 0;
  }
  if (sub !== 'seal' || rest.length !== 0) {
    io.err('stackyard: expected `secret keygen` or `secret seal --key-file FILE` (the secret on stdin)');
    return 64;
  }
  if (!keyFile) {
    io.err('stackyard: secret seal needs --key-file FILE (make one with `stackyard secret keygen > FILE; chmod 600 FILE`)');
    return 64;
  }
  let key: Buffer;
  try {
    const mode = statSync(keyFile).mode;
    if ((mode & 0o077) !== 0) {
      io.err(`stackyard: ${keyFile} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
      return 1;
    }
    key = parseKey(readFileSync(keyFile, 'utf8'));
  } catch (e) {
    io.err(`stackyard: --key-file ${keyFile}: ${(e as Error).message}`);
    return 1;
  }
  const secret = (await readAll(io.stdin)).replace(/\r?\n$/, '');
  if (!secret) {
    io.err('stackyard: nothing on stdin to seal (e.g. `printf %s "$PASSWORD" | stackyard secret seal --key-file FILE`)');
    return 1;
  }
  io.out(seal(secret, key));
  return 0;
}
