import { readFileSync } from 'node:fs';
import { clientCredentials, insecure, REASON_KEY } from '@stackyard/grpc';

/** How the CLI reaches a secured platform: the API token it sends and its channel credentials. */
export interface Access {
  readonly token: string | undefined;
  /** TLS (with a client certificate for mutual TLS) or plaintext. */
  readonly credentials: ReturnType<typeof clientCredentials>;
}

export interface AccessFlags {
  readonly token?: string | undefined;
  readonly 'token-file'?: string | undefined;
  readonly 'tls-ca'?: string | undefined;
  readonly 'tls-cert'?: string | undefined;
  readonly 'tls-key'?: string | undefined;
}

/** The plaintext, token-less access of the embedded platform (`stackyard up`). */
export const OPEN_ACCESS: Access = { token: undefined, credentials: insecure() };

const readable = (flag: string, file: string): string | undefined => {
  try {
    readFileSync(file);
    return undefined;
  } catch (e) {
    return `${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
};

/**
 * Token and TLS from flags, else from the environment (`STACKYARD_TOKEN`, `STACKYARD_TOKEN_FILE`,
 * `STACKYARD_TLS_CA`, `STACKYARD_TLS_CERT`, `STACKYARD_TLS_KEY`). A usage problem is returned as a
 * message naming the flag (exit 64), never half-applied.
 */
export function resolveAccess(flags: AccessFlags, env: Readonly<Record<string, string | undefined>>): { ok: true; access: Access } | { ok: false; message: string } {
  const pick = (flag: keyof AccessFlags, variable: string) => flags[flag] || env[variable] || undefined;
  const fail = (message: string) => ({ ok: false as const, message });
  if (flags.token && flags['token-file']) return fail('--token and --token-file are alternatives: pass one');
  let token: string | undefined;
  const tokenFile = flags.token ? undefined : pick('token-file', 'STACKYARD_TOKEN_FILE');
  if (tokenFile) {
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (e) {
      return fail(`--token-file ${tokenFile}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (!token) return fail(`--token-file ${tokenFile}: the file is empty`);
  } else {
    token = pick('token', 'STACKYARD_TOKEN');
  }
  if (token !== undefined && /\s/.test(token)) return fail(`--token: an API token has no spaces or line breaks${tokenFile ? ` (read from ${tokenFile})` : ''}`);

  const ca = pick('tls-ca', 'STACKYARD_TLS_CA');
  const cert = pick('tls-cert', 'STACKYARD_TLS_CERT');
  const key = pick('tls-key', 'STACKYARD_TLS_KEY');
  if (Boolean(cert) !== Boolean(key)) return fail(`--tls-cert and --tls-key go together (mutual TLS): ${cert ? '--tls-key' : '--tls-cert'} is missing`);
  if (cert && !ca) return fail('--tls-cert needs --tls-ca, the CA that signed the services\' certificates');
  for (const [flag, file] of [['--tls-ca', ca], ['--tls-cert', cert], ['--tls-key', key]] as const) {
    const problem = file ? readable(flag, file) : undefined;
    if (problem) return fail(problem);
  }
  const credentials = ca ? clientCredentials({ caFile: ca, ...(cert && key ? { certFile: cert, keyFile: key } : {}) }) : insecure();
  return { ok: true, access: { token, credentials } };
}

const UNAUTHENTICATED = 16;
const PERMISSION_DENIED = 7;

/** Whether a call failed because the service refused the caller (exit 1, not "unreachable"). */
export const isRefusal = (code: number | undefined): boolean => code === UNAUTHENTICATED || code === PERMISSION_DENIED;

/**
 * What a refused call means and what to do: the status, the service's reason (`x-stackyard-reason`)
 * and message, then how to get past it. Undefined when the error is not a refusal.
 */
export function describeRefusal(e: unknown, service: string, address: string): string | undefined {
  const se = e as { code?: number; details?: string; metadata?: { get(key: string): unknown[] } };
  if (!isRefusal(se.code)) return undefined;
  const reason = String(se.metadata?.get(REASON_KEY)[0] ?? (se.code === UNAUTHENTICATED ? 'Unauthenticated' : 'PermissionDenied'));
  const head = `${service} at ${address} refused the call: ${se.code === UNAUTHENTICATED ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED'} (${REASON_KEY}: ${reason}): ${se.details ?? ''}`;
  const what =
    se.code === UNAUTHENTICATED
      ? 'Send an API token the service knows: --token TOKEN or --token-file FILE (or STACKYARD_TOKEN / STACKYARD_TOKEN_FILE); tokens are listed, hashed, in its AUTH_TOKENS_FILE.'
      : 'The token is valid but its role or sites do not allow this: viewer reads, operator changes (retry, abort, register...), admin deletes; a site-limited token acts on its sites only. Ask an admin for a token that allows it.';
  return `${head}\n${what}`;
}
