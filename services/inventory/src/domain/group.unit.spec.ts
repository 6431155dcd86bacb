import { describe, expect, it } from 'vitest';
import { InvalidTransitionError, ValidationError } from '@stackyard/errors';
import { assertChildren, assertGroupDeletable, descendants, isSecretReference, newGroup } from './group';

const graph = new Map<string, readonly string[]>([
  ['overcloud', ['controllers', 'compute']],
  ['controllers', []],
  ['compute', ['compute-vgpu']],
  ['compute-vgpu', []],
  ['seed', []],
]);

const rejected = (f: () => void): ValidationError => {
  try {
    f();
  } catch (e) {
    return e as ValidationError;
  }
  throw new Error('expected a ValidationError');
};

describe('group children', () => {
  it('Given overcloud -> compute -> compute-vgpu, when compute-vgpu gets overcloud as child, then the error names the field and the whole path', () => {
    const e = rejected(() => assertChildren('compute-vgpu', ['seed', 'overcloud'], graph));
    expect(e.field).toBe('children[1]');
    expect(e.message).toBe('children[1]: would make a cycle: compute-vgpu -> overcloud -> compute -> compute-vgpu');
  });

  it('an unknown child names its index; a child that closes no cycle is accepted', () => {
    expect(rejected(() => assertChildren('seed', ['nope'], graph)).field).toBe('children[0]');
    expect(() => assertChildren('seed', ['overcloud'], graph)).not.toThrow();
  });

  it('descendants include the group itself and stop at a cycle already stored', () => {
    expect(descendants('overcloud', graph).sort()).toEqual(['compute', 'compute-vgpu', 'controllers', 'overcloud']);
    expect(descendants('custom', graph)).toEqual(['custom']);
    const looped = new Map<string, readonly string[]>([['a', ['b']], ['b', ['a']]]);
    expect(descendants('a', looped).sort()).toEqual(['a', 'b']);
  });
});

describe('group deletion rule', () => {
  const g = newGroup('dc1-compute', { siteId: 'dc1', name: 'compute', description: '', children: ['compute-vgpu'], vars: {} });
  it('a child of another group is refused even with force; members or children need force', () => {
    expect(() => assertGroupDeletable(g, 0, ['overcloud'], true)).toThrow(InvalidTransitionError);
    expect(() => assertGroupDeletable(g, 0, [], false)).toThrow(/still has children/);
    expect(() => assertGroupDeletable({ ...g, children: [] }, 2, [], false)).toThrow(/2 member host/);
    expect(() => assertGroupDeletable(g, 2, [], true)).not.toThrow();
    expect(() => assertGroupDeletable({ ...g, children: [] }, 0, [], false)).not.toThrow();
  });
});

describe('secret references', () => {
  it.each([
    ['vault:kolla/db', true],
    ['{{ vault_db_password }}', true],
    ['$ANSIBLE_VAULT;1.1;AES256\n6162', true],
    ['', true],
    ['hunter22', false],
    ['pass:word', false],
    ['prefix {{ x }}', false],
  ])('%j is a reference: %s', (v, ok) => {
    expect(isSecretReference(v)).toBe(ok);
  });
});
