import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createOpsServer } from './index';

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
