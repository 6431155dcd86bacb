import { createPublicKey, generateKeyPair, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { RandomSource, SshKeyPair } from '../../domain/kolla/passwords';

export const cryptoRandom: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** An SSH mpint: big-endian, with a leading zero byte when the high bit is set. */
function mpint(b: Buffer): Buffer {
  return sshString((b[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

/** An RSA key pair as kolla-genpwd makes it: PEM private key, OpenSSH public key. Blocks: prefer `rsaKeyPairAsync`. */
export function rsaKeyPair(bits = 4096): SshKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return toSsh(privateKey, publicKey);
}

/** `rsaKeyPair` on libuv's thread pool (a 4096-bit key takes about a second; the event loop keeps running). */
export function rsaKeyPairAsync(bits = 4096): Promise<SshKeyPair> {
  return new Promise((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: bits, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }, (err, publicKey, privateKey) => (err ? reject(err) : resolve(toSsh(privateKey, publicKey)))),
  );
}

function toSsh(privateKey: string, publicKey: string): SshKeyPair {
  const jwk = createPublicKey(publicKey).export({ format: 'jwk' });
  const e = Buffer.from(jwk.e ?? '', 'base64url');
  const n = Buffer.from(jwk.n ?? '', 'base64url');
  const blob = Buffer.concat([sshString(Buffer.from('ssh-rsa')), mpint(e), mpint(n)]);
  return { private_key: privateKey, public_key: `ssh-rsa ${blob.toString('base64')}` };
}
