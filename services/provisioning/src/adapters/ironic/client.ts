import { StepFailedError } from '@stackyard/errors';

/**
 * A small Ironic REST client (fetch, JSON). It negotiates one microversion per client: the highest
 * the server offers, capped at the newest the driver knows (1.81, node inventory), and refuses a
 * server older than 1.56 (config drives given as JSON). Failures become StepFailedError:
 *
 *   - HTTP 409 "Node X is locked by host Y" is retried like Kayobe does (6 retries, 5 s apart);
 *   - HTTP 5xx, connection errors and per-request timeouts are retryable (reason IronicUnavailable);
 *   - other HTTP 4xx are not (IronicRejected, or IronicNotFound / IronicConflict), and carry
 *     Ironic's own `faultstring`;
 *   - an aborted call signal gives a retryable `Timeout`.
 *
 * Request bodies are never put in messages: they may carry BMC credentials.
 */

export const IRONIC_MIN_VERSION = '1.56';
export const IRONIC_MAX_VERSION = '1.81';
const VERSION_HEADER = 'X-OpenStack-Ironic-API-Version';

export interface IronicClientOptions {
  /** Ironic API endpoint, with or without a trailing /v1. */
  readonly url: string;
  /** Retries of a request refused with "is locked by host" (Kayobe ironic_retries: 6). */
  readonly lockedRetries?: number;
  /** Pause between those retries (Kayobe ironic_retry_interval: 5 s). */
  readonly lockedRetryIntervalMs?: number;
  /** Per-request timeout; default IRONIC_REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number;
}

/**
 * How long a request may wait for Ironic's answer by default: 150 s, longer than Ironic's API itself
 * waits for its conductor to take a verb (120 s over JSON-RPC, `[json_rpc] timeout`, as Bifrost and
 * standalone Ironic run; 60 s over oslo.messaging). A client that gives up first abandons a verb
 * Ironic may still carry out, and its retry then collides with it. With 100 nodes on two cores,
 * Debian's Ironic took up to 30 s to answer `PUT /states/provision` (docs/performance.md, session 18).
 */
export const IRONIC_REQUEST_TIMEOUT_MS = 150_000;

/** A failed Ironic request: a StepFailedError that also keeps the HTTP status and Ironic's message. */
export class IronicApiError extends StepFailedError {
  constructor(
    reason: string,
    message: string,
    retryable: boolean,
    /** HTTP status; undefined when no answer came. */
    readonly status: number | undefined,
    /** Ironic's faultstring (or the transport error), without our context. */
    readonly fault: string,
  ) {
    super(reason, message, retryable);
  }
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /** What the request is about, for messages: `node "ctl-01"`. */
  readonly subject?: string;
}

export function compareVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am !== bm ? am - bm : an - bn;
}

/** Ironic wraps errors as {"error_message": "<JSON with faultstring>"}; older paths give plain text. */
export function ironicFault(text: string): string {
  try {
    const outer = JSON.parse(text) as { error_message?: unknown };
    const em = outer.error_message;
    if (typeof em === 'string') {
      try {
        const inner = JSON.parse(em) as { faultstring?: unknown };
        if (typeof inner.faultstring === 'string') return inner.faultstring;
      } catch {
        return em;
      }
      return em;
    }
    if (em && typeof em === 'object' && typeof (em as { faultstring?: unknown }).faultstring === 'string') {
      return (em as { faultstring: string }).faultstring;
    }
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 500) || '(empty response)';
}

export function isLocked(fault: string): boolean {
  return /is locked by host/i.test(fault);
}

/** Sleeps, or rejects with a retryable Timeout as soon as the signal aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise((res, rej) => {
    if (signal?.aborted) return rej(aborted(what));
    const onAbort = () => {
      clearTimeout(t);
      rej(aborted(what));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      res();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function aborted(what: string): StepFailedError {
  return new StepFailedError('Timeout', `${what}: stopped, the step's deadline passed (or the service is stopping)`, true);
}

export class IronicClient {
  /** The API root without /v1, e.g. http://ironic:6385. */
  readonly endpoint: string;
  private readonly lockedRetries: number;
  private readonly lockedRetryIntervalMs: number;
  private readonly requestTimeoutMs: number;
  private negotiated: Promise<string> | undefined;

  constructor(opts: IronicClientOptions) {
    this.endpoint = opts.url.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.lockedRetries = opts.lockedRetries ?? 6;
    this.lockedRetryIntervalMs = opts.lockedRetryIntervalMs ?? 5000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? IRONIC_REQUEST_TIMEOUT_MS;
  }

  /** The microversion used for every request (negotiated once, on first use). */
  version(signal?: AbortSignal): Promise<string> {
    this.negotiated ??= this.negotiate(signal).catch((e: unknown) => {
      this.negotiated = undefined; // try again next time (Ironic may just be starting)
      throw e;
    });
    return this.negotiated;
  }

  private async negotiate(signal?: AbortSignal): Promise<string> {
    const res = await this.send('GET', '/v1', undefined, undefined, signal, 'Ironic API version');
    let max = res.headers.get('x-openstack-ironic-api-maximum-version') ?? undefined;
    if (!max) {
      const root = await this.send('GET', '/', undefined, undefined, signal, 'Ironic API version');
      const body = (await root.json().catch(() => ({}))) as { default_version?: { version?: string } };
      max = body.default_version?.version;
    } else {
      await res.body?.cancel();
    }
    if (!max || !/^1\.\d+$/.test(max)) {
      throw new IronicApiError('IronicRejected', `Ironic at ${this.endpoint} does not advertise an API microversion`, false, res.status, 'no version');
    }
    if (compareVersions(max, IRONIC_MIN_VERSION) < 0) {
      throw new IronicApiError(
        'IronicTooOld',
        `Ironic at ${this.endpoint} offers API ${max}; the driver needs ${IRONIC_MIN_VERSION} or later`,
        false,
        res.status,
        `max version ${max}`,
      );
    }
    return compareVersions(max, IRONIC_MAX_VERSION) < 0 ? max : IRONIC_MAX_VERSION;
  }

  /** Does the negotiated microversion reach `v`? */
  async supports(v: string, signal?: AbortSignal): Promise<boolean> {
    return compareVersions(await this.version(signal), v) >= 0;
  }

  /** JSON request with the negotiated microversion; retries "locked by host"; throws IronicApiError. */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const version = await this.version(opts.signal);
    const what = `Ironic ${method} ${path}${opts.subject ? ` (${opts.subject})` : ''}`;
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(method, `/v1${path}`, version, opts.body, opts.signal, what);
      const text = await res.text();
      if (res.ok) return (text ? JSON.parse(text) : undefined) as T;
      const fault = ironicFault(text);
      if (res.status === 409 && isLocked(fault)) {
        if (attempt < this.lockedRetries) {
          await sleep(this.lockedRetryIntervalMs, opts.signal, what);
          continue;
        }
        throw new IronicApiError('NodeLocked', `${what}: still locked after ${attempt + 1} attempts: ${fault}`, true, 409, fault);
      }
      throw httpError(what, res.status, fault);
    }
  }

  /** Like request, but a 404 resolves to undefined. */
  async find<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path, opts);
    } catch (e) {
      if (e instanceof IronicApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  private async send(method: string, path: string, version: string | undefined, body: unknown, signal: AbortSignal | undefined, what: string): Promise<Response> {
    if (signal?.aborted) throw aborted(what);
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (version) headers[VERSION_HEADER] = version;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await fetch(`${this.endpoint}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (e) {
      if (signal?.aborted) throw aborted(what);
      const cause = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
      const reason = timeout.aborted ? `no answer within ${this.requestTimeoutMs} ms` : cause;
      throw new IronicApiError('IronicUnavailable', `${what}: Ironic at ${this.endpoint} is unreachable: ${reason}`, true, undefined, reason);
    }
  }
}

function httpError(what: string, status: number, fault: string): IronicApiError {
  const message = `${what}: HTTP ${status}: ${fault}`;
  if (status >= 500) return new IronicApiError('IronicUnavailable', message, true, status, fault);
  if (status === 404) return new IronicApiError('IronicNotFound', message, false, status, fault);
  if (status === 409) return new IronicApiError('IronicConflict', message, false, status, fault);
  if (status === 406) return new IronicApiError('IronicVersionUnsupported', message, false, status, fault);
  // 408 and 429 are the server asking us to come back later.
  return new IronicApiError('IronicRejected', message, status === 408 || status === 429, status, fault);
}
