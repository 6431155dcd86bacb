import { describe, expect, it } from 'vitest';
import { InventoryParseError, allHosts, childGroups, groupsOf, hostsOf, parseInventory } from './ini';

const TEXT = `# comment
[control]
ctl-01 ansible_host=10.0.0.11 ansible_user=kolla
ctl-02
; another comment

[compute]
cmp-01

[network:children]
control

[nova:children]
control

[nova-api:children]
nova

[overcloud:vars]
ansible_user = kolla
`;

describe('parseInventory', () => {
  const inv = parseInventory(TEXT);

  it('reads hosts with their variables, children and group variables, in file order', () => {
    expect([...inv.groups.keys()]).toEqual(['control', 'compute', 'network', 'nova', 'nova-api', 'overcloud']);
    expect(inv.sections).toEqual(['control', 'compute', 'network:children', 'nova:children', 'nova-api:children', 'overcloud:vars']);
    expect(inv.groups.get('control')).toEqual({ name: 'control', hosts: ['ctl-01', 'ctl-02'], children: [], vars: {}, hostVars: { 'ctl-01': { ansible_host: '10.0.0.11', ansible_user: 'kolla' } } });
    expect(inv.groups.get('overcloud')?.vars).toEqual({ ansible_user: 'kolla' });
    expect(childGroups(inv)).toEqual([
      { name: 'network', children: ['control'] },
      { name: 'nova', children: ['control'] },
      { name: 'nova-api', children: ['nova'] },
    ]);
    expect(allHosts(inv)).toEqual(['ctl-01', 'ctl-02', 'cmp-01']);
  });

  it('resolves hosts through children and a host\'s groups', () => {
    expect(hostsOf(inv, 'nova-api')).toEqual(['ctl-01', 'ctl-02']);
    expect(hostsOf(inv, 'missing')).toEqual([]);
    expect(groupsOf(inv, 'ctl-02')).toEqual(['control', 'network', 'nova', 'nova-api']);
    expect(groupsOf(inv, 'cmp-01')).toEqual(['compute']);
  });

  it('stops at a cycle instead of looping', () => {
    expect(hostsOf(parseInventory('[a:children]\nb\n[b:children]\na\n[b]\nh\n'), 'a')).toEqual(['h']);
  });

  it('rejects malformed lines with their line number', () => {
    expect(() => parseInventory('h1\n')).toThrow(new InventoryParseError(1, 'entry outside a section: "h1"'));
    expect(() => parseInventory('[g]\nh1 novalue\n')).toThrow(/^line 2: expected key=value after the host/);
    expect(() => parseInventory('[g:vars]\nnovalue\n')).toThrow(/^line 2: expected key=value/);
    expect(() => parseInventory('[g:weird]\n')).toThrow(/^line 1: bad section header/);
  });
});
