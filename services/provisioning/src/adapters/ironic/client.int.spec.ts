import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { StepFailedError } from '@stackyard/errors';
import { IRONIC_REQUEST_TIMEOUT_MS, IronicApiError, IronicClient, ironicFault } from './client';

// The one place where Ironic is a stub: a "locked by host" 409 cannot be provoked on demand from the
// real Ironic (the driver tests use the real one), so a tiny HTTP server answers like Ironic does.
const fault = (text: string) => JSON.stringify({ error_message: JSON.stringify({ faultcode: 'Client', faultstring: text, debuginfo: null }) });
const LOCKED = fault('Node 1be26c0b-03f2-4d2e-ae87-c02d7f33c123 is locked by host conductor-1, please retry after the current operation is completed.');

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function stub(maxVersion: string, handler: Handler): Promise<{ url: string; seen: { method: string; url: string; version: string | undefined }[] }> {
  const seen: { method: string; url: string; version: string | undefined }[] = [];
  server = createServer((req, res) => {
    const version = req.headers['x-openstack-ironic-api-version'];
    seen.push({ method: req.method ?? '', url: req.url ?? '', version: typeof version === 'string' ? version : undefined });
    if (req.url === '/v1' || req.url === '/v1/') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-OpenStack-Ironic-API-Minimum-Version': '1.1', 'X-OpenStack-Ironic-API-Maximum-Version': maxVersion });
      res.end('{"id": "v1"}');
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(body);
}

async function failure(p: Promise<unknown>): Promise<IronicApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(IronicApiError);
  expect(e).toBeInstanceOf(StepFailedError);
  return e as IronicApiError;
}

describe('IronicClient against an HTTP stub answering like Ironic', () => {
  it('IRC-01 Given 409 "is locked by host" twice, then the request is retried and the third answer returned', async () => {
    let n = 0;
    const s = await stub('1.82', (_req, res) => (++n <= 2 ? reply(res, 409, LOCKED) : reply(res, 202, '')));
    const c = new IronicClient({ url: `${s.url}/v1`, lockedRetries: 6, lockedRetryIntervalMs: 20 });
    await c.request('PUT', '/nodes/n1/states/provision', { body: { target: 'manage' } });
    const puts = s.seen.filter((x) => x.method === 'PUT');
    expect(puts).toHaveLength(3);
    // Negotiated: the server offers 1.82, the driver knows up to 1.81.
    expect(puts.map((x) => x.version)).toEqual(['1.81', '1.81', '1.81']);
  });

  it('IRC-02 Given a node locked longer than the retries, then a retryable NodeLocked error with Ironic\'s message', async () => {
    const s = await stub('1.78', (_req, res) => reply(res, 409, LOCKED));
    const c = new IronicClient({ url: s.url, lockedRetries: 2, lockedRetryIntervalMs: 10 });
    const e = await failure(c.request('PUT', '/nodes/n1/states/provision', { body: { target: 'inspect' }, subject: 'node "ctl-01"' }));
    expect([e.reason, e.retryable, e.status]).toEqual(['NodeLocked', true, 409]);
    expect(e.message).toContain('node "ctl-01"');
    expect(e.message).toContain('after 3 attempts: Node 1be26c0b-03f2-4d2e-ae87-c02d7f33c123 is locked by host conductor-1');
    expect(s.seen.filter((x) => x.method === 'PUT').map((x) => x.version)).toEqual(['1.78', '1.78', '1.78']);
  });

  it('IRC-03 Given 5xx, then retryable IronicUnavailable; given another 4xx, then not retryable, with the faultstring', async () => {
    let status = 503;
    const s = await stub('1.81', (_req, res) => reply(res, status, fault(status === 503 ? 'No valid host was found.' : 'Invalid input for field/attribute name.')));
    const c = new IronicClient({ url: s.url });
    let e = await failure(c.request('GET', '/nodes/x'));
    expect([e.reason, e.retryable, e.fault]).toEqual(['IronicUnavailable', true, 'No valid host was found.']);
    status = 400;
    e = await failure(c.request('POST', '/nodes', { body: { name: 'bad name', driver_info: { redfish_password: 'pw-in-body' } } }));
    expect([e.reason, e.retryable]).toEqual(['IronicRejected', false]);
    expect(e.message).toBe('Ironic POST /nodes: HTTP 400: Invalid input for field/attribute name.');
    expect(e.message).not.toContain('pw-in-body');
    status = 404;
    expect(await c.find('/nodes/x')).toBeUndefined();
  });

  it('IRC-04 Given an Ironic older than 1.56, then a non-retryable IronicTooOld', async () => {
    const s = await stub('1.46', (_req, res) => reply(res, 200, '{}'));
    const e = await failure(new IronicClient({ url: s.url }).request('GET', '/nodes'));
    expect([e.reason, e.retryable]).toEqual(['IronicTooOld', false]);
    expect(e.message).toContain('offers API 1.46; the driver needs 1.56');
  });

  it('IRC-05 Given an aborted signal while waiting between locked retries, then a retryable Timeout at once', async () => {
    const s = await stub('1.81', (_req, res) => reply(res, 409, LOCKED));
    const c = new IronicClient({ url: s.url, lockedRetries: 6, lockedRetryIntervalMs: 5000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    const e = await c.request('PUT', '/nodes/n1/states/power', { body: { target: 'power on' }, signal: ac.signal }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StepFailedError);
    expect([(e as StepFailedError).reason, (e as StepFailedError).retryable]).toEqual(['Timeout', true]);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('IRC-07 Given a verb Ironic answers slowly, then the client waits for it within its timeout and gives up past it, retryably', async () => {
    // Ironic's API waits up to 120 s for its conductor over JSON-RPC: the default must outlast that.
    expect(IRONIC_REQUEST_TIMEOUT_MS).toBeGreaterThan(120_000);
    const s = await stub('1.81', (_req, res) => setTimeout(() => reply(res, 202, ''), 400));
    await new IronicClient({ url: s.url, requestTimeoutMs: 3000 }).request('PUT', '/nodes/n1/states/provision', { body: { target: 'inspect' } });
    expect(s.seen.filter((x) => x.method === 'PUT')).toHaveLength(1);
    const e = await failure(new IronicClient({ url: s.url, requestTimeoutMs: 150 }).request('PUT', '/nodes/n1/states/provision', { body: { target: 'inspect' } }));
    expect([e.reason, e.retryable, e.status]).toEqual(['IronicUnavailable', true, undefined]);
    expect(e.message).toContain('no answer within 150 ms');
  });

  it('IRC-06 parses Ironic\'s error envelope and plain text alike', () => {
    expect(ironicFault(LOCKED)).toMatch(/^Node .* is locked by host conductor-1/);
    expect(ironicFault('{"error_message": "plain"}')).toBe('plain');
    expect(ironicFault('<html>Bad Gateway</html>')).toBe('<html>Bad Gateway</html>');
    expect(ironicFault('')).toBe('(empty response)');
  });
});
