import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createOpsServer, EVENT_LOOP_SAMPLE_MS } from './index';

describe('createOpsServer close', () => {
  it('Given a request that never completes, then close() destroys its connection after the grace period instead of waiting for ever', async () => {
    const ops = createOpsServer('test', []);
    ops.app.get('/never', () => new Promise(() => undefined));
    const port = await ops.listen('127.0.0.1', 0);
    const answered = new Promise<string>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/never' }, (res) => resolve(`status ${res.statusCode}`));
      req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
      req.end();
    });
    // Let the request reach the handler before closing.
    await new Promise((r) => setTimeout(r, 100));
    await ops.close(200);
    expect(await answered).toBe('error ECONNRESET');
  });
});

describe('createOpsServer metrics', () => {
  it('Given a blocked event loop, then /metrics reports the delay, sampled every EVENT_LOOP_SAMPLE_MS (not every 10 ms)', async () => {
    const ops = createOpsServer('test', []);
    await new Promise((r) => setTimeout(r, EVENT_LOOP_SAMPLE_MS * 3));
    // performance.now(), not Date.now(): whole milliseconds made the block as short as 299.1 ms,
    // and the largest sample 0.2999 s (seen once in CI).
    const until = performance.now() + 300;
    while (performance.now() < until) {
      /* the loop is blocked */
    }
    await new Promise((r) => setTimeout(r, EVENT_LOOP_SAMPLE_MS * 2));
    const res = await ops.app.inject({ method: 'GET', url: '/metrics' });
    const metric = (name: string) => Number(new RegExp(`^nodejs_eventloop_lag_${name}_seconds\\{service="test"\\} (\\S+)$`, 'm').exec(res.body)?.[1]);
    // A sample is the time between two wake-ups of the sampling timer: the block shows in the
    // largest, and the smallest is one sampling interval (about 0.01 s at prom-client's default).
    expect(metric('max')).toBeGreaterThan(0.3);
    expect(metric('min')).toBeGreaterThan((EVENT_LOOP_SAMPLE_MS * 0.9) / 1000);
    await ops.close();
  });
});
