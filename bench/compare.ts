/**
 * Comparing two sets of bench runs (bench/ab.ts): for every figure the runs share, the median and
 * range of each side, the change of the medians, and whether it is beyond noise. Noise is what the
 * runs themselves show: the larger side's spread (max - min, relative to its median), and never
 * less than `minNoise` (one run per side shows no spread). Pure: no I/O.
 */
import type { Figure, FiguresFile } from './lib';

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

export type Verdict = 'worse' | 'better' | 'within noise' | 'base only' | 'head only';

export interface ComparedFigure {
  readonly name: string;
  readonly unit: string;
  readonly better: Figure['better'];
  readonly key: boolean;
  readonly base?: Spread;
  readonly head?: Spread;
  /** Change of the medians as a fraction of the base's, positive when worse (whichever way is better). */
  readonly worseBy?: number;
  /** The noise the change is judged against, as a fraction of the base's median. */
  readonly noise?: number;
  readonly verdict: Verdict;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function spreadOf(xs: readonly number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length };
}

/** Relative spread of a side: (max - min) / |median|, 0 for one run or a zero median. */
function relSpread(s: Spread): number {
  return s.median === 0 ? 0 : (s.max - s.min) / Math.abs(s.median);
}

/**
 * Compares the figures of `base` runs with those of `head` runs, in the order they first appear.
 * A figure counts only when every run of a side has it (a figure some runs lack is not comparable
 * across them): otherwise that side is left out and the verdict says which side has it.
 */
export function compareRuns(base: readonly FiguresFile[], head: readonly FiguresFile[], minNoise: number): ComparedFigure[] {
  if (!(minNoise >= 0)) throw new Error(`minNoise must be a fraction >= 0, got ${minNoise}`);
  const names: string[] = [];
  const meta = new Map<string, Figure>();
  for (const f of [...base, ...head].flatMap((r) => r.figures)) {
    if (!meta.has(f.name)) {
      meta.set(f.name, f);
      names.push(f.name);
    }
  }
  const side = (runs: readonly FiguresFile[], name: string): Spread | undefined => {
    const xs = runs.map((r) => r.figures.find((f) => f.name === name)?.value);
    return runs.length > 0 && xs.every((x) => x !== undefined) ? spreadOf(xs as number[]) : undefined;
  };
  return names.map((name): ComparedFigure => {
    const f = meta.get(name)!;
    const common = { name, unit: f.unit, better: f.better, key: f.key === true };
    const b = side(base, name);
    const h = side(head, name);
    if (!b || !h) return { ...common, ...(b ? { base: b } : {}), ...(h ? { head: h } : {}), verdict: b ? 'base only' : 'head only' };
    const delta = b.median === 0 ? (h.median === 0 ? 0 : Infinity * Math.sign(h.median)) : (h.median - b.median) / Math.abs(b.median);
    const worseBy = f.better === 'lower' ? delta : -delta;
    const noise = Math.max(minNoise, relSpread(b), relSpread(h));
    const verdict: Verdict = worseBy > noise ? 'worse' : worseBy < -noise ? 'better' : 'within noise';
    return { ...common, base: b, head: h, worseBy, noise, verdict };
  });
}

/** The comparison as a table (Markdown, as docs/performance.md records figures). */
export function formatComparison(rows: readonly ComparedFigure[]): string {
  const num = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));
  const cell = (s?: Spread) => (s ? (s.runs > 1 ? `${num(s.median)} (${num(s.min)}-${num(s.max)})` : num(s.median)) : '-');
  const pctOf = (x?: number) => (x === undefined ? '-' : `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)} %`);
  const lines = ['| figure | unit | base | head | worse by | noise | verdict |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(`| ${r.key ? `**${r.name}**` : r.name} | ${r.unit} | ${cell(r.base)} | ${cell(r.head)} | ${pctOf(r.worseBy)} | ${r.noise === undefined ? '-' : `${(r.noise * 100).toFixed(1)} %`} | ${r.verdict} |`);
  }
  return lines.join('\n');
}
