import { readFileSync, statSync } from 'node:fs';
import { parse } from 'yaml';
import { StepFailedError, ValidationError } from '@stackyard/errors';
import type { BmcCredentials, CredentialStore } from '../../application/ports';

/**
 * BMC credentials from a file an operator (or a Kubernetes Secret mount) provides:
 *
 *   vault:bmc/ctl-01: { username: admin, password: "..." }
 *   kayobe:ipmi/ctl1: { username: ADMIN, password: "..." }
 *
 * YAML or JSON, keys are the credential references hosts carry. The file must not be readable by
 * group or others (like ssh keys); it is read again when it changes, so rotation needs no restart.
 * Passwords never appear in errors or logs.
 */
export class FileCredentialStore implements CredentialStore {
  private cache: { mtimeMs: number; entries: ReadonlyMap<string, BmcCredentials> } | undefined;

  constructor(private readonly path: string) {
    this.load();
  }

  private load(): ReadonlyMap<string, BmcCredentials> {
    const st = statSync(this.path);
    if (this.cache && this.cache.mtimeMs === st.mtimeMs) return this.cache.entries;
    if ((st.mode & 0o077) !== 0) {
      throw new ValidationError('BMC_CREDENTIALS_FILE', `${this.path} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    let doc: unknown;
    try {
      doc = parse(readFileSync(this.path, 'utf8'));
    } catch (e) {
      throw new ValidationError('BMC_CREDENTIALS_FILE', `${this.path} is not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
    }
    if (doc === null || doc === undefined) doc = {};
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new ValidationError('BMC_CREDENTIALS_FILE', `${this.path} must map credential references to {username, password}`);
    const entries = new Map<string, BmcCredentials>();
    for (const [ref, v] of Object.entries(doc as Record<string, unknown>)) {
      const e = v as { username?: unknown; password?: unknown } | null;
      if (!e || typeof e.username !== 'string' || !e.username || typeof e.password !== 'string') {
        throw new ValidationError('BMC_CREDENTIALS_FILE', `${this.path}: entry "${ref}" needs a non-empty string username and a string password`);
      }
      entries.set(ref, { username: e.username, password: e.password });
    }
    this.cache = { mtimeMs: st.mtimeMs, entries };
    return entries;
  }

  async resolve(ref: string): Promise<BmcCredentials | undefined> {
    if (!ref) return undefined;
    const c = this.load().get(ref);
    if (!c) throw new StepFailedError('CredentialsNotFound', `no BMC credentials for reference "${ref}" in ${this.path}`, false);
    return c;
  }
}
