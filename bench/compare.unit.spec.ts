import { describe, expect, it } from 'vitest';
import { compareRuns, formatComparison, median } from './compare';
import type { Figure, FiguresFile } from './lib';

const run = (figures: Figure[], complete = true): FiguresFile => ({ bench: 'saga', argv: [], machine: 'test', finishedAt: '2026-11-26T00:00:00Z', complete, figures });
const wall = (value: number): Figure => ({ name: 'wall', value, unit: 's', better: 'lower', key: true });
const rate = (value: number): Figure => ({ name: 'throughput', value, unit: 'nodes/s', better: 'higher' });

describe('compareRuns (bench/ab.ts)', () => {
  it('Given a head slower than the base by more than either side spreads, then the figure is worse', () => {
    const [row] = compareRuns([run([wall(100)]), run([wall(102)]), run([wall(98)])], [run([wall(120)]), run([wall(118)]), run([wall(121)])], 0.05);
    expect(row).toMatchObject({ name: 'wall', key: true, verdict: 'worse', base: { median: 100, min: 98, max: 102, runs: 3 }, head: { median: 120 } });
    expect(row!.worseBy).toBeCloseTo(0.2);
    expect(row!.noise).toBeCloseTo(0.05); // the spreads (4 %, 2.5 %) are under the floor
  });

  it('Given sides whose own runs spread more than the change, then the change is within noise', () => {
    const [row] = compareRuns([run([wall(100)]), run([wall(130)]), run([wall(90)])], [run([wall(110)]), run([wall(105)]), run([wall(112)])], 0.05);
    expect(row!.verdict).toBe('within noise');
    expect(row!.noise).toBeCloseTo(0.4); // (130 - 90) / 100
  });

  it('Given a figure where higher is better, then a lower head is worse and a higher one better', () => {
    expect(compareRuns([run([rate(10)])], [run([rate(8)])], 0.05)[0]).toMatchObject({ verdict: 'worse', worseBy: 0.2 });
    expect(compareRuns([run([rate(10)])], [run([rate(12)])], 0.05)[0]!.verdict).toBe('better');
    expect(compareRuns([run([rate(10)])], [run([rate(10.4)])], 0.05)[0]!.verdict).toBe('within noise');
  });

  it('Given a figure some runs of a side lack, then it is reported for the side that has it, without a verdict on change', () => {
    const rows = compareRuns([run([wall(100), rate(5)]), run([wall(100)])], [run([wall(100), rate(5)])], 0.05);
    expect(rows.map((r) => [r.name, r.verdict])).toEqual([
      ['wall', 'within noise'],
      ['throughput', 'head only'],
    ]);
  });

  it('Given a negative noise floor, then it is refused', () => {
    expect(() => compareRuns([], [], -1)).toThrow(/minNoise must be a fraction >= 0/);
  });

  it('formats the comparison as a table with ranges for several runs and key figures in bold', () => {
    const table = formatComparison(compareRuns([run([wall(100)]), run([wall(104)])], [run([wall(130)]), run([wall(126)])], 0.05));
    expect(table.split('\n')[2]).toBe('| **wall** | s | 102 (100-104) | 128 (126-130) | +25.5 % | 5.0 % | worse |');
  });

  it('median averages the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([])).toBeNaN();
  });
});
