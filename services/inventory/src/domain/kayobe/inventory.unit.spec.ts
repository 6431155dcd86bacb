import { describe, expect, it } from 'vitest';
import type { Problem } from './problems';
import { emptyInventory, expandHostPattern, finishInventory, groupDepths, groupHosts, hostGroups, matchPattern, parseIniInventory, parseIniValue } from './inventory';

function parse(...files: [string, string][]) {
  const inv = emptyInventory();
  const problems: Problem[] = [];
  for (const [path, text] of files) parseIniInventory(inv, { path, text }, problems);
  finishInventory(inv);
  return { inv, problems };
}

const GROUPS = `
# Kayobe's standard groups, abridged
[seed]
[controllers]
[network:children]
controllers
[compute]
[overcloud:children]
controllers
network
compute
`;

describe('parseIniInventory', () => {
  it('Given groups, children and hosts in two files, then membership includes ancestors and children are resolved', () => {
    const { inv, problems } = parse(
      ['inventory/groups', GROUPS],
      ['inventory/hosts', 'localhost ansible_connection=local\n[seed]\nseed\n[controllers]\nctl[01:02] ansible_user=stack\n[compute:children]\ncontrollers\n'],
    );

    expect(problems).toEqual([]);
    expect([...inv.hosts.keys()]).toEqual(['localhost', 'seed', 'ctl01', 'ctl02']);
    expect([...hostGroups(inv, 'ctl01')].sort()).toEqual(['compute', 'controllers', 'network', 'overcloud']);
    expect([...hostGroups(inv, 'localhost')]).toEqual(['ungrouped']);
    expect(groupHosts(inv, 'overcloud')).toEqual(['ctl01', 'ctl02']);
    expect(inv.hosts.get('ctl02')?.vars).toEqual({ ansible_user: 'stack' });
    expect(inv.hosts.get('ctl02')?.varLocations['ansible_user']).toEqual({ file: 'inventory/hosts', line: 5 });
    expect(groupDepths(inv).get('controllers')).toBe(3); // all → overcloud → compute|network → controllers
    expect(matchPattern(inv, 'overcloud:!network')).toEqual([]);
    expect(matchPattern(inv, 'seed:controllers')).toEqual(['seed', 'ctl01', 'ctl02']);
  });

  it('parses [group:vars] values as Python literals, inline comments, quoted values and host ports', () => {
    const { inv, problems } = parse([
      'hosts',
      '[compute]\ncmp1:2222 a=1 b=True c="two words" # a comment\n[compute:vars]\nmtu = 9000\nnets = [\'a\', \'b\']\nname = plain text\n',
    ]);
    expect(problems).toEqual([]);
    expect(inv.hosts.get('cmp1')?.vars).toEqual({ a: 1, b: true, c: 'two words', ansible_port: 2222 });
    expect(inv.groups.get('compute')?.vars).toEqual({ mtu: 9000, nets: ['a', 'b'], name: 'plain text' });
  });

  it('resolves a child group declared later in the same file (as Ansible does)', () => {
    const { inv, problems } = parse(['hosts', '[overcloud:children]\ncompute\n[compute]\nc1\n']);
    expect(problems).toEqual([]);
    expect(groupHosts(inv, 'overcloud')).toEqual(['c1']);
  });

  it.each<[string, string, Partial<Problem>]>([
    ['a child group that is never declared', '[overcloud:children]\ncontrolers\n[controllers]\nc1\n', { code: 'UnknownGroup', line: 2, message: 'section [overcloud:children] includes group "controlers", which is not declared' }],
    ['vars for an undeclared group', '[compute:vars]\nmtu=9000\n', { code: 'UnknownGroup', line: 1 }],
    ['a host listed twice in one section', '[compute]\nc1\nc2\nc1\n', { code: 'DuplicateHost', line: 4, message: 'host "c1" is listed twice in [compute] (first at line 2)' }],
    ['a bad section header', '[compute\nc1\n', { code: 'MalformedInventory', line: 1 }],
    ['an invalid section type', '[compute:hostz]\nc1\n', { code: 'MalformedInventory', line: 1 }],
    ['a host line with a bare word after the name', '[compute]\nc1 foo\n', { code: 'MalformedInventory', line: 2 }],
  ])('reports %s with file and line', (_what, text, expected) => {
    const { problems } = parse(['inventory/hosts', text]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: 'error', file: 'inventory/hosts', ...expected });
  });

  it('reports a host defined twice with different inline values, naming the variable', () => {
    const { problems } = parse(['a', '[seed]\ns1 ansible_host=10.0.0.1\n'], ['b', '[compute]\ns1 ansible_host=10.0.0.2\n']);
    expect(problems).toEqual([
      expect.objectContaining({ code: 'DuplicateHost', file: 'b', line: 2, variable: 'ansible_host', message: 'host "s1" is defined again with a different value (first at a:2)' }),
    ]);
  });

  it('reports circular children with the cycle', () => {
    const { problems } = parse(['inventory/groups', '[a]\n[b]\n[c]\n[a:children]\nb\n[b:children]\nc\n[c:children]\na\n']);
    expect(problems).toEqual([
      expect.objectContaining({ code: 'CircularGroups', line: 9, message: 'adding group "a" as a child of "c" creates a cycle (c → a → b → c)' }),
    ]);
  });

  it('rejects a group that is its own child', () => {
    const { problems } = parse(['g', '[a]\n[a:children]\na\n']);
    expect(problems[0]).toMatchObject({ code: 'CircularGroups', line: 3 });
  });
});

describe('host patterns and values', () => {
  it('expands numeric (zero-padded), alphabetic and strided ranges', () => {
    expect(expandHostPattern('cmp[08:10]')).toEqual(['cmp08', 'cmp09', 'cmp10']);
    expect(expandHostPattern('rack[a:c]-n[1:2]')).toEqual(['racka-n1', 'racka-n2', 'rackb-n1', 'rackb-n2', 'rackc-n1', 'rackc-n2']);
    expect(expandHostPattern('n[0:10:5]')).toEqual(['n0', 'n5', 'n10']);
  });

  it('parses literals like ast.literal_eval and keeps anything else as a string', () => {
    expect(parseIniValue('42')).toBe(42);
    expect(parseIniValue('False')).toBe(false);
    expect(parseIniValue('None')).toBeNull();
    expect(parseIniValue("{'a': [1, 2]}")).toEqual({ a: [1, 2] });
    expect(parseIniValue('local')).toBe('local');
    expect(parseIniValue('[unclosed')).toBe('[unclosed');
  });
});
