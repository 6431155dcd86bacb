import { describe, expect, it } from 'vitest';
import { contains, formatIp, hostRange, parseCidr, parseIp } from './ipv4';

describe('parseIp / formatIp', () => {
  it.each<[string, number]>([
    ['0.0.0.0', 0],
    ['10.0.0.1', 0x0a000001],
    ['192.168.1.255', 0xc0a801ff],
    ['255.255.255.255', 0xffffffff],
    ['128.0.0.0', 0x80000000],
  ])('parses %s as an unsigned 32-bit number and formats it back', (s, n) => {
    expect(parseIp(s)).toBe(n);
    expect(formatIp(n)).toBe(s);
  });

  it.each(['', '10.0.0', '10.0.0.0.1', '10.0.0.256', '256.0.0.1', 'a.b.c.d', '10.0.0.1/24', ' 10.0.0.1', '10.0.0.-1', '1000.0.0.1'])(
    'rejects %j',
    (s) => {
      expect(parseIp(s)).toBeUndefined();
    },
  );
});

describe('parseCidr', () => {
  it('parses a /24 into network, prefix and broadcast', () => {
    expect(parseCidr('10.1.0.0/24')).toEqual({ network: parseIp('10.1.0.0'), prefix: 24, broadcast: parseIp('10.1.0.255') });
  });

  it.each<[string, string, string]>([
    ['0.0.0.0/0', '0.0.0.0', '255.255.255.255'],
    ['172.16.0.0/12', '172.16.0.0', '172.31.255.255'],
    ['10.0.0.4/30', '10.0.0.4', '10.0.0.7'],
    ['10.0.0.8/31', '10.0.0.8', '10.0.0.9'],
    ['10.0.0.9/32', '10.0.0.9', '10.0.0.9'],
    ['192.168.0.0/16', '192.168.0.0', '192.168.255.255'],
  ])('%s spans %s - %s', (s, net, bcast) => {
    const c = parseCidr(s);
    expect(c && formatIp(c.network)).toBe(net);
    expect(c && formatIp(c.broadcast)).toBe(bcast);
  });

  it.each(['10.0.0.1/24', '10.0.0.0/33', '10.0.0.0', '10.0.0.0/', '10.0.0.0/abc', '10.0.0.0/024', '10.0.0/24', 'nonsense', ''])(
    'rejects %j (host bits set, bad prefix or bad address)',
    (s) => {
      expect(parseCidr(s)).toBeUndefined();
    },
  );
});

describe('contains', () => {
  const c = parseCidr('10.0.0.0/24')!;
  it('includes network and broadcast, excludes neighbours', () => {
    expect(contains(c, parseIp('10.0.0.0')!)).toBe(true);
    expect(contains(c, parseIp('10.0.0.255')!)).toBe(true);
    expect(contains(c, parseIp('10.0.0.77')!)).toBe(true);
    expect(contains(c, parseIp('9.255.255.255')!)).toBe(false);
    expect(contains(c, parseIp('10.0.1.0')!)).toBe(false);
  });
});

describe('hostRange', () => {
  it.each<[string, string, string]>([
    ['10.0.0.0/24', '10.0.0.1', '10.0.0.254'],
    ['10.0.0.4/30', '10.0.0.5', '10.0.0.6'],
    ['10.0.0.8/31', '10.0.0.8', '10.0.0.9'],
    ['10.0.0.9/32', '10.0.0.9', '10.0.0.9'],
  ])('%s has usable hosts %s - %s (network and broadcast excluded below /31)', (s, first, last) => {
    const r = hostRange(parseCidr(s)!);
    expect(formatIp(r.first)).toBe(first);
    expect(formatIp(r.last)).toBe(last);
  });
});
