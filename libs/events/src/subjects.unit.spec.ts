import { describe, expect, it } from 'vitest';
import { filterFor, parseSubject, streamFor, subjectOf } from './subjects';

describe('subject grammar', () => {
  it('builds stackyard.<site>.<context>.<entity>.<id>.<event>', () => {
    expect(subjectOf({ site: 'dc1', context: 'provisioning', entity: 'node', id: 'n-7f3a', event: 'provisioned' })).toBe(
      'stackyard.dc1.provisioning.node.n-7f3a.provisioned',
    );
  });
  it('rejects ids with dots or wildcards, naming the field', () => {
    for (const id of ['a.b', 'a*', '>', '', 'a b']) {
      expect(() => subjectOf({ site: 'dc1', context: 'network', entity: 'host', id, event: 'configured' })).toThrow(/^id: /);
    }
  });
  it('rejects uppercase site tokens', () => {
    expect(() => subjectOf({ site: 'DC1', context: 'network', entity: 'host', id: 'h1', event: 'configured' })).toThrow(/^site: /);
  });
  it('parses what it builds', () => {
    const s = subjectOf({ site: 'dc2', context: 'inventory', entity: 'host', id: 'dc2-h1', event: 'registered' });
    expect(parseSubject(s)).toEqual({ site: 'dc2', context: 'inventory', entity: 'host', id: 'dc2-h1', event: 'registered' });
    expect(() => parseSubject('stackyard.dc1.nope.host.h.x')).toThrow(/subject/);
  });
  it('has one stream per context and filters across sites', () => {
    expect(streamFor('network')).toEqual({ name: 'STACKYARD_NETWORK', subjects: ['stackyard.*.network.>'] });
    expect(filterFor('network', 'host', 'configured')).toBe('stackyard.*.network.host.*.configured');
  });
});
