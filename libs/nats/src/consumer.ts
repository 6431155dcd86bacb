import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { isRetryable, isStackyardError } from '@stackyard/errors';
import { fromWire, streamFor, type Envelope, type EventType } from '@stackyard/events';
import { withConsumerSpan, type Logger } from '@stackyard/telemetry';
import { retryTransient, type Bus } from './connection';

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
  /**
   * Runs this consumer's handlers one at a time per event entity (`ce-subject`) with every other
   * consumer sharing the same serializer, in this process: for projections fed by many consumers,
   * whose concurrent writes to one aggregate would otherwise conflict and be re-run. Leave it out
   * where a handler may wait long (a slow step must not hold back, e.g., an abort of its node).
   */
  readonly serializer?: KeyedSerializer;
  /**
   * The server sends a heartbeat on an idle pull request this often; two missed ones make the client
   * re-issue its pull (e.g. to the new consumer leader after a cluster node died). Default 1000 ms.
   */
  readonly idleHeartbeatMs?: number;
  /**
   * How long one pull request waits on the server (default 5000 ms). After a reconnect the client
   * checks the durable before pulling again and, while the cluster elects its leader, retries that
   * check after a random delay of up to this long.
   */
  readonly pullExpiresMs?: number;
}

export interface ConsumerMetrics {
  handled(durable: string, outcome: HandleOutcome | 'retry' | 'terminated', seconds: number): void;
}

/**
 * Sends an ack, nak, term or heartbeat. These are fire-and-forget publishes; one that cannot be sent
 * (the connection is closing) is dropped: JetStream redelivers the event after the ack wait, and the
 * handler's inbox key absorbs it.
 */
function settle(f: () => void): void {
  try {
    f();
  } catch {
    // dropped: redelivered after ack_wait
  }
}

/** Redelivery backoff: 200 ms doubling to 30 s. */
export function backoffMs(deliveryCount: number): number {
  return Math.min(30_000, 200 * 2 ** Math.max(0, deliveryCount - 1));
}

/** Runs functions one at a time per key, in call order; different keys run concurrently. */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<R>(key: string, fn: () => Promise<R>): Promise<R> {
    const prev = this.tails.get(key);
    const next = prev ? prev.then(fn, fn) : fn();
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Keys with work queued or running (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }
}

/**
 * A durable pull consumer that runs a handler per event with bounded concurrency. ack after the
 * handler's write is committed; nak with backoff on retryable errors; term on undecodable events and
 * non-retryable errors (the handler publishes its own failure event before throwing those).
 */
export class EventConsumer<T> {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly bus: Bus,
    private readonly spec: ConsumerSpec<T>,
    private readonly log: Logger,
    private readonly metrics?: ConsumerMetrics,
  ) {}

  async start(): Promise<void> {
    await retryTransient(() => this.ensureDurable());
    this.messages = await retryTransient(() => this.open());
    this.loop = this.run(this.messages);
  }

  /** Creates the durable, or updates its tunables when it exists (a new release, or another config). */
  private async ensureDurable(): Promise<void> {
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
      if (!/already exists|already in use/i.test((e as Error).message)) throw e;
      await this.bus.jsm.consumers.update(stream, this.spec.durable, tunables);
    }
  }

  private async open(): Promise<ConsumerMessages> {
    const consumer = await this.bus.js.consumers.get(streamFor(this.spec.event.context).name, this.spec.durable);
    return consumer.consume({
      max_messages: this.spec.concurrency ?? 32,
      expires: this.spec.pullExpiresMs ?? 5000,
      idle_heartbeat: this.spec.idleHeartbeatMs ?? 1000,
    });
  }

  /**
   * Pulls and dispatches until stop(). The client's consume() already rides over reconnects, 503
   * "no responders" and missed heartbeats (a JetStream leader change); if it ends anyway (an error,
   * the durable gone), the consumer is re-created and consuming resumes, with jittered backoff.
   */
  private async run(first: ConsumerMessages): Promise<void> {
    const concurrency = this.spec.concurrency ?? 32;
    let messages: ConsumerMessages | undefined = first;
    for (let restarts = 0; !this.stopping; ) {
      try {
        if (!messages) {
          await this.ensureDurable();
          messages = await this.open();
          if (this.stopping) {
            await messages.close();
            return;
          }
          this.messages = messages;
          this.log.info({ restarts }, 'consumer resumed');
        }
        for await (const m of messages) {
          restarts = 0;
          while (this.inflight.size >= concurrency) await Promise.race(this.inflight);
          const p = this.process(m).finally(() => this.inflight.delete(p));
          this.inflight.add(p);
        }
        if (this.stopping) return;
        this.log.warn({}, 'consumer iterator ended, resuming');
      } catch (e) {
        if (this.stopping) return;
        this.log.warn({ err: e, restarts }, 'consumer failed, resuming');
      }
      messages = undefined;
      if (this.bus.nc.isClosed()) return;
      restarts++;
      await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** Math.min(restarts, 6)) * (0.5 + Math.random() / 2)));
    }
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
      settle(() => m.term()); // no reason text: nats-server 2.9 does not recognise "+TERM <reason>"
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
    const beat = setInterval(() => settle(() => m.working()), Math.max(500, Math.floor(ackWait / 3)));
    try {
      const outcome = await withConsumerSpan(
        { subject: m.subject, eventId: env.id, eventType: env.type, consumer: this.spec.durable },
        header,
        () => (this.spec.serializer ? this.spec.serializer.run(env.entityId, () => this.handleWithConflictRetry(env, ctx)) : this.handleWithConflictRetry(env, ctx)),
      );
      settle(() => m.ack());
      if (outcome === 'duplicate') log.info({}, 'duplicate event: already applied, acknowledged');
      this.metrics?.handled(this.spec.durable, outcome, seconds());
    } catch (e) {
      const max = this.spec.maxDeliver ?? 20;
      if (isRetryable(e) && m.info.deliveryCount < max) {
        const delay = backoffMs(m.info.deliveryCount);
        log.warn({ err: e, attempt: m.info.deliveryCount, delayMs: delay }, 'handler failed, will redeliver');
        settle(() => m.nak(delay));
        this.metrics?.handled(this.spec.durable, 'retry', seconds());
      } else {
        log.error(
          { err: e, reason: isStackyardError(e) ? e.reason : 'Internal', attempt: m.info.deliveryCount },
          'handler failed for good, event terminated',
        );
        settle(() => m.term());
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
    this.stopping = true;
    await this.messages?.close().catch(() => undefined);
    await this.loop?.catch(() => undefined);
    await Promise.allSettled([...this.inflight]);
  }
}
