import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '@stackyard/errors';
import { readSiteFile } from './site-file';

const SAMPLE = resolve(__dirname, '../../../examples/sample-site.yaml');
const dir = mkdtempSync(join(tmpdir(), 'stackyard-site-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes a site file under the temporary directory and returns its path. */
function siteFile(text: string): string {
  const p = join(dir, `site-${++n}.yaml`);
  writeFileSync(p, text);
  return p;
}

function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

const MINIMAL = `site:
  id: dc9
hosts:
  - name: cmp-01
    groups: [compute]
    bmc: { address: 10.9.0.21 }
`;

describe('readSiteFile', () => {
  it('Given the sample site, then it reads the site, its three networks and seven hosts', () => {
    const s = readSiteFile(SAMPLE);
    expect(s.site).toEqual({ id: 'dc1', name: 'Sample data centre 1' });
    expect(s.networks.map((x) => x.name)).toEqual(['provision_oc', 'internal', 'storage']);
    expect(s.networks[0]).toEqual({
      name: 'provision_oc',
      cidr: '10.0.0.0/24',
      gateway: '10.0.0.1',
      allocation_pool_start: '10.0.0.10',
      allocation_pool_end: '10.0.0.200',
      vlan: 0,
      mtu: 1500,
      interface: '{nic0}',
      groups: ['controllers', 'compute', 'storage'],
    });
    expect(s.networks[1]).toMatchObject({ name: 'internal', gateway: '', vlan: 101, mtu: 9000, interface: '{nic1}' });
    expect(s.hosts.map((h) => h.name)).toEqual(['ctl-01', 'ctl-02', 'ctl-03', 'cmp-01', 'cmp-02', 'cmp-03', 'stor-01']);
    expect(s.hosts[0]).toEqual({
      name: 'ctl-01',
      groups: ['controllers', 'network', 'monitoring'],
      bmc: { address: '10.9.0.11', driver: 'lab', credential_ref: '' },
      profile: 'controller-std',
      labels: {},
    });
    expect(s.hosts[6]).toMatchObject({ name: 'stor-01', groups: ['storage'], profile: 'storage-dense' });
  });

  it('fills in the defaults of a minimal file', () => {
    expect(readSiteFile(siteFile(MINIMAL))).toEqual({
      site: { id: 'dc9', name: '' },
      networks: [],
      hosts: [{ name: 'cmp-01', groups: ['compute'], bmc: { address: '10.9.0.21', driver: 'lab', credential_ref: '' }, profile: 'compute-std', labels: {} }],
    });
  });

  it('Given malformed YAML, then the error names the file and the line', () => {
    const p = siteFile(`site:
  id: dc9
hosts:
  - name: cmp-01
   groups: [compute]
`);
    const e = validationError(() => readSiteFile(p));
    expect(e.field).toBe(`${p}:5`);
    expect(e.message.startsWith(`${p}:5: `)).toBe(true);
    // only the first line of the parser's message, without its code excerpt
    expect(e.message).not.toContain('\n');
  });

  it('Given an unclosed flow sequence, then the error names the line where the parser gave up', () => {
    const p = siteFile(`site: { id: dc9 }
hosts: [
`);
    const e = validationError(() => readSiteFile(p));
    expect(e.field).toBe(`${p}:3`);
    expect(e.message).toContain('end with a ]');
  });

  it('Given no hosts, then the error names the hosts field', () => {
    const p = siteFile('site:\n  id: dc9\n');
    const e = validationError(() => readSiteFile(p));
    expect(e.field).toBe(`${p}: hosts`);
    expect(e.message).toBe(`${p}: hosts: Required`);
  });

  it('Given an empty hosts list, then the error names the hosts field', () => {
    const p = siteFile('site:\n  id: dc9\nhosts: []\n');
    expect(validationError(() => readSiteFile(p)).field).toBe(`${p}: hosts`);
  });

  it('Given two hosts with the same name, then the error names the second one', () => {
    const p = siteFile(`${MINIMAL}  - name: cmp-02
    groups: [compute]
    bmc: { address: 10.9.0.22 }
  - name: cmp-01
    groups: [storage]
    bmc: { address: 10.9.0.23 }
`);
    const e = validationError(() => readSiteFile(p));
    expect(e.field).toBe(`${p}: hosts.2.name`);
    expect(e.message).toBe(`${p}: hosts.2.name: duplicate host "cmp-01"`);
  });

  it.each<[string, string, string]>([
    ['a host without a BMC address', MINIMAL.replace('bmc: { address: 10.9.0.21 }', 'bmc: {}'), 'hosts.0.bmc.address'],
    ['a host without groups', MINIMAL.replace('groups: [compute]', 'groups: []'), 'hosts.0.groups'],
    ['a site without an id', MINIMAL.replace('  id: dc9', '  name: x'), 'site.id'],
    ['a network without groups', `${MINIMAL}networks:\n  - { name: n1, cidr: 10.0.0.0/24, groups: [] }\n`, 'networks.0.groups'],
    ['a VLAN that is not a number', `${MINIMAL}networks:\n  - { name: n1, cidr: 10.0.0.0/24, vlan: "101", groups: [compute] }\n`, 'networks.0.vlan'],
  ])('Given %s, then the error names the field path', (_what, text, field) => {
    const p = siteFile(text);
    expect(validationError(() => readSiteFile(p)).field).toBe(`${p}: ${field}`);
  });

  it('Given a file that does not exist, then the error names the file', () => {
    const p = join(dir, 'missing.yaml');
    const e = validationError(() => readSiteFile(p));
    expect(e.field).toBe(p);
    expect(e.message).toContain('ENOENT');
  });
});
