/**
 * Event path latency (issue 9): from publishing a fact to JetStream (what the outbox relay does) to
 * the start of its handler in a durable consumer (what every saga step runs in), on a private
 * nats-server, at a fixed publish rate. Prints p50/p99/max per rate and the achieved rates.
 * Not a test: it prints figures.
 *
 *   node --conditions=@stackyard/source --import tsx bench/event-path.ts [--events 5000] [--rates 200,1000,4000] [--concurrency 32]
 */
import { parseArgs } from 'node:util';
import { startNatsServer } from '@stackyard/devinfra';
import { Events, newEvent, toWire, uuidv7 } from '@stackyard/events';
import { connectBus, ensureStreams, EventConsumer, publisherFor } from '@stackyard/nats';
import { createLogger } from '@stackyard/telemetry';
import { FigureSheet, machineLine, pct } from './lib';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000' },
    rates: { type: 'string', default: '200,1000,4000' },
    concurrency: { type: 'string', default: '32' },
    json: { type: 'string' },
  },
});
const N = Number(values.events);
const RATES = values.rates.split(',').map(Number);

async function main() {
  const nats = await startNatsServer();
  const bus = await connectBus(nats.url, 'bench');
  const log = createLogger('bench', { level: 'silent' });
  try {
    await ensureStreams(bus.jsm);
    const publish = publisherFor(bus.js);
    console.log(`machine: ${machineLine()}`);
    const sheet = new FigureSheet('event-path');
    let complete = true;
    console.log(`event path: publish (JetStream, msgID dedup) -> durable pull consumer handler; ${N} events per rate, consumer concurrency ${values.concurrency}`);
    console.log('rate (ev/s)  achieved  p50 ms  p99 ms  max ms  publish ack p50/p99 ms');
    for (const rate of RATES) {
      const sentAt = new Map<string, number>();
      const latencies: number[] = [];
      const acks: number[] = [];
      let resolveAll: () => void = () => undefined;
      let warmed: () => void = () => undefined;
      let warm = 0;
      const all = new Promise<void>((r) => (resolveAll = r));
      const durable = `bench-${rate}-${uuidv7().slice(-8)}`;
      const consumer = new EventConsumer(
        bus,
        {
          durable,
          event: Events.NodeEnrolled,
          concurrency: Number(values.concurrency),
          handle: async (env) => {
            if (env.entityId.startsWith('warm-up-') && ++warm === rate) warmed();
            const t = sentAt.get(env.id);
            if (t !== undefined) latencies.push(performance.now() - t);
            if (latencies.length === N) resolveAll();
            return 'applied';
          },
        },
        log,
      );
      await consumer.start();
      const site = `r${rate}`;
      // Publishes `count` events at `rate`, at most 64 awaiting their acks (each frees its slot
      // when acked: no bursts). Returns when every publish is acknowledged.
      const publishAt = async (count: number, prefix: string, measured: boolean) => {
        const t0 = performance.now();
        const inflight = new Set<Promise<void>>();
        for (let i = 0; i < count; i++) {
          const due = t0 + (i * 1000) / rate;
          const wait = due - performance.now();
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
          const env = newEvent({ type: Events.NodeEnrolled, site, entityId: `${prefix}${i}`, service: 'provisioning', data: { host: { hostId: `${prefix}${i}`, siteId: site, name: `${prefix}${i}`, groups: ['compute'] }, driver: 'lab' } });
          const wire = toWire(env);
          if (measured) sentAt.set(env.id, performance.now());
          while (inflight.size >= 64) await Promise.race(inflight);
          const sent = performance.now();
          const p: Promise<void> = publish({ ...wire, id: env.id }).finally(() => {
            if (measured) acks.push(performance.now() - sent);
            inflight.delete(p);
          });
          inflight.add(p);
        }
        await Promise.all(inflight);
        return t0;
      };
      // A fresh consumer delivers its first few hundred ms of events late (0.3-0.9 s at 2,000-3,000
      // events/s: its first pulls), which says nothing of a running service: one second of events at
      // the same rate first, not measured.
      const warmedUp = new Promise<void>((r) => (warmed = r));
      await publishAt(rate, 'warm-up-', false);
      await warmedUp;
      const t0 = await publishAt(N, 'n', true);
      const published = performance.now();
      await Promise.race([all, new Promise((r) => setTimeout(r, 120_000))]);
      await consumer.stop();
      const achieved = (N / (published - t0)) * 1000;
      console.log(
        `${String(rate).padStart(11)}  ${achieved.toFixed(0).padStart(8)}  ${pct(latencies, 50).toFixed(1).padStart(6)}  ${pct(latencies, 99).toFixed(1).padStart(6)}  ${Math.max(...latencies).toFixed(1).padStart(6)}  ${pct(acks, 50).toFixed(1)}/${pct(acks, 99).toFixed(1)}${latencies.length < N ? `  (only ${latencies.length}/${N} handled)` : ''}`,
      );
      sheet.add(`${rate} ev/s p50`, pct(latencies, 50), 'ms');
      sheet.add(`${rate} ev/s p99`, pct(latencies, 99), 'ms', { key: true });
      sheet.add(`${rate} ev/s achieved`, achieved, 'ev/s', { better: 'higher' });
      if (latencies.length < N) complete = false;
    }
    sheet.write(values.json, complete);
  } finally {
    await bus.close();
    await nats.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
