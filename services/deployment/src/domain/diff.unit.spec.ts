import { describe, expect, it } from 'vitest';
import { diffFiles, unifiedDiff } from './diff';

const N = { from: 'a', to: 'b' };

describe('unifiedDiff', () => {
  it('Given equal texts, then the diff is empty', () => {
    expect(unifiedDiff('x\ny\n', 'x\ny\n', N)).toBe('');
  });

  it('Given one changed line in the middle, then one hunk with three lines of context each side (as diff -u)', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n') + '\n';
    const b = a.replace('5\n', 'five\n');
    expect(unifiedDiff(a, b, N)).toBe('--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n');
  });

  it('Given changes far apart, then two hunks; close changes share one', () => {
    const a = Array.from({ length: 20 }, (_, i) => `l${i + 1}`).join('\n') + '\n';
    const far = a.replace('l2\n', 'L2\n').replace('l18\n', 'L18\n');
    expect(unifiedDiff(a, far, N).match(/^@@/gm)).toHaveLength(2);
    const near = a.replace('l2\n', 'L2\n').replace('l7\n', 'L7\n');
    expect(unifiedDiff(a, near, N)).toMatch(/^@@ -1,10 \+1,10 @@$/m);
  });

  it('Given a new file, then every line is added from line 0', () => {
    expect(unifiedDiff('', 'x\ny\n', { from: '/dev/null', to: 'b' })).toBe('--- /dev/null\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n');
  });

  it('Given an appended line, then the hunk ends with the addition', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\nc\n', N)).toBe('--- a\n+++ b\n@@ -1,2 +1,3 @@\n a\n b\n+c\n');
  });
});

describe('diffFiles', () => {
  it('Given applied and generated file sets, then changed, added and removed paths in order, unchanged ones left out', () => {
    const d = diffFiles(
      [
        { path: 'globals.yml', content: 'openstack_release: "2024.2"\n' },
        { path: 'inventory/overcloud/host_vars/old', content: 'x: "1"\n' },
        { path: 'same', content: 's\n' },
      ],
      [
        { path: 'globals.yml', content: 'openstack_release: "2025.1"\n' },
        { path: 'inventory/overcloud/host_vars/new', content: 'y: "2"\n' },
        { path: 'same', content: 's\n' },
      ],
    );
    expect(d.changed).toEqual(['globals.yml', 'inventory/overcloud/host_vars/new', 'inventory/overcloud/host_vars/old']);
    expect(d.diff).toContain('--- applied/globals.yml\n+++ generated/globals.yml\n@@ -1 +1 @@\n-openstack_release: "2024.2"\n+openstack_release: "2025.1"\n');
    expect(d.diff).toContain('--- /dev/null\n+++ generated/inventory/overcloud/host_vars/new\n');
    expect(d.diff).toContain('--- applied/inventory/overcloud/host_vars/old\n+++ /dev/null\n@@ -1 +0,0 @@\n-x: "1"\n');
    expect(d.diff).not.toContain('same');
  });
});
