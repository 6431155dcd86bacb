import { afterEach, describe, expect, it } from 'vitest';
import { ferretGogc } from './index';

describe('ferretGogc', () => {
  const saved = process.env['STACKYARD_FERRETDB_GOGC'];
  afterEach(() => {
    if (saved === undefined) delete process.env['STACKYARD_FERRETDB_GOGC'];
    else process.env['STACKYARD_FERRETDB_GOGC'] = saved;
  });

  it('is 1000 unless set', () => {
    delete process.env['STACKYARD_FERRETDB_GOGC'];
    expect(ferretGogc()).toBe('1000');
    process.env['STACKYARD_FERRETDB_GOGC'] = '';
    expect(ferretGogc()).toBe('1000');
  });

  it('takes a positive integer or off', () => {
    process.env['STACKYARD_FERRETDB_GOGC'] = '100';
    expect(ferretGogc()).toBe('100');
    process.env['STACKYARD_FERRETDB_GOGC'] = 'off';
    expect(ferretGogc()).toBe('off');
  });

  it.each(['0', '-5', '1e3', 'fast', ' 100'])('refuses %j, naming the variable', (v) => {
    process.env['STACKYARD_FERRETDB_GOGC'] = v;
    expect(() => ferretGogc()).toThrow(/STACKYARD_FERRETDB_GOGC must be a positive integer or "off"/);
  });
});
