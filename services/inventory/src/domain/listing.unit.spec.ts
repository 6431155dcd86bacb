import { describe, expect, it } from 'vitest';
import { ValidationError } from '@stackyard/errors';
import { decodePageToken, encodePageToken, filterKeyOf, matches, pageSizeOf, parseLabelSelector } from './listing';

const field = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).field;
  }
  throw new Error('expected a ValidationError');
};

describe('page size', () => {
  it('0 is the default 100, above 500 is read as 500 (AIP-158), negative or fractional names page_size', () => {
    expect(pageSizeOf(0)).toBe(100);
    expect(pageSizeOf(7)).toBe(7);
    expect(pageSizeOf(500)).toBe(500);
    expect(pageSizeOf(1000)).toBe(500);
    expect(field(() => pageSizeOf(-1))).toBe('page_size');
    expect(field(() => pageSizeOf(2.5))).toBe('page_size');
  });
});

describe('label selector', () => {
  it('parses k=v terms, with the reserved prefix allowed and spaces trimmed', () => {
    expect(parseLabelSelector('')).toEqual([]);
    expect(parseLabelSelector('rack=r12, stackyard.io/imported-from=dc1-x ,empty=')).toEqual([
      { key: 'rack', value: 'r12' },
      { key: 'stackyard.io/imported-from', value: 'dc1-x' },
      { key: 'empty', value: '' },
    ]);
  });

  it.each(['rack', '=v', 'Rack=1', 'a=1,a=2', 'a.b=1', `a=${'x'.repeat(257)}`])('names label_selector for %j', (sel) => {
    expect(field(() => parseLabelSelector(sel))).toBe('label_selector');
  });
});

describe('matches', () => {
  const h = { siteId: 'dc1', groups: ['compute', 'overcloud'], labels: { rack: 'r1', row: '2' } };
  it('needs every filter to hold; tombstones never match', () => {
    expect(matches(h, 'registered', {})).toBe(true);
    expect(matches(h, 'registered', { siteId: 'dc1', group: 'overcloud', labels: [{ key: 'rack', value: 'r1' }], state: 'registered' })).toBe(true);
    expect(matches(h, 'registered', { siteId: 'dc2' })).toBe(false);
    expect(matches(h, 'registered', { group: 'controllers' })).toBe(false);
    expect(matches(h, 'registered', { labels: [{ key: 'rack', value: 'r1' }, { key: 'row', value: '3' }] })).toBe(false);
    expect(matches(h, 'ready', { state: 'registered' })).toBe(false);
    expect(matches(h, 'deleted', {})).toBe(false);
  });
});

describe('page tokens', () => {
  const key = filterKeyOf({ siteId: 'dc1', labels: [{ key: 'rack', value: 'r1' }] });
  it('round-trip, are opaque, and are bound to their filters', () => {
    const t = encodePageToken('dc1-cmp-02', key);
    expect(t).not.toContain('dc1');
    expect(decodePageToken(t, key)).toBe('dc1-cmp-02');
    expect(decodePageToken('', key)).toBeUndefined();
    expect(field(() => decodePageToken(t, filterKeyOf({ siteId: 'dc2' })))).toBe('page_token');
  });

  it.each(['dc1-cmp-02', 'not base64!', Buffer.from('{"v":2,"a":"x","q":"y"}').toString('base64url'), Buffer.from('[]').toString('base64url')])(
    'names page_token for a token it did not issue (%j)',
    (t) => {
      expect(field(() => decodePageToken(t, key))).toBe('page_token');
    },
  );

  it('the filter key ignores the order of label terms', () => {
    expect(filterKeyOf({ labels: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] })).toBe(filterKeyOf({ labels: [{ key: 'b', value: '2' }, { key: 'a', value: '1' }] }));
  });
});
