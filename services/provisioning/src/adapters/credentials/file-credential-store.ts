import { readFileSync, statSync } from 'node:fs';
import { parse } from 'yaml';
import { StepFailedError, ValidationError } from '@stackyard/errors';
import type { BmcCredentials, CredentialStore } from '../../application/ports';
import { isSealed, parseKey, unseal } from './sealed';

/**
 * BMC credentials from a file an operator (or a Kubernetes Secret mount) provides:
 *
 *   vault:bmc/ctl-01: { username: admin, password: "..." }
 *   kayobe:ipmi/ctl1: { username: ADMIN, password: "..." }
 *
 * YAML or JSON, keys are the credential references hosts carry. A password may be sealed
 * (`enc:v1:...`, `stackyard secret seal`): it is opened with the key in BMC_CREDENTIALS_KEY_FILE, and
 * with a key configured every password must be sealed (a clear one is refused). The files must not be
 * readable by group or others (like ssh keys); the credentials file is read again when it changes, so
 * rotation needs no restart. Passwords never appear in errors or logs.
 */
export class FileCredentialStore implements CredentialStore {
  private cache: { mtimeMs: number; entries: ReadonlyMap<string, BmcCredentials> } | undefined;

  private readonly key: Buffer | undefined;

  constructor(
    private readonly path: string,
    keyFile?: string,
  ) {
    if (keyFile) {
      checkPrivate(keyFile, 'BMC_CREDENTIALS_KEY_FILE');
      try {
        this.key = parseKey(readFileSync(keyFile, 'utf8'));
      } catch (e) {
        throw new ValidationError('BMC_CREDENTIALS_KEY_FILE', `${keyFile}: ${(e as Error).message}`);
      }
    }
    this.load();
  }

  private load(): ReadonlyMap<string, BmcCredentials> {
    const st = statSync(this.path);
    if (this.cache && this.cache.mtimeMs === st.mtimeMs) return this.cache.entries;
    checkPrivate(this.path, 'BMC_CREDENTIALS_FILE');
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
      entries.set(ref, { username: e.username, password: this.open(ref, e.password) });
    }
    this.cache = { mtimeMs: st.mtimeMs, entries };
    return entries;
  }

  private open(ref: string, password: string): string {
    if (!isSealed(password)) {
      if (this.key) throw new ValidationError('BMC_CREDENTIALS_FILE', `${this.path}: entry "${ref}" has a clear-text password while BMC_CREDENTIALS_KEY_FILE is set; seal it with \`stackyard secret seal\``);
      return password;
    }
    if (!this.key) throw new ValidationError('BMC_CREDENTIALS_FILE', `${this.path}: entry "${ref}" is sealed but BMC_CREDENTIALS_KEY_FILE is not set`);
    try {
      return unseal(password, this.key);
    } catch (e) {
      throw new ValidationError('BMC_CREDENTIALS_FILE', `${this.path}: entry "${ref}": ${(e as Error).message}`);
    }
  }

  async resolve(ref: string): Promise<BmcCredentials | undefined> {
    if (!ref) return undefined;
    const c = this.load().get(ref);
    if (!c) throw new StepFailedError('CredentialsNotFound', `no BMC credentials for reference "${ref}" in ${this.path}`, false);
    return c;
  }
}

function checkPrivate(path: string, variable: string): void {
  const mode = statSync(path).mode;
  if ((mode & 0o077) !== 0) throw new ValidationError(variable, `${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
}
