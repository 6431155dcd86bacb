import type { JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { JetStreamClient } from '@nats-io/jetstream';
import { parseSubject, streamFor, type Context } from '@stackyard/events';

/** How many messages the stream holds on each subject matching `filter` (e.g. `stackyard.dc1.*.*.h1.*`). */
export async function countBySubject(jsm: JetStreamManager, filter: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const c of ['inventory', 'provisioning', 'network', 'deployment', 'monitoring'] as Context[]) {
    const info = await jsm.streams.info(streamFor(c).name, { subjects_filter: filter });
    Object.assign(out, info.state.subjects ?? {});
  }
  return out;
}

/** Re-publishes the stored message on `subject` with a new JetStream msg id: a redelivery past the dedup window. */
export async function replay(jsm: JetStreamManager, js: JetStreamClient, subject: string): Promise<string> {
  const stream = streamFor(parseSubject(subject).context).name;
  const m = await jsm.streams.getMessage(stream, { last_by_subj: subject });
  if (!m) throw new Error(`no message on ${subject}`);
  const h = natsHeaders();
  for (const [k, v] of m.header) for (const x of v) h.append(k, x);
  await js.publish(subject, m.data, { headers: h, msgID: `replay-${m.seq}-${Date.now()}` });
  return m.header.get('ce-id');
}

/** Waits until every durable consumer of every stream has nothing pending or unacknowledged. */
export async function drained(jsm: JetStreamManager): Promise<boolean | undefined> {
  for (const c of ['inventory', 'provisioning', 'network', 'deployment', 'monitoring'] as Context[]) {
    for await (const ci of jsm.consumers.list(streamFor(c).name)) {
      if (ci.num_pending > 0 || ci.num_ack_pending > 0) return undefined;
    }
  }
  return true;
}
