/** What the benches share: CPU and memory of processes from /proc, percentiles, the figures they write. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export function procStats(pid: number): { cpuMs: number; peakRssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuMs: (ticks * 1000) / 100, peakRssMb: hwm / 1024 };
}

/**
 * CPU ms of the local PostgreSQL server: the postmaster, its live children (backends, FerretDB's
 * connections among them) and, through the postmaster's cutime/cstime, the children it has reaped.
 * Undefined when no postmaster is visible (another machine, or no permission).
 */
export function postgresCpuMs(): number | undefined {
  try {
    const pids = execFileSync('pgrep', ['-x', 'postgres'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    let ticks = 0;
    for (const pid of pids) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(stat[11]) + Number(stat[12]);
      if (stat[1] === '1' || !pids.includes(Number(stat[1]))) ticks += Number(stat[13]) + Number(stat[14]); // the postmaster: reaped children
    }
    return pids.length ? (ticks * 1000) / 100 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A whole-number option of a bench, from `min` to `max`: otherwise the bench says which option and
 * what it got, and exits 2 (a usage error, as bench/ab.ts reads it).
 */
export function intOption(bench: string, flag: string, raw: string | undefined, min: number, max: number): number {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    console.error(`bench/${bench}: ${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return v;
}

export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** CPU ms of every process in these process groups (Ironic's API and conductor, and their workers). */
export function groupCpuMs(pgids: readonly (number | undefined)[]): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (pgids.includes(Number(stat[2]))) ticks += Number(stat[11]) + Number(stat[12]);
    } catch {
      // exited meanwhile
    }
  }
  return (ticks * 1000) / 100;
}

/** The machine a bench ran on, as every bench prints it first. */
export function machineLine(): string {
  return `${cpus().length} x ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
}

/**
 * One figure of a run: what `--json FILE` writes and bench/ab.ts compares. `better` says which
 * way is an improvement; `key` marks the figures whose regression fails an A/B comparison (the
 * others are printed, too noisy or too derived to decide on).
 */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly better: 'lower' | 'higher';
  readonly key?: boolean;
}

/** What `--json FILE` holds. `complete`: the run did all it set out to (every node ready / active). */
export interface FiguresFile {
  readonly bench: string;
  readonly argv: readonly string[];
  readonly machine: string;
  readonly finishedAt: string;
  readonly complete: boolean;
  readonly figures: readonly Figure[];
}

/** Collects a run's figures and writes them as JSON (`--json FILE`), beside the printed report. */
export class FigureSheet {
  private readonly figures: Figure[] = [];
  constructor(private readonly bench: string) {}

  add(name: string, value: number, unit: string, opts: { better?: 'lower' | 'higher'; key?: boolean } = {}): void {
    if (!Number.isFinite(value)) return; // a percentile of nothing, a process not started
    this.figures.push({ name, value, unit, better: opts.better ?? 'lower', ...(opts.key ? { key: true } : {}) });
  }

  /** Writes the file when `path` is set (the bench's `--json`); a run that fell short says so. */
  write(path: string | undefined, complete: boolean): void {
    if (!path) return;
    const file: FiguresFile = { bench: this.bench, argv: process.argv.slice(2), machine: machineLine(), finishedAt: new Date().toISOString(), complete, figures: this.figures };
    writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
  }
}
