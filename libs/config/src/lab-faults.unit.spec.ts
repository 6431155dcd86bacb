import { describe, expect, it } from 'vitest';
import { LabFaults } from './lab-faults';

describe('LabFaults', () => {
  it('fails every attempt of `<key>`, the first n of `<key>:<n>`, and nothing else', () => {
    const f = new LabFaults(['ctl-01', 'cmp-02:2', 'cmp-03:deploy:1']);
    expect([1, 2, 3].map(() => f.fails('ctl-01'))).toEqual([true, true, true]);
    expect([1, 2, 3].map(() => f.fails('cmp-02'))).toEqual([true, true, false]);
    expect([1, 2].map(() => f.fails('cmp-03:deploy'))).toEqual([true, false]);
    expect([f.fails('cmp-03'), f.fails('cmp-03:inspect'), f.fails('cmp-0')]).toEqual([false, false, false]);
    expect([f.always('ctl-01'), f.always('cmp-02')]).toEqual([true, false]);
  });
});
