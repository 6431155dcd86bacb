import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { Metadata } from '@grpc/grpc-js';
import type { LocalServer } from '@stackyard/devinfra';
import { NodeState } from '@stackyard/proto/monitoring/v1/monitoring';
import { call } from '@stackyard/grpc';
import { eventually, privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';

// One trace per node saga: the operator's RegisterHost call, then every consumer of every service,
// linked through traceparent in gRPC metadata and NATS headers. Spans go to an in-memory exporter.
describe('tracing across gRPC and NATS', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let nats: LocalServer;
  let p: Platform;

  beforeAll(async () => {
    provider.register();
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('trace'), { provisioning: { LAB_LATENCY_MS: '0' } });
    await p.startAll();
    await p.defineSite('tr');
  });
  afterAll(async () => {
    await p?.stopAll();
    await nats?.stop();
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('puts the whole saga of a node in the trace of the call that registered it, each step a child of the one that caused it', async () => {
    const root = trace.getTracer('test').startSpan('operator: register tr-cmp-01');
    const md = new Metadata();
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), root), carrier);
    for (const [k, v] of Object.entries(carrier)) md.set(k, v);
    await new Promise<void>((res, rej) =>
      p.clients.inventory.registerHost(
        { siteId: 'tr', name: 'cmp-01', groups: ['compute'], bmc: { address: '10.9.0.1', driver: 'lab', credentialRef: '' }, labels: {}, hardwareProfile: 'compute-std', requestId: 't1' },
        md,
        (err) => (err ? rej(err) : res()),
      ),
    );
    root.end();
    await eventually(async () => {
      const r = await call(p.clients.monitoring, p.clients.monitoring.getNodeProgress, { hostId: 'tr-cmp-01' });
      return r.progress?.state === NodeState.NODE_STATE_READY ? true : undefined;
    }, 20_000, 'ready');
    const traceId = root.spanContext().traceId;
    const spans = await eventually(async () => {
      const s = exporter.getFinishedSpans().filter((x) => x.spanContext().traceId === traceId);
      return s.some((x) => x.name === 'process stackyard.monitoring.v1.NodeReady') || s.some((x) => x.attributes['messaging.consumer.group.name'] === 'monitoring-on-deployment-deployed') ? s : undefined;
    }, 10_000, 'spans');

    const server = spans.find((s) => s.name === '/stackyard.inventory.v1.InventoryService/RegisterHost');
    expect(server, 'RegisterHost server span in the operator trace').toBeDefined();
    expect(parentOf(server!)).toBe(root.spanContext().spanId);

    const consumer = (group: string) => {
      const s = spans.find((x) => x.attributes['messaging.consumer.group.name'] === group);
      expect(s, `span of ${group}`).toBeDefined();
      return s!;
    };
    // The causal chain: each step's consumer span is the child of the span that emitted its event.
    const chain = [
      consumer('provisioning-on-host-registered'),
      consumer('provisioning-on-node-enrolled'),
      consumer('network-on-node-inspected'),
      consumer('provisioning-on-admin-address-allocated'),
      consumer('network-on-node-provisioned'),
      consumer('deployment-on-network-configured'),
    ];
    expect(parentOf(chain[0]!)).toBe(server!.spanContext().spanId);
    for (let i = 1; i < chain.length; i++) expect(parentOf(chain[i]!)).toBe(chain[i - 1]!.spanContext().spanId);
    // Monitoring observes each fact as a child of its producer too.
    expect(parentOf(consumer('monitoring-on-deployment-deployed'))).toBe(chain[5]!.spanContext().spanId);
    expect(parentOf(consumer('inventory-on-node-inspected'))).toBe(chain[1]!.spanContext().spanId);
    // MongoDB: each step reads its aggregate and inserts its revision (state + outbox) in child spans.
    for (const s of chain) {
      const db = spans.filter((x) => parentOf(x) === s.spanContext().spanId && x.attributes['db.system'] === 'mongodb');
      expect(db.map((x) => x.attributes['db.operation.name']), `db spans of ${s.attributes['messaging.consumer.group.name']}`).toContain('insert');
      expect(db.every((x) => x.spanContext().traceId === s.spanContext().traceId)).toBe(true);
    }
    for (const s of chain) {
      expect(s.attributes['messaging.system']).toBe('nats');
      expect(s.attributes['messaging.operation.type']).toBe('process');
      expect(String(s.attributes['messaging.destination.name'])).toMatch(/^stackyard\.tr\./);
    }
  });
});

function parentOf(s: ReadableSpan): string | undefined {
  return s.parentSpanContext?.spanId;
}
