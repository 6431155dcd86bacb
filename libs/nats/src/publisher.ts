import { headers as natsHeaders } from '@nats-io/nats-core';
import type { JetStreamClient } from '@nats-io/jetstream';
import { DependencyUnavailableError } from '@stackyard/errors';
import type { WireEvent } from '@stackyard/events';

/**
 * Publishes a wire event with its ce-id as JetStream message id: a repeated publish inside the
 * duplicate window is stored once.
 */
export function publisherFor(js: JetStreamClient): (e: WireEvent & { readonly id: string }) => Promise<void> {
  return async (e) => {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(e.headers)) h.set(k, v);
    try {
      await js.publish(e.subject, e.payload, { headers: h, msgID: e.id, timeout: 5000 });
    } catch (err) {
      throw new DependencyUnavailableError(`JetStream publish to ${e.subject}`, err);
    }
  };
}
