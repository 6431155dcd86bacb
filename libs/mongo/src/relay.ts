import type { Document } from 'mongodb';
import type { WireEvent } from '@stackyard/events';
import type { AggregateStore, OutboxEntry, WrittenRevision } from './store';

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
  /** Revisions written by this process, published without a query. */
  private readonly fresh: { store: AggregateStore<Document>; rev: WrittenRevision }[] = [];
  private lastScan = 0;
  private scans = 0;
  /** A scan found a full batch: the next flush goes on scanning at once, not at the next `scanMs`. */
  private scanUnfinished = false;

  constructor(
    private readonly publish: Publish,
    private readonly log: RelayLogger,
    private readonly pollMs = 1000,
    private readonly batch = 200,
    /**
     * How often to scan for revisions other processes (or a crash) left unpublished. A restarted
     * process scans at once; the periodic scan only covers replicas that died for good.
     */
    private readonly scanMs = 30_000,
    /**
     * How long a published revision waits for its aggregate's next write, which marks it published
     * in the same update that clears its `latest` flag (saves a row rewrite per revision); the relay
     * marks it itself after that. 0 marks at once. A crash in between republishes it (JetStream's
     * message-id dedup and the consumers' inbox absorb that).
     */
    private readonly markDelayMs = 30_000,
  ) {}

  add(store: AggregateStore<Document>): void {
    this.stores.push(store);
  }

  start(): void {
    this.stopped = false;
    this.lastScan = 0;
    this.timer = setInterval(() => this.notify(), this.pollMs);
    this.timer.unref();
    this.notify();
  }

  /** Queues a revision this process just wrote and asks for a flush. */
  written(store: AggregateStore<Document>, rev: WrittenRevision): void {
    this.fresh.push({ store, rev });
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

  private async publishRevision(store: AggregateStore<Document>, id: string, outbox: readonly OutboxEntry[]): Promise<number> {
    for (const e of [...outbox].sort((a, b) => a.seq - b.seq)) {
      await this.publish({ id: e.id, subject: e.subject, headers: e.headers, payload: e.payload.buffer.subarray(0, e.payload.position) });
    }
    if (this.markDelayMs > 0) store.published(id);
    else await store.markPublished(id);
    return outbox.length;
  }

  /**
   * Publishes what this process wrote since the last flush, then, at most every `scanMs` (or when
   * `scan` is set), every revision still marked unpublished. Returns how many events were published.
   */
  async flush(scan = false): Promise<number> {
    let n = 0;
    while (this.fresh.length) {
      const { store, rev } = this.fresh[0]!;
      n += await this.publishRevision(store, rev._id, rev.outbox);
      this.fresh.shift();
    }
    if (this.markDelayMs > 0) for (const store of this.stores) await store.markPublishedBefore(this.markDelayMs);
    const continuing = this.scanUnfinished;
    this.scanUnfinished = false;
    if (!scan && !continuing && Date.now() - this.lastScan < this.scanMs) return n;
    if (!continuing) {
      this.lastScan = Date.now();
      // Superseded revisions still flagged latest: those this process failed to clear at every scan,
      // all of them (a crash anywhere) at the first scan and every tenth (5 min by default).
      const full = this.scans++ % 10 === 0;
      for (const store of this.stores) await store.repairLatest(full);
    }
    for (const store of this.stores) {
      const revisions = await store.pending(this.batch);
      for (const rev of revisions) n += await this.publishRevision(store, rev._id, rev.outbox);
      // More may be waiting (e.g. what a killed replica left): the scan goes on in the next flush.
      if (revisions.length === this.batch) this.again = this.scanUnfinished = true;
    }
    return n;
  }

  /** Stops flushing, then marks every revision it published (a graceful stop leaves none to republish). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    for (const store of this.stores) {
      await store.markPublishedBefore(0).catch((e: unknown) => this.log.warn({ err: e }, 'outbox relay: marking published revisions failed; they will be published again'));
    }
  }
}
