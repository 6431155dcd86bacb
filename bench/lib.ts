/** What the benches share: CPU and memory of processes from /proc, percentiles. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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
