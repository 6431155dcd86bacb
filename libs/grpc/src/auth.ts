import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PermissionDeniedError, UnauthenticatedError, ValidationError } from '@stackyard/errors';

/** API roles, each including the ones before it. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  readonly name: string;
  readonly role: Role;
  /** Sites this token may act on; ['*'] for all. */
  readonly sites: readonly string[];
}

/** One configured token. Only its SHA-256 is stored, never the token itself. */
export interface TokenEntry extends Principal {
  readonly tokenSha256: string;
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Looks tokens up by hash, in constant time per entry. */
export class TokenStore {
  private readonly entries: readonly { hash: Buffer; principal: Principal }[];

  constructor(entries: readonly TokenEntry[]) {
    entries.forEach((e, i) => {
      if (!/^[0-9a-f]{64}$/.test(e.tokenSha256)) throw new ValidationError(`tokens[${i}].token_sha256`, 'must be 64 lowercase hex characters');
      if (!(ROLES as readonly string[]).includes(e.role)) throw new ValidationError(`tokens[${i}].role`, `must be one of ${ROLES.join(', ')}`);
      if (!e.name) throw new ValidationError(`tokens[${i}].name`, 'required');
      if (!Array.isArray(e.sites) || e.sites.length === 0) throw new ValidationError(`tokens[${i}].sites`, 'list the sites, or ["*"]');
    });
    this.entries = entries.map((e) => ({ hash: Buffer.from(e.tokenSha256, 'hex'), principal: { name: e.name, role: e.role, sites: e.sites } }));
  }

  /** Reads `[{ "name", "role", "sites": [...], "token_sha256" }]` from a JSON file. */
  static fromFile(path: string): TokenStore {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new ValidationError('AUTH_TOKENS_FILE', `${path}: ${(e as Error).message}`);
    }
    if (!Array.isArray(raw)) throw new ValidationError('AUTH_TOKENS_FILE', `${path}: expected a JSON array of tokens`);
    return new TokenStore(
      raw.map((t: Record<string, unknown>) => ({ name: String(t['name'] ?? ''), role: t['role'] as Role, sites: t['sites'] as string[], tokenSha256: String(t['token_sha256'] ?? '') })),
    );
  }

  lookup(token: string): Principal | undefined {
    const h = createHash('sha256').update(token).digest();
    let found: Principal | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.hash, h)) found = e.principal;
    return found;
  }
}

/**
 * The role a method needs, from its name: reads are for viewers, destructive operations for
 * admins, every other mutation for operators.
 */
export function requiredRole(method: string): Role {
  const name = method.slice(method.lastIndexOf('/') + 1);
  if (/^(Get|List|Watch|Validate|Diff|Export|Check)/.test(name)) return 'viewer';
  if (/^(Destroy|Delete|Purge)/.test(name)) return 'admin';
  return 'operator';
}

/**
 * The sites a request touches: its `siteId`, and the site prefix of host ids (`<site>-<name>`).
 * Returns the values to check against the token's scope.
 */
function scopeValues(method: string, request: unknown): { sites: string[]; hostIds: string[] } {
  const r = (request ?? {}) as Record<string, unknown>;
  const nested = (r['network'] ?? {}) as Record<string, unknown>;
  // On site methods (CreateSite, GetSite...) `id` is a site id; elsewhere it is a host id.
  const idIsSite = /Site$/.test(method);
  const str = (v: unknown): v is string => typeof v === 'string' && v !== '';
  const sites = [r['siteId'], nested['siteId'], idIsSite ? r['id'] : undefined].filter(str);
  const hostIds = [r['hostId'], idIsSite ? undefined : r['id']].filter(str);
  return { sites, hostIds };
}

/**
 * The caller behind an `authorization` value (`Bearer <token>`), whatever the transport (gRPC
 * metadata, HTTP header or cookie). Throws UnauthenticatedError when missing or unknown.
 */
export function authenticate(tokens: TokenStore, authorization: string | undefined): Principal {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!m) throw new UnauthenticatedError('missing API token: send "authorization: Bearer <token>"');
  const p = tokens.lookup(m[1]!);
  if (!p) throw new UnauthenticatedError('invalid API token');
  return p;
}

/** Whether a role includes another (admin > operator > viewer). */
export function hasRole(p: Principal, need: Role): boolean {
  return ROLES.indexOf(p.role) >= ROLES.indexOf(need);
}

/** Throws PermissionDeniedError unless the caller has at least `need` for `what` (a method or route). */
export function requireRole(p: Principal, need: Role, what: string): void {
  if (!hasRole(p, need)) throw new PermissionDeniedError(`${p.name} (${p.role}) may not call ${what}: it needs the ${need} role`);
}

/** Whether a token's scope includes a site. */
export function inScope(p: Principal, site: string): boolean {
  return p.sites.includes('*') || p.sites.includes(site);
}

/** Throws PermissionDeniedError unless the caller may act on `site`. */
export function requireSite(p: Principal, site: string): void {
  if (!inScope(p, site)) throw new PermissionDeniedError(`${p.name} may not act on site "${site}"`);
}

/** Checks a caller: a valid token, a role at least the method's, and every site in scope. */
export function authorize(tokens: TokenStore, authorization: string | undefined, method: string, request: unknown): Principal {
  const p = authenticate(tokens, authorization);
  const need = requiredRole(method);
  requireRole(p, need, method);
  if (!p.sites.includes('*')) {
    const { sites, hostIds } = scopeValues(method, request);
    for (const s of sites) requireSite(p, s);
    for (const h of hostIds) {
      if (!p.sites.some((s) => h.startsWith(`${s}-`))) throw new PermissionDeniedError(`${p.name} may not act on host "${h}" (outside its sites)`);
    }
    if (sites.length === 0 && hostIds.length === 0 && need !== 'viewer') {
      throw new PermissionDeniedError(`${p.name} is limited to sites ${p.sites.join(', ')} and ${method} names no site`);
    }
  }
  return p;
}
