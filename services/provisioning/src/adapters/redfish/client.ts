import { readFileSync } from 'node:fs';
import { StepFailedError } from '@stackyard/errors';
import { Agent, fetch } from 'undici';

/**
 * A small DMTF Redfish client on fetch (undici, so that each client has its own dispatcher: a CA
 * file, or no verification for a lab, applies to this BMC only).
 *
 * - Authentication: a SessionService session (POST .../Sessions, X-Auth-Token), falling back to HTTP
 *   Basic when the service offers no SessionService (`auth: 'auto'`, the default; 'session' or
 *   'basic' force one). A 401 on a session re-logs in once and retries; a second 401 is final.
 *   `close()` logs out.
 * - Errors are StepFailedError (RedfishError): connection refused, timeouts and 5xx are retryable
 *   (`BmcUnreachable`, `BmcError`); 401 is `BmcAuthFailed` (never retryable, and the password never
 *   appears in a message); other 4xx are not retryable and carry the Redfish error message; a
 *   failed TLS verification is `BmcTlsError` (a configuration problem, not retryable); the call's
 *   own deadline (`signal`) is `Timeout`, retryable.
 */

export type Json = Record<string, unknown>;

export interface RedfishClientOptions {
  /** `https://host[:port]` or `http://host[:port]`. */
  readonly baseUrl: string;
  readonly username: string;
  readonly password: string;
  /** true (default): verify against the system CAs; a path: verify against that CA file; false: no verification (labs only). */
  readonly verifyTls?: boolean | string;
  /** Per request, headers and body (default 10 s). */
  readonly timeoutMs?: number;
  readonly auth?: 'auto' | 'session' | 'basic';
  /** The caller's deadline: aborting it stops any request in flight with a retryable `Timeout`. */
  readonly signal?: AbortSignal;
}

/** A Redfish failure: a StepFailedError with the HTTP status when there was one. */
export class RedfishError extends StepFailedError {
  constructor(
    reason: string,
    message: string,
    retryable: boolean,
    readonly status?: number,
    readonly messageIds: readonly string[] = [],
  ) {
    super(reason, message, retryable);
  }
}

export interface RedfishResponse {
  readonly status: number;
  readonly body: Json;
  readonly headers: { get(name: string): string | null };
}

const V1 = '/redfish/v1/';
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The `code` and message of the innermost error that has one (undici wraps socket errors in `cause`). */
function rootCause(e: unknown): { code?: string; message: string } {
  let cur: unknown = e;
  let found: { code?: string; message: string } = { message: e instanceof Error ? e.message : String(e) };
  for (let depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    const err = cur as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof err.code === 'string') found = { code: err.code, message: typeof err.message === 'string' ? err.message : found.message };
    cur = err.cause;
  }
  return found;
}

/** The message of a Redfish error body (`error.@Message.ExtendedInfo[].Message`, else `error.message`). */
export function redfishErrorMessage(body: unknown): { message?: string; ids: string[] } {
  const err = (body as { error?: { message?: unknown; '@Message.ExtendedInfo'?: unknown } } | null)?.error;
  if (!err) return { ids: [] };
  const info = Array.isArray(err['@Message.ExtendedInfo']) ? (err['@Message.ExtendedInfo'] as { Message?: unknown; MessageId?: unknown }[]) : [];
  const messages = info.map((i) => i.Message).filter((m): m is string => typeof m === 'string');
  const ids = info.map((i) => i.MessageId).filter((m): m is string => typeof m === 'string');
  return { message: messages.length > 0 ? messages.join(' ') : typeof err.message === 'string' ? err.message : undefined, ids };
}

export class RedfishClient {
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private mode: 'session' | 'basic' = 'basic';
  private token: string | undefined;
  private sessionUri: string | undefined;
  private root: Json = {};
  private closed = false;

  private constructor(private readonly opts: RedfishClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    const verify = opts.verifyTls ?? true;
    let ca: Buffer | undefined;
    if (typeof verify === 'string') {
      try {
        ca = readFileSync(verify);
      } catch (e) {
        throw new RedfishError('BmcTlsError', `cannot read the CA file ${verify} for the BMC at ${opts.baseUrl}: ${rootCause(e).message}`, false);
      }
    }
    this.agent = new Agent({
      connect: { rejectUnauthorized: verify !== false, ...(ca ? { ca } : {}) },
      keepAliveTimeout: 4_000,
    });
  }

  /** Reads the service root (anonymous) and logs in. */
  static async connect(opts: RedfishClientOptions): Promise<RedfishClient> {
    const c = new RedfishClient(opts);
    try {
      c.root = (await c.send('GET', V1, undefined, { auth: false })).body;
      await c.login();
      return c;
    } catch (e) {
      await c.close();
      throw e;
    }
  }

  /** The service root, as read when connecting. */
  get serviceRoot(): Json {
    return this.root;
  }

  /** 'session' when logged in through the SessionService, else 'basic'. */
  get authMode(): 'session' | 'basic' {
    return this.mode;
  }

  async get(path: string): Promise<Json> {
    return (await this.send('GET', path)).body;
  }

  async getResponse(path: string): Promise<RedfishResponse> {
    return this.send('GET', path);
  }

  async post(path: string, body: Json = {}): Promise<RedfishResponse> {
    return this.send('POST', path, body);
  }

  async patch(path: string, body: Json, ifMatch?: string): Promise<RedfishResponse> {
    return this.send('PATCH', path, body, { headers: ifMatch ? { 'If-Match': ifMatch } : {} });
  }

  /** Logs out (best effort) and closes the connections. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.logout();
    } finally {
      await this.agent.destroy().catch(() => undefined);
    }
  }

  private async login(): Promise<void> {
    const auth = this.opts.auth ?? 'auto';
    const links = this.root['Links'] as { Sessions?: { '@odata.id'?: unknown } } | undefined;
    const advertised = typeof links?.Sessions?.['@odata.id'] === 'string' ? links.Sessions['@odata.id'] : undefined;
    const sessionsPath = advertised ?? (this.root['SessionService'] ? `${V1}SessionService/Sessions` : undefined);
    if (auth === 'basic' || (auth === 'auto' && sessionsPath === undefined)) {
      this.mode = 'basic';
      return;
    }
    const path = sessionsPath ?? `${V1}SessionService/Sessions`;
    let res: RedfishResponse;
    try {
      res = await this.send('POST', path, { UserName: this.opts.username, Password: this.opts.password }, { auth: false, relogin: false });
    } catch (e) {
      // A service that lists a SessionService but cannot create sessions: Basic, like sushy does.
      if (auth === 'auto' && e instanceof RedfishError && e.status !== undefined && [404, 405, 501].includes(e.status)) {
        this.mode = 'basic';
        return;
      }
      throw e;
    }
    const token = res.headers.get('x-auth-token');
    if (!token) {
      if (auth === 'auto') {
        this.mode = 'basic';
        return;
      }
      throw new RedfishError('BmcError', `the BMC at ${this.opts.baseUrl} created a session without an X-Auth-Token`, false, res.status);
    }
    this.mode = 'session';
    this.token = token;
    const location = res.headers.get('location') ?? (typeof res.body['@odata.id'] === 'string' ? res.body['@odata.id'] : undefined);
    this.sessionUri = location ? new URL(location, this.opts.baseUrl).pathname : undefined;
  }

  private async logout(): Promise<void> {
    const uri = this.sessionUri;
    this.sessionUri = undefined;
    if (this.token && uri) {
      await this.send('DELETE', uri, undefined, { relogin: false, timeoutMs: Math.min(this.timeoutMs, 5_000), ignoreSignal: true }).catch(() => undefined);
    }
    this.token = undefined;
  }

  private authHeaders(): Record<string, string> {
    if (this.mode === 'session' && this.token) return { 'X-Auth-Token': this.token };
    return { Authorization: `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password}`).toString('base64')}` };
  }

  private async send(
    method: string,
    path: string,
    body?: Json,
    o: { auth?: boolean; relogin?: boolean; headers?: Record<string, string>; timeoutMs?: number; ignoreSignal?: boolean } = {},
  ): Promise<RedfishResponse> {
    const res = await this.once(method, path, body, o);
    if (res.status === 401 && o.auth !== false && o.relogin !== false && this.mode === 'session') {
      // The session expired or the BMC restarted: log in again, once.
      this.token = undefined;
      this.sessionUri = undefined;
      await this.login();
      return this.check(method, path, await this.once(method, path, body, o));
    }
    return this.check(method, path, res);
  }

  private check(method: string, path: string, res: RedfishResponse): RedfishResponse {
    if (res.status < 400) return res;
    const where = `${method} ${path} on the BMC at ${this.opts.baseUrl}`;
    const { message, ids } = redfishErrorMessage(res.body);
    const detail = message ? `: ${message}` : '';
    if (res.status === 401) {
      throw new RedfishError('BmcAuthFailed', `the BMC at ${this.opts.baseUrl} rejected the credentials of user "${this.opts.username}" (HTTP 401)`, false, 401, ids);
    }
    if (res.status >= 500 || res.status === 429 || res.status === 408) {
      throw new RedfishError('BmcError', `${where} failed with HTTP ${res.status}${detail}`, true, res.status, ids);
    }
    throw new RedfishError('BmcError', `${where} was rejected with HTTP ${res.status}${detail}`, false, res.status, ids);
  }

  /** One HTTP exchange, headers and body within the timeout; no status handling. */
  private async once(
    method: string,
    path: string,
    body: Json | undefined,
    o: { auth?: boolean; headers?: Record<string, string>; timeoutMs?: number; ignoreSignal?: boolean },
  ): Promise<RedfishResponse> {
    const outer = o.ignoreSignal ? undefined : this.opts.signal;
    const url = new URL(path, this.opts.baseUrl);
    if (outer?.aborted) throw this.deadline(method, url.pathname);
    const timeoutMs = o.timeoutMs ?? this.timeoutMs;
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, timeoutMs);
    const onAbort = (): void => ac.abort();
    outer?.addEventListener('abort', onAbort, { once: true });
    try {
      const headers: Record<string, string> = { Accept: 'application/json', 'OData-Version': '4.0', ...o.headers };
      if (o.auth !== false) Object.assign(headers, this.authHeaders());
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ac.signal,
        dispatcher: this.agent,
        redirect: 'manual',
      });
      const text = await res.text();
      let parsed: Json = {};
      if (text.trim() !== '') {
        try {
          const v = JSON.parse(text) as unknown;
          if (typeof v === 'object' && v !== null && !Array.isArray(v)) parsed = v as Json;
        } catch {
          if (res.ok) throw new RedfishError('BmcError', `${method} ${url.pathname} on the BMC at ${this.opts.baseUrl} returned a body that is not JSON`, true, res.status);
        }
      }
      return { status: res.status, body: parsed, headers: res.headers };
    } catch (e) {
      if (e instanceof RedfishError) throw e;
      if (outer?.aborted) throw this.deadline(method, url.pathname);
      if (timedOut) {
        throw new RedfishError('BmcUnreachable', `the BMC at ${this.opts.baseUrl} did not answer ${method} ${url.pathname} within ${timeoutMs} ms`, true);
      }
      const cause = rootCause(e);
      if (cause.code && TLS_CODES.has(cause.code)) {
        throw new RedfishError(
          'BmcTlsError',
          `TLS verification of the BMC at ${this.opts.baseUrl} failed (${cause.code}: ${cause.message}); ` +
            'give the driver the CA that signed the BMC certificate (verifyTls: <CA file>), or verifyTls: false for a lab BMC',
          false,
        );
      }
      throw new RedfishError('BmcUnreachable', `the BMC at ${this.opts.baseUrl} is unreachable (${cause.code ?? 'network error'}: ${cause.message})`, true);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  }

  private deadline(method: string, path: string): RedfishError {
    return new RedfishError('Timeout', `the step's deadline passed during ${method} ${path} on the BMC at ${this.opts.baseUrl}`, true);
  }
}
