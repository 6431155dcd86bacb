import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Sealed secrets for BMC credential files: `enc:v1:<base64url(iv | tag | ciphertext)>`, AES-256-GCM
 * with a 32-byte key the file's owner keeps elsewhere (BMC_CREDENTIALS_KEY_FILE, a separate
 * Kubernetes Secret). A credentials file can then sit in a config repository or a backup without
 * revealing a password; the key alone reveals nothing either.
 */
export const SEALED_PREFIX = 'enc:v1:';

export function parseKey(text: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error(`the key must be 32 bytes in base64 (got ${key.length} bytes)`);
  return key;
}

export function newKey(): string {
  return randomBytes(32).toString('base64');
}

export function seal(plaintext: string, key: Buffer): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
}

export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

/** Opens a sealed value; throws (without echoing the value) when the key is wrong or it was altered. */
export function unseal(value: string, key: Buffer): string {
  const raw = Buffer.from(value.slice(SEALED_PREFIX.length), 'base64url');
  if (raw.length < 29) throw new Error('sealed value is truncated');
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  d.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  } catch {
    throw new Error('sealed value does not open with this key (wrong key, or the value was altered)');
  }
}
