/**
 * A unified diff (as `diff -u` prints it) of text files, for showing what a reconfigure would change.
 * Pure: an LCS over lines, hunks with `context` lines around each change.
 */
export interface TextFile {
  readonly path: string;
  readonly content: string;
}

type Op = { readonly kind: ' ' | '-' | '+'; readonly line: string };

function lines(text: string): string[] {
  if (text === '') return [];
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

/** Line edit script from `a` to `b` (longest common subsequence; deletions before insertions). */
function editScript(a: readonly string[], b: readonly string[]): Op[] {
  // Trim the common prefix and suffix first: generated config usually changes in a few places.
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  const n = am.length;
  const m = bm.length;
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = am[i] === bm[j] ? (lcs[(i + 1) * w + j + 1] ?? 0) + 1 : Math.max(lcs[(i + 1) * w + j] ?? 0, lcs[i * w + j + 1] ?? 0);
    }
  }
  const ops: Op[] = a.slice(0, pre).map((line) => ({ kind: ' ', line }));
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && am[i] === bm[j]) {
      ops.push({ kind: ' ', line: am[i]! });
      i++;
      j++;
    } else if (j >= m || (i < n && (lcs[(i + 1) * w + j] ?? 0) >= (lcs[i * w + j + 1] ?? 0))) {
      ops.push({ kind: '-', line: am[i]! });
      i++;
    } else {
      ops.push({ kind: '+', line: bm[j]! });
      j++;
    }
  }
  for (const line of a.slice(a.length - suf)) ops.push({ kind: ' ', line });
  return ops;
}

/** The unified diff of one file; '' when equal. `from`/`to` name the two sides in the header. */
export function unifiedDiff(before: string, after: string, names: { from: string; to: string }, context = 3): string {
  if (before === after) return '';
  const ops = editScript(lines(before), lines(after));
  const changed = ops.map((o, k) => (o.kind === ' ' ? -1 : k)).filter((k) => k >= 0);
  // Group changes whose context windows touch into hunks.
  const hunks: [number, number][] = [];
  for (const k of changed) {
    const last = hunks[hunks.length - 1];
    if (last && k - last[1] <= 2 * context) last[1] = k;
    else hunks.push([k, k]);
  }
  let out = `--- ${names.from}\n+++ ${names.to}\n`;
  for (const [first, lastChange] of hunks) {
    const s = Math.max(0, first - context);
    const e = Math.min(ops.length - 1, lastChange + context);
    let aLine = 1;
    let bLine = 1;
    for (let k = 0; k < s; k++) {
      if (ops[k]!.kind !== '+') aLine++;
      if (ops[k]!.kind !== '-') bLine++;
    }
    const body = ops.slice(s, e + 1);
    const aCount = body.filter((o) => o.kind !== '+').length;
    const bCount = body.filter((o) => o.kind !== '-').length;
    out += `@@ -${aCount === 0 ? aLine - 1 : aLine}${aCount === 1 ? '' : `,${aCount}`} +${bCount === 0 ? bLine - 1 : bLine}${bCount === 1 ? '' : `,${bCount}`} @@\n`;
    out += body.map((o) => `${o.kind}${o.line}\n`).join('');
  }
  return out;
}
export interface FilesDiff {
  /** The unified diff of every changed file, in path order. */
  readonly diff: string;
  /** Paths added, removed or changed, sorted. */
  readonly changed: readonly string[];
}

/** Diff of two file sets by path (a missing side is an empty file, named /dev/null like `diff -N`). */
export function diffFiles(before: readonly TextFile[], after: readonly TextFile[]): FilesDiff {
  const a = new Map(before.map((f) => [f.path, f.content]));
  const b = new Map(after.map((f) => [f.path, f.content]));
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  let diff = '';
  const changed: string[] = [];
  for (const p of paths) {
    const d = unifiedDiff(a.get(p) ?? '', b.get(p) ?? '', { from: a.has(p) ? `applied/${p}` : '/dev/null', to: b.has(p) ? `generated/${p}` : '/dev/null' });
    if (d || a.has(p) !== b.has(p)) {
      changed.push(p);
      diff += d;
    }
  }
  return { diff, changed };
}
