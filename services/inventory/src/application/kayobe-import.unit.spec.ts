import { describe, expect, it } from 'vitest';
import type { ConfigFile } from '../domain/kayobe/config';
import { maskSecrets } from '../domain/kayobe/import-record';
import { InventoryService } from './inventory';
import { KayobeImportService, type ImportRequest } from './kayobe-import';
import { InMemoryHosts, InMemoryImports, InMemorySites } from './in-memory.test-support';
import type { KayobeConfigSource } from './ports';

class Sites extends InMemorySites {}
class Hosts extends InMemoryHosts {}
class Imports extends InMemoryImports {}

const FILES: ConfigFile[] = [
  { path: 'inventory/groups', text: '[controllers]\n[compute]\n[overcloud:children]\ncontrollers\ncompute\n' },
  { path: 'inventory/hosts', text: '[controllers]\nctl1 ipmi_address=10.9.0.1\n[compute]\ncmp1 ipmi_address=10.9.0.2\ncmp2 ipmi_address=10.9.0.3\n' },
  { path: 'bmc.yml', text: 'ipmi_username: admin\nipmi_password: hunter22\nnote: "pw is hunter22"\n' },
];
const source: KayobeConfigSource = { read: async () => FILES };
const REQ: ImportRequest = { configPath: '/etc/kayobe', environment: '', siteId: 'dc1', dryRun: false, requestId: 'r1', registerHosts: true, registerGroups: [], bmcDriver: 'ironic' };

function world() {
  const hosts = new Hosts();
  const imports = new Imports();
  const svc = new InventoryService(new Sites(), hosts);
  return { hosts, imports, importer: new KayobeImportService(svc, imports, source) };
}

describe('KayobeImportService', () => {
  it('Given host configure variables, then HostRegistered carries the host configuration; a re-import that changes it emits HostUpdated naming configuration', async () => {
    const files = (sysctl: string): ConfigFile[] => [...FILES, { path: 'controllers.yml', text: `controller_sysctl_parameters: {${sysctl}}\n` }];
    const hosts = new Hosts();
    const svc = new InventoryService(new Sites(), hosts);
    let current = files('net.ipv4.ip_forward: 1');
    const importer = new KayobeImportService(svc, new Imports(), { read: async () => current });
    await importer.importConfig(REQ);
    const registered = hosts.events.find((e) => e.entityId === 'dc1-ctl1' && e.type === 'stackyard.inventory.v1.HostRegistered');
    const c = (registered?.data as { host: { configuration?: { sysctlParameters: unknown[]; containerEngine: string; kollaUser: string } } }).host.configuration;
    expect(c?.sysctlParameters).toEqual([{ name: 'net.ipv4.ip_forward', value: '1' }]);
    // inventory/groups declares no container-engine group: no engine; Kayobe's kolla user.
    expect(c?.containerEngine).toBe('');
    expect(c?.kollaUser).toBe('kolla');

    current = files('net.ipv4.ip_forward: 0');
    const r = await importer.importConfig({ ...REQ, requestId: 'r2' });
    expect(r.hosts.map((h) => h.change)).toEqual(['changed', 'unchanged', 'unchanged']);
    const updated = hosts.events.filter((e) => e.type === 'stackyard.inventory.v1.HostUpdated');
    expect(updated.map((e) => [e.entityId, (e.data as { changedFields: string[] }).changedFields])).toEqual([['dc1-ctl1', ['configuration']]]);
  });

  it('Given a crash after one host, when the same import runs again, then it finishes without duplicates', async () => {
    const w = world();
    w.hosts.failAfter = 1;
    await expect(w.importer.importConfig(REQ)).rejects.toThrow('crash');
    expect((await w.imports.get('dc1-r1'))?.data.state).toBe('committed');
    expect(w.hosts.events).toHaveLength(1);
    w.hosts.failAfter = Infinity;
    const r = await w.importer.importConfig(REQ);
    expect(r.complete).toBe(true);
    expect((await w.hosts.list({}, undefined, 100)).map((h) => [h.data.id, h.version])).toEqual([['dc1-cmp1', 1], ['dc1-cmp2', 1], ['dc1-ctl1', 1]]);
    expect(w.hosts.events.map((e) => e.entityId).sort()).toEqual(['dc1-cmp1', 'dc1-cmp2', 'dc1-ctl1']);
    expect((await w.imports.get('dc1-r1'))?.data.state).toBe('materialized');
    await w.importer.importConfig(REQ);
    expect(w.hosts.events).toHaveLength(3);
  });

  it('Given a dry run, then nothing is written', async () => {
    const w = world();
    const r = await w.importer.importConfig({ ...REQ, dryRun: true });
    expect(r.record.hosts.map((h) => h.name)).toEqual(['ctl1', 'cmp1', 'cmp2']);
    expect(await w.hosts.list({}, undefined, 100)).toEqual([]);
    expect(await w.imports.get('dc1-r1')).toBeNull();
  });

  it('never stores secrets in clear: BMC credentials are a reference, secret variables and copies are masked', async () => {
    const w = world();
    const r = await w.importer.importConfig(REQ);
    const stored = JSON.stringify(await w.imports.get(r.record.id));
    expect(stored).not.toContain('hunter22');
    expect(r.record.hosts[0]!.bmc).toEqual({ address: '10.9.0.1', driver: 'ironic', credentialRef: 'kayobe:ipmi/ctl1' });
    expect(JSON.parse(r.record.commonVarsJson)).toMatchObject({ ipmi_password: '<secret: bmc.yml:2>', note: 'pw is <secret>', ipmi_username: 'admin' });
    expect(r.record.warnings.map((x) => `${x.code} ${x.file}:${x.line} ${x.variable}`)).toContain('SecretInClearText bmc.yml:2 ipmi_password');
  });

  it('maskSecrets keeps templates and vault references', () => {
    expect(maskSecrets({ a_password: '{{ vault_pw }}', b_token: '<vault-encrypted>', nested: { db_password: 'xyzw', ok: 1 } }, {})).toEqual({
      a_password: '{{ vault_pw }}',
      b_token: '<vault-encrypted>',
      nested: { db_password: '<secret: kayobe-config>', ok: 1 },
    });
  });

  it('Given a host to register without ipmi_address and a real driver, then nothing is imported and the error names the host', async () => {
    const w = world();
    const src: KayobeConfigSource = { read: async () => [FILES[0]!, { path: 'inventory/hosts', text: '[controllers]\nctl1\n' }] };
    const importer = new KayobeImportService(new InventoryService(new Sites(), w.hosts), w.imports, src);
    await expect(importer.importConfig(REQ)).rejects.toThrow('inventory/hosts:2: ipmi_address: host "ctl1" has no BMC address');
    expect(await w.imports.get('dc1-r1')).toBeNull();
  });
});
