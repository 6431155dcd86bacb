import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { isRetryable, isStackyardError } from '@stackyard/errors';
import { fromWire, streamFor, type Envelope, type EventType } from '@stackyard/events';
import { withConsumerSpan, type Logger } from '@stackyard/telemetry';
import type { Bus } from './connection';

/** What a handler tells the consumer: the event was applied, or it had been applied before. */
export type HandleOutcome = 'applied' | 'duplicate' | 'ignored';

export interface HandlerContext {
  readonly consumer: string;
  readonly deliveryCount: number;
  /** True on the last delivery JetStream will make: a handler records a failure instead of throwing. */
  readonly lastAttempt: boolean;
  readonly log: Logger;
}

export interface ConsumerSpec<T> {
  /** Durable name, filename-safe: `<service>-on-<event>`. */
  readonly durable: string;
  readonly event: EventType<T>;
  readonly handle: (env: Envelope<T>, ctx: HandlerContext) => Promise<HandleOutcome>;
  readonly maxDeliver?: number;
  readonly ackWaitMs?: number;
  readonly concurrency?: number;
}

export interface ConsumerMetrics {
  handled(durable: string, outcome: HandleOutcome | 'retry' | 'terminated', seconds: number): void;
}

/** Redelivery backoff: 200 ms doubling to 30 s. */
export function backoffMs(deliveryCount: number): number {
  return Math.min(30_000, 200 * 2 ** Math.max(0, deliveryCount - 1));
}

/**
 * A durable pull consumer that runs a handler per event with bounded concurrency. ack after the
 * handler's write is committed; nak with backoff on retryable errors; term on undecodable events and
 * non-retryable errors (the handler publishes its own failure event before throwing those).
 */
export class EventConsumer<T> {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly bus: Bus,
    private readonly spec: ConsumerSpec<T>,
    private readonly log: Logger,
    private readonly metrics?: ConsumerMetrics,
  ) {}

  async start(): Promise<void> {
    const stream = streamFor(this.spec.event.context).name;
    const tunables = {
      ack_wait: nanos(this.spec.ackWaitMs ?? 30_000),
      max_deliver: this.spec.maxDeliver ?? 20,
      max_ack_pending: 1000,
    };
    try {
      await this.bus.jsm.consumers.add(stream, {
        durable_name: this.spec.durable,
        filter_subject: this.spec.event.filter,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ...tunables,
      });
    } catch (e) {
      // The durable exists with other tunables (a new release, or another config): update them.
      if (!/already exists|already in use/i.test((e as Error).message)) throw e;
      await this.bus.jsm.consumers.update(stream, this.spec.durable, tunables);
    }
    const consumer = await this.bus.js.consumers.get(stream, this.spec.durable);
    const concurrency = this.spec.concurrency ?? 32;
    this.messages = await consumer.consume({ max_messages: concurrency });
    const messages = this.messages;
    this.loop = (async () => {
      for await (const m of messages) {
        while (this.inflight.size >= concurrency) await Promise.race(this.inflight);
        const p = this.process(m).finally(() => this.inflight.delete(p));
        this.inflight.add(p);
      }
    })();
  }

  private async process(m: JsMsg): Promise<void> {
    const started = process.hrtime.bigint();
    const header = (k: string) => m.headers?.get(k) || undefined;
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    let env: Envelope<T>;
    try {
      env = fromWire(m.subject, header, m.data) as Envelope<T>;
    } catch (e) {
      this.log.error({ err: e, subject: m.subject }, 'undecodable event terminated');
      m.term(); // no reason text: nats-server 2.9 does not recognise "+TERM <reason>"
      this.metrics?.handled(this.spec.durable, 'terminated', seconds());
      return;
    }
    const log = this.log.child({ 'ce-id': env.id, 'ce-type': env.type, entity: env.entityId });
    const ctx: HandlerContext = {
      consumer: this.spec.durable,
      deliveryCount: m.info.deliveryCount,
      lastAttempt: m.info.deliveryCount >= (this.spec.maxDeliver ?? 20),
      log,
    };
    // Heartbeat while the handler works, so a slow bare-metal step is not redelivered, while a
    // crashed replica's event is redelivered after one ack wait.
    const ackWait = this.spec.ackWaitMs ?? 30_000;
    const beat = setInterval(() => m.working(), Math.max(500, Math.floor(ackWait / 3)));
    try {
      const outcome = await withConsumerSpan(
        { subject: m.subject, eventId: env.id, eventType: env.type, consumer: this.spec.durable },
        header,
        () => this.handleWithConflictRetry(env, ctx),
      );
      m.ack();
      if (outcome === 'duplicate') log.info({}, 'duplicate event: already applied, acknowledged');
      this.metrics?.handled(this.spec.durable, outcome, seconds());
    } catch (e) {
      const max = this.spec.maxDeliver ?? 20;
      if (isRetryable(e) && m.info.deliveryCount < max) {
        const delay = backoffMs(m.info.deliveryCount);
        log.warn({ err: e, attempt: m.info.deliveryCount, delayMs: delay }, 'handler failed, will redeliver');
        m.nak(delay);
        this.metrics?.handled(this.spec.durable, 'retry', seconds());
      } else {
        log.error(
          { err: e, reason: isStackyardError(e) ? e.reason : 'Internal', attempt: m.info.deliveryCount },
          'handler failed for good, event terminated',
        );
        m.term();
        this.metrics?.handled(this.spec.durable, 'terminated', seconds());
      }
    } finally {
      clearInterval(beat);
    }
  }

  /**
   * Another consumer wrote the same aggregate first: re-run the handler at once (it re-reads the
   * aggregate) a few times before falling back to a redelivery with backoff.
   */
  private async handleWithConflictRetry(env: Envelope<T>, ctx: HandlerContext): Promise<HandleOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.spec.handle(env, ctx);
      } catch (e) {
        if (!(isStackyardError(e) && e.reason === 'ConcurrentModification') || attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      }
    }
  }

  /** Stops fetching, waits for handlers in flight. */
  async stop(): Promise<void> {
    await this.messages?.close();
    await this.loop?.catch(() => undefined);
    await Promise.allSettled([...this.inflight]);
  }
}
