import { describe, expect, it } from 'vitest';
import type { Context } from '@stackyard/events';
import { leafLinkPermissions, leafLinkUser, leafLinkUsersConfig, natsUsersConfig, permissionsFor } from './permissions';

describe('NATS permissions per topology (docs/security.md, docs/scale-out.md)', () => {
  it('single and hub: own context for every site, own JetStream, destructive API refused in every domain', () => {
    for (const p of [permissionsFor('network'), permissionsFor('network', { kind: 'hub', sites: ['dc1'] })]) {
      expect(p.publish.allow).toEqual(['stackyard.*.network.>', '$JS.API.>', '$JS.ACK.>']);
      expect(p.publish.deny).toEqual(expect.arrayContaining(['$JS.API.STREAM.DELETE.>', '$JS.*.API.STREAM.DELETE.>', '$JS.*.API.STREAM.PURGE.>', '$JS.*.API.CONSUMER.DELETE.>']));
      expect(p.subscribe.allow).toEqual(['_INBOX.>']);
    }
  });

  it("site: own site's events only, its leaf's domain and the hub's, no hub stream created or changed", () => {
    const p = permissionsFor('provisioning', { kind: 'site', site: 'dc1', hubDomain: 'hub' });
    expect(p.publish.allow).toEqual(['stackyard.dc1.provisioning.>', '$JS.API.>', '$JS.dc1.API.>', '$JS.hub.API.>', '$JS.ACK.>']);
    expect(p.publish.deny).toEqual(expect.arrayContaining(['$JS.API.STREAM.PURGE.>', '$JS.*.API.STREAM.MSG.DELETE.>', '$JS.hub.API.STREAM.CREATE.>', '$JS.hub.API.STREAM.UPDATE.>']));
  });

  it('leaf link: allow-listed to the other domain, replies and sourcing; no core events; nothing changed or destroyed across', () => {
    const p = leafLinkPermissions('dc1', 'hub');
    const sourcing = ['_INBOX.>', '$JSC.R.>', '$JS.S.>', '$JS.FC.>', '$JS.ACK.>', '$LDS.>'];
    expect(p.publish.allow).toEqual(['$JS.hub.API.>', ...sourcing]);
    expect(p.subscribe.allow).toEqual(['$JS.dc1.API.>', ...sourcing]);
    for (const x of [...p.publish.allow, ...p.subscribe.allow]) expect(x.startsWith('stackyard.')).toBe(false);
    const destroyOrChange = ['STREAM.DELETE.>', 'STREAM.PURGE.>', 'STREAM.MSG.DELETE.>', 'CONSUMER.DELETE.>', 'STREAM.CREATE.>', 'STREAM.UPDATE.>'];
    expect(p.publish.deny).toEqual(destroyOrChange.map((d) => `$JS.hub.API.${d}`));
    expect(p.subscribe.deny).toEqual(destroyOrChange.map((d) => `$JS.dc1.API.${d}`));
    expect(leafLinkUser('dc1')).toBe('leaf-dc1');
  });

  it('renders nats-server users: one per service, one per leaf link', () => {
    const users = natsUsersConfig((s) => `pw-${s}`, { kind: 'site', site: 'dc1', hubDomain: 'hub' });
    expect(users.split('\n').map((l) => /user: "([^"]+)"/.exec(l)?.[1])).toEqual(['provisioning', 'network', 'deployment']);
    expect(natsUsersConfig((s) => ({ env: `PW_${s.toUpperCase()}` }), { kind: 'hub', sites: ['dc1'] })).toMatch(/^ +\{ user: "inventory", password: \$PW_INVENTORY, .*\n +\{ user: "monitoring", password: \$PW_MONITORING, /);
    expect(natsUsersConfig(() => 'p').split('\n')).toHaveLength(5);
    expect(users).toContain('{ user: "deployment", password: "pw-deployment", permissions: { publish: { allow: ["stackyard.dc1.deployment.>"');
    const links = leafLinkUsersConfig(['dc1', 'dc2'], 'hub', (s) => `pw-${s}`);
    expect(links.split('\n').map((l) => /user: "([^"]+)"/.exec(l)?.[1])).toEqual(['leaf-dc1', 'leaf-dc2']);
    expect(links).toContain('subscribe: { allow: ["$JS.dc2.API.>", "_INBOX.>"');
    expect(links.split('\n')[0]).not.toContain('dc2');
  });

  it('rejects bad input, naming the field', () => {
    expect(() => permissionsFor('billing' as Context)).toThrow(/^service: /);
    expect(() => permissionsFor('network', { kind: 'site', site: 'DC.1', hubDomain: 'hub' })).toThrow(/^site: /);
    expect(() => permissionsFor('network', { kind: 'site', site: 'dc1', hubDomain: 'hub.>' })).toThrow(/^hubDomain: /);
    expect(() => permissionsFor('network', { kind: 'site', site: 'dc1', hubDomain: 'dc1' })).toThrow(/^hubDomain: must differ/);
    expect(() => permissionsFor('network', { kind: 'site', site: 'dc1', hubDomain: '' })).toThrow(/^hubDomain: /);
    expect(() => leafLinkPermissions('dc 1', 'hub')).toThrow(/^site: /);
    expect(() => leafLinkPermissions('dc1', 'h*')).toThrow(/^hubDomain: /);
    expect(() => leafLinkUsersConfig(['dc1', 'x>'], 'hub', () => 'p')).toThrow(/^site: /);
    expect(() => natsUsersConfig(() => ({ env: 'lower-case' }))).toThrow(/^password of inventory: /);
  });
});
