import { DependencyUnavailableError } from '@stackyard/errors';
import { fromWire, SUBJECT_ROOT, streamFor } from '@stackyard/events';
import type { Bus } from '@stackyard/nats';
import type { Logger } from '@stackyard/telemetry';
import type { HostChange, HostChangeFeed } from '../../application/ports';

const STREAM = streamFor('inventory').name;

/** The site's host subjects: one filter, as nats-server 2.9 allows a single filter_subject. */
export function hostSubjectsOf(siteId: string): string {
  return `${SUBJECT_ROOT}.${siteId}.inventory.host.>`;
}

/**
 * The inventory's host events as a change log: revision = the event's sequence in
 * STACKYARD_INVENTORY. `follow` reads with an ordered consumer (ephemeral, no acks, memory storage,
 * recreated by the client on a gap) from `fromRevision + 1`, filtered to one site's host subjects.
 * The consumer is deleted when the watch ends, or left to the server's 30 s inactive threshold where
 * the service's NATS user may not delete consumers (libs/nats permissions).
 */
export class JetStreamHostChangeFeed implements HostChangeFeed {
  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {}

  async lastRevision(): Promise<number> {
    try {
      return (await this.bus.jsm.streams.info(STREAM)).state.last_seq;
    } catch (e) {
      throw new DependencyUnavailableError(`JetStream stream ${STREAM}`, e);
    }
  }

  async follow(siteId: string, fromRevision: number, signal: AbortSignal, onChange: (c: HostChange) => Promise<void> | void): Promise<void> {
    if (signal.aborted) return;
    let messages;
    let consumer;
    try {
      consumer = await this.bus.js.consumers.get(STREAM, {
        filter_subjects: hostSubjectsOf(siteId),
        opt_start_seq: fromRevision + 1,
        inactive_threshold: 30_000,
      });
      messages = await consumer.consume({ max_messages: 256 });
    } catch (e) {
      throw new DependencyUnavailableError(`JetStream stream ${STREAM}`, e);
    }
    const stop = () => void messages.stop();
    signal.addEventListener('abort', stop, { once: true });
    try {
      if (signal.aborted) return;
      for await (const m of messages) {
        let event;
        try {
          event = fromWire(m.subject, (k) => m.headers?.get(k) || undefined, m.data);
        } catch (e) {
          this.log.warn({ err: e, subject: m.subject, seq: m.seq }, 'watch: undecodable inventory event skipped');
          continue;
        }
        await onChange({ revision: m.seq, event });
        if (signal.aborted) break;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      void messages.stop();
      // Best effort: a service user may not delete consumers, then the inactive threshold does.
      await consumer.delete().catch(() => undefined);
    }
    if (!signal.aborted) throw new DependencyUnavailableError('the inventory change feed ended (NATS connection closed)');
  }
}
