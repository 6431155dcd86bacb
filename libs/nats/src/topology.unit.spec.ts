import { describe, expect, it } from 'vitest';
import { assertReplicas, isTransientJetStreamError, topologyFromConfig, topologyStreamConfig, TOPOLOGY_MARK } from './connection';

describe('stream replicas', () => {
  it('accepts 1..5 and rejects anything else, naming STREAM_REPLICAS', () => {
    for (const n of [1, 3, 5]) expect(assertReplicas(n)).toBe(n);
    for (const n of [0, 6, 2.5, Number.NaN]) expect(() => assertReplicas(n)).toThrow(/STREAM_REPLICAS/);
  });
});

describe('stream topology (docs/scale-out.md)', () => {
  it('defaults to single: every stream as ensureStreams makes it', () => {
    expect(topologyFromConfig({})).toEqual({ kind: 'single' });
    expect(topologyStreamConfig('provisioning', { kind: 'single' })).toMatchObject({ name: 'STACKYARD_PROVISIONING', subjects: ['stackyard.*.provisioning.>'], num_replicas: 1 });
  });

  it('at the hub: inventory and monitoring capture every site; site contexts are sourced from each site domain', () => {
    const hub = topologyFromConfig({ NATS_STREAM_TOPOLOGY: 'hub', NATS_HUB_SITES: 'dc1, dc2' });
    expect(hub).toEqual({ kind: 'hub', sites: ['dc1', 'dc2'] });
    expect(topologyStreamConfig('inventory', hub, 3)).toMatchObject({ subjects: ['stackyard.*.inventory.>'], num_replicas: 3 });
    const prov = topologyStreamConfig('provisioning', hub);
    expect(prov).toMatchObject({ description: TOPOLOGY_MARK, subjects: [] });
    expect(prov.sources?.map((s) => s.external?.api)).toEqual(['$JS.dc1.API', '$JS.dc2.API']);
  });

  it('at a site: site contexts as usual; hub contexts sourced from the hub domain, filtered to the site', () => {
    const site = topologyFromConfig({ NATS_STREAM_TOPOLOGY: 'site', NATS_SITE: 'dc1' });
    expect(site).toEqual({ kind: 'site', site: 'dc1', hubDomain: 'hub' });
    expect(topologyStreamConfig('network', site)).toMatchObject({ subjects: ['stackyard.*.network.>'] });
    expect(topologyStreamConfig('network', site).sources).toBeUndefined();
    expect(topologyStreamConfig('monitoring', site)).toMatchObject({
      description: TOPOLOGY_MARK,
      subjects: ['stackyard.*.monitoring.>'],
      sources: [{ name: 'STACKYARD_MONITORING', filter_subject: 'stackyard.dc1.monitoring.>', external: { api: '$JS.hub.API', deliver: '' } }],
    });
  });

  it('rejects a site topology without a valid site', () => {
    expect(() => topologyFromConfig({ NATS_STREAM_TOPOLOGY: 'site' })).toThrow(/NATS_SITE/);
    expect(() => topologyFromConfig({ NATS_STREAM_TOPOLOGY: 'site', NATS_SITE: 'DC.1' })).toThrow(/NATS_SITE/);
  });
});

describe('transient JetStream errors', () => {
  it('retries leader elections and timeouts, not API rejections', () => {
    expect(isTransientJetStreamError(new Error('timeout'))).toBe(true);
    expect(isTransientJetStreamError(new Error("no responders: '$JS.API.STREAM.INFO.X'"))).toBe(true);
    expect(isTransientJetStreamError(new Error('jetstream is not enabled'))).toBe(true);
    expect(isTransientJetStreamError(new Error('stream name already in use with a different configuration'))).toBe(false);
    expect(isTransientJetStreamError(new Error('replicas > 1 not supported in non-clustered mode'))).toBe(false);
    expect(isTransientJetStreamError(new Error('consumer filter subject is not a valid subset of the interest subjects'))).toBe(false);
  });
});
