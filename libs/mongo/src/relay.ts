import type { Document } from 'mongodb';
import type { WireEvent } from '@stackyard/events';
import type { AggregateStore } from './store';

export type Publish = (event: WireEvent & { readonly id: string }) => Promise<void>;

export interface RelayLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Publishes what aggregates put in their outboxes, then removes it (docs/adr/0003). Woken at once
 * after each write and by a poll for what a crash left behind. Safe on every replica: JetStream's
 * message-id dedup absorbs a publish repeated between "published" and "removed".
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private readonly stores: AggregateStore<Document>[] = [];

  constructor(
    private readonly publish: Publish,
    private readonly log: RelayLogger,
    private readonly pollMs = 1000,
    private readonly batch = 200,
  ) {}

  add(store: AggregateStore<Document>): void {
    this.stores.push(store);
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.notify(), this.pollMs);
    this.timer.unref();
    this.notify();
  }

  /** Asks for a flush soon; flushes never overlap. */
  notify(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.flush();
      } catch (e) {
        this.log.warn({ err: e }, 'outbox relay: flush failed, will retry');
        return;
      }
    } while (this.again && !this.stopped);
  }

  /** Publishes every pending event once; returns how many were published. */
  async flush(): Promise<number> {
    let n = 0;
    for (const store of this.stores) {
      const revisions = await store.pending(this.batch);
      for (const rev of revisions) {
        for (const e of [...rev.outbox].sort((a, b) => a.seq - b.seq)) {
          await this.publish({ id: e.id, subject: e.subject, headers: e.headers, payload: e.payload.buffer.subarray(0, e.payload.position) });
          n++;
        }
        await store.markPublished(rev._id);
      }
      if (revisions.length === this.batch) this.again = true;
    }
    return n;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
