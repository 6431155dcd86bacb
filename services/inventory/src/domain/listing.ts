/**
 * ListHosts inputs (pure): page size, opaque page tokens bound to their filters, label selectors.
 */
import { ValidationError } from '@stackyard/errors';
import { assertToken } from '@stackyard/events';
import { RESERVED_LABEL_PREFIX, type HostLifecycle } from './host';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;

/** 0 means the default; more than the maximum is read as the maximum (AIP-158); negative is invalid. */
export function pageSizeOf(pageSize: number, field = 'page_size'): number {
  if (!Number.isInteger(pageSize) || pageSize < 0) throw new ValidationError(field, `must be between 0 and ${MAX_PAGE_SIZE}`);
  return Math.min(pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
}

export interface LabelTerm {
  readonly key: string;
  readonly value: string;
}

export interface HostFilter {
  readonly siteId?: string | undefined;
  readonly group?: string | undefined;
  /** `group` with its descendants through the site's group records: a host in any of them matches (replaces `group`). */
  readonly anyGroup?: readonly string[] | undefined;
  readonly labels?: readonly LabelTerm[] | undefined;
  readonly state?: HostLifecycle | undefined;
}

/** `k=v,k2=v2`: every term must match. Keys as RegisterHost's; values at most 256 characters. */
export function parseLabelSelector(selector: string, field = 'label_selector'): LabelTerm[] {
  if (!selector.trim()) return [];
  const terms = selector.split(',').map((t, i) => {
    const m = /^\s*([^=\s]+)\s*=\s*(.*?)\s*$/.exec(t);
    if (!m) throw new ValidationError(field, `term ${i + 1} "${t}" is not key=value`);
    const key = m[1]!;
    const value = m[2]!;
    try {
      assertToken(field, key.startsWith(RESERVED_LABEL_PREFIX) ? key.slice(RESERVED_LABEL_PREFIX.length) : key);
    } catch {
      throw new ValidationError(field, `term ${i + 1}: "${key}" is not a label key`);
    }
    if (value.length > 256) throw new ValidationError(field, `term ${i + 1}: value longer than 256 characters`);
    return { key, value };
  });
  const keys = new Set(terms.map((t) => t.key));
  if (keys.size !== terms.length) throw new ValidationError(field, 'a key appears twice');
  return terms;
}

/** Does a host match the filter (for in-memory stores and the watch's snapshot)? */
export function matches(
  h: { siteId: string; groups: readonly string[]; labels: Readonly<Record<string, string>> },
  state: HostLifecycle,
  f: HostFilter,
): boolean {
  if (state === 'deleted') return false;
  if (f.siteId && h.siteId !== f.siteId) return false;
  if (f.anyGroup?.length) {
    if (!f.anyGroup.some((g) => h.groups.includes(g))) return false;
  } else if (f.group && !h.groups.includes(f.group)) return false;
  if (f.state && state !== f.state) return false;
  return (f.labels ?? []).every((t) => h.labels[t.key] === t.value);
}

/**
 * Page tokens are opaque to clients: base64url of `{after, q}` where `q` fingerprints the filters,
 * so a token used with other filters (or forged) is INVALID_ARGUMENT on `page_token`.
 */
export function encodePageToken(after: string, filterKey: string): string {
  return Buffer.from(JSON.stringify({ v: 1, a: after, q: fingerprint(filterKey) }), 'utf8').toString('base64url');
}

export function decodePageToken(token: string, filterKey: string, field = 'page_token'): string | undefined {
  if (!token) return undefined;
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError(field, 'is not a page token returned by this API');
  }
  const p = parsed as { v?: unknown; a?: unknown; q?: unknown };
  if (p.v !== 1 || typeof p.a !== 'string' || !p.a || typeof p.q !== 'string') throw new ValidationError(field, 'is not a page token returned by this API');
  if (p.q !== fingerprint(filterKey)) throw new ValidationError(field, 'was issued for other filters: repeat the same filters, or start again without a token');
  return p.a;
}

/** FNV-1a of the filter description (a consistency check, not a secret). */
function fingerprint(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}

export function filterKeyOf(f: HostFilter): string {
  return JSON.stringify([f.siteId ?? '', f.group ?? '', (f.labels ?? []).map((t) => `${t.key}=${t.value}`).sort(), f.state ?? '']);
}
