/**
 * Bounded parallelism for driver work (issue 5): how many deploys and inspections run at once, how
 * many driver requests one site and one BMC take at once. Work that cannot start waits in FIFO
 * order and is visible (GetWorkQueue, metrics). The limits hold per replica: with several replicas
 * the totals are the consumers' concurrency times the replica count (docs/adr/0006).
 */

export type WorkKind = 'enroll' | 'inspect' | 'deploy' | 'deprovision' | 'power';

export interface LimitSettings {
  /** Per kind of work; a kind not listed is not limited by kind. */
  readonly perKind: Partial<Record<WorkKind, number>>;
  readonly perSite: number;
  readonly perBmc: number;
}

export interface LimitSnapshot {
  readonly name: string;
  readonly limit: number;
  readonly inFlight: number;
  readonly queued: readonly string[];
}

class Semaphore {
  inFlight = 0;
  constructor(readonly limit: number) {}
}

interface Waiting {
  readonly names: readonly string[];
  readonly label: string;
  readonly start: (release: () => void) => void;
}

/**
 * Takes every semaphore a piece of work needs, all or none (so that waiting on one never holds
 * another, and no two pieces of work deadlock), oldest waiting work first.
 */
export class WorkLimiter {
  private readonly sems = new Map<string, Semaphore>();
  private readonly queue: Waiting[] = [];

  constructor(private readonly settings: LimitSettings) {}

  private sem(name: string): Semaphore {
    let s = this.sems.get(name);
    if (!s) {
      s = new Semaphore(this.limitOf(name));
      this.sems.set(name, s);
    }
    return s;
  }

  private namesFor(kind: WorkKind, site: string, bmc: string): string[] {
    const names: string[] = [];
    if (this.settings.perKind[kind] !== undefined) names.push(kind);
    names.push(`site:${site}`);
    if (bmc) names.push(`bmc:${bmc}`);
    return names;
  }

  private limitOf(name: string): number {
    if (name.startsWith('site:')) return this.settings.perSite;
    if (name.startsWith('bmc:')) return this.settings.perBmc;
    return this.settings.perKind[name as WorkKind] ?? Number.MAX_SAFE_INTEGER;
  }

  private fits(names: readonly string[]): boolean {
    return names.every((n) => {
      const s = this.sem(n);
      return s.inFlight < s.limit;
    });
  }

  /** Waits for room, then returns the release function (calling it twice is harmless). */
  acquire(kind: WorkKind, site: string, bmc: string, label: string): Promise<() => void> {
    const names = this.namesFor(kind, site, bmc);
    for (const n of names) this.sem(n);
    if (this.queue.length === 0 && this.fits(names)) return Promise.resolve(this.take(names));
    return new Promise((start) => {
      this.queue.push({ names, label, start });
      this.drain();
    });
  }

  private take(names: readonly string[]): () => void {
    for (const n of names) this.sem(n).inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const n of names) this.sem(n).inFlight--;
      this.drain();
    };
  }

  /** Starts every queued piece of work that fits now, oldest first. */
  private drain(): void {
    for (let i = 0; i < this.queue.length; ) {
      const w = this.queue[i]!;
      if (this.fits(w.names)) {
        this.queue.splice(i, 1);
        w.start(this.take(w.names));
      } else i++;
    }
  }

  /** What is running and waiting, per limit (only limits that have been used). */
  snapshot(): LimitSnapshot[] {
    return [...this.sems.entries()]
      .map(([name, s]) => ({ name, limit: s.limit, inFlight: s.inFlight, queued: this.queue.filter((w) => w.names.includes(name)).map((w) => w.label) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Total pieces of work waiting. */
  get queued(): number {
    return this.queue.length;
  }
}
