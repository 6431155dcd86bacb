import { describe, expect, it } from 'vitest';
import { KeyedSerializer } from './consumer';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KeyedSerializer', () => {
  it('runs work of one key one at a time in call order, other keys alongside, and forgets idle keys', async () => {
    const s = new KeyedSerializer();
    const log: string[] = [];
    const job = (name: string, ms: number) => async () => {
      log.push(`${name}+`);
      await tick(ms);
      log.push(`${name}-`);
      return name;
    };
    const results = await Promise.all([s.run('a', job('a1', 20)), s.run('a', job('a2', 1)), s.run('b', job('b1', 5))]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    // a2 starts only after a1 ended; b1 ran while a1 was running.
    expect(log.indexOf('a2+')).toBeGreaterThan(log.indexOf('a1-'));
    expect(log.indexOf('b1+')).toBeLessThan(log.indexOf('a1-'));
    await tick(0);
    expect(s.size).toBe(0);
  });

  it('runs the next job of a key after a failed one, and hands each caller its own outcome', async () => {
    const s = new KeyedSerializer();
    const failed = s.run('k', async () => {
      throw new Error('boom');
    });
    const next = s.run('k', async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });
});
