import { describe, expect, it } from 'vitest';
import { WorkLimiter } from './limits';

const tick = () => new Promise((r) => setImmediate(r));

describe('WorkLimiter', () => {
  it('holds deploys to their limit and starts queued work in arrival order as slots free', async () => {
    const l = new WorkLimiter({ perKind: { deploy: 2 }, perSite: 100, perBmc: 100 });
    const started: string[] = [];
    const releases = new Map<string, () => void>();
    for (const h of ['a', 'b', 'c', 'd']) {
      void l.acquire('deploy', 'dc1', `bmc-${h}`, h).then((r) => {
        started.push(h);
        releases.set(h, r);
      });
    }
    await tick();
    expect(started).toEqual(['a', 'b']);
    expect(l.snapshot().find((s) => s.name === 'deploy')).toEqual({ name: 'deploy', limit: 2, inFlight: 2, queued: ['c', 'd'] });
    expect(l.queued).toBe(2);

    releases.get('a')!();
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    releases.get('a')!(); // twice is harmless
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    releases.get('b')!();
    await tick();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(l.queued).toBe(0);
  });

  it('limits requests per BMC without holding back other BMCs (no head-of-line blocking)', async () => {
    const l = new WorkLimiter({ perKind: {}, perSite: 100, perBmc: 1 });
    const started: string[] = [];
    const r1 = await l.acquire('power', 'dc1', '10.0.0.1', 'n1');
    void l.acquire('power', 'dc1', '10.0.0.1', 'n2').then(() => started.push('n2'));
    void l.acquire('power', 'dc1', '10.0.0.2', 'n3').then(() => started.push('n3'));
    await tick();
    expect(started).toEqual(['n3']);
    expect(l.snapshot().find((s) => s.name === 'bmc:10.0.0.1')).toMatchObject({ inFlight: 1, queued: ['n2'] });
    r1();
    await tick();
    expect(started).toEqual(['n3', 'n2']);
  });

  it('takes every limit a piece of work needs, or none: the site limit spans kinds', async () => {
    const l = new WorkLimiter({ perKind: { inspect: 5, deploy: 5 }, perSite: 2, perBmc: 10 });
    const started: string[] = [];
    await l.acquire('inspect', 'dc1', 'b1', 'i1');
    await l.acquire('deploy', 'dc1', 'b2', 'd1');
    void l.acquire('deploy', 'dc1', 'b3', 'd2').then(() => started.push('d2'));
    void l.acquire('deploy', 'dc2', 'b4', 'other-site').then(() => started.push('other-site'));
    await tick();
    expect(started).toEqual(['other-site']);
    const snap = Object.fromEntries(l.snapshot().map((s) => [s.name, s]));
    expect(snap['site:dc1']).toMatchObject({ limit: 2, inFlight: 2, queued: ['d2'] });
    expect(snap['deploy']).toMatchObject({ inFlight: 2, queued: ['d2'] });
    expect(snap['bmc:b3']).toMatchObject({ inFlight: 0, queued: ['d2'] });
  });

  it('never exceeds a limit under many concurrent pieces of work', async () => {
    const l = new WorkLimiter({ perKind: { deploy: 3 }, perSite: 5, perBmc: 2 });
    let now = 0;
    let peak = 0;
    const perBmc = new Map<string, number>();
    let peakBmc = 0;
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const bmc = `b${i % 4}`;
        const release = await l.acquire('deploy', 'dc1', bmc, `n${i}`);
        now++;
        perBmc.set(bmc, (perBmc.get(bmc) ?? 0) + 1);
        peak = Math.max(peak, now);
        peakBmc = Math.max(peakBmc, perBmc.get(bmc)!);
        await new Promise((r) => setTimeout(r, 1 + (i % 3)));
        now--;
        perBmc.set(bmc, perBmc.get(bmc)! - 1);
        release();
      }),
    );
    expect(peak).toBe(3);
    expect(peakBmc).toBeLessThanOrEqual(2);
    expect(l.snapshot().every((s) => s.inFlight === 0 && s.queued.length === 0)).toBe(true);
  });
});
