/**
 * Locale-independent natural order: digit runs compare numerically, everything else by UTF-16 code
 * unit, so `Ethernet2` < `Ethernet10` and `ethernet1/1/2` < `ethernet1/1/10`. Byte-stable everywhere.
 */
export function naturalCompare(a: string, b: string): number {
  const ta = a.match(/\d+|\D+/g) ?? [];
  const tb = b.match(/\d+|\D+/g) ?? [];
  const n = Math.min(ta.length, tb.length);
  for (let i = 0; i < n; i++) {
    const x = ta[i] as string;
    const y = tb[i] as string;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
      if (x.length !== y.length) return x.length < y.length ? -1 : 1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  if (ta.length !== tb.length) return ta.length < tb.length ? -1 : 1;
  return 0;
}

export function sortedKeys(o: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(o).sort(naturalCompare);
}
