import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PASSWORD_KEYS, generatePasswords, randomPassword, randomUuid, type RandomSource } from './passwords';

/** Deterministic bytes: a counter, so every call gives new values. */
function counter(start = 0): RandomSource {
  let n = start;
  return { bytes: (k) => Uint8Array.from({ length: k }, () => n++ % 256) };
}
/** A seeded xorshift generator, for tests that need many distinct values. */
function seeded(seed = 1): RandomSource {
  let x = seed;
  return {
    bytes: (k) =>
      Uint8Array.from({ length: k }, () => {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        return x & 255;
      }),
  };
}
const keyPair = () => {
  let i = 0;
  return () => ({ private_key: `-----BEGIN OPENSSH PRIVATE KEY-----\nkey${++i}\n-----END OPENSSH PRIVATE KEY-----\n`, public_key: `ssh-ed25519 AAAA${i} kolla` });
};
const SMALL = ['database_password', 'keystone_admin_password', 'rbd_secret_uuid', 'kolla_ssh_key', 'docker_registry_password', 'osprofiler_secret', 'barbican_crypto_key'];

describe('generatePasswords', () => {
  it('Given no existing file, then each kind of key gets its kind of value, and the file is the literal YAML', () => {
    const p = generatePasswords({ random: counter(), sshKeyPair: keyPair(), keys: SMALL });
    expect(p.render()).toBe(`---
database_password: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
keystone_admin_password: "opqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQR"
rbd_secret_uuid: "50515253-5455-4657-9859-5a5b5c5d5e5f"
kolla_ssh_key:
  private_key: "-----BEGIN OPENSSH PRIVATE KEY-----\\nkey1\\n-----END OPENSSH PRIVATE KEY-----\\n"
  public_key: "ssh-ed25519 AAAA1 kolla"
docker_registry_password: null
osprofiler_secret: "606162636465666768696a6b6c6d6e6f"
barbican_crypto_key: "cHFyc3R1dnd4eXp7fH1-f4CBgoOEhYaHiImKi4yNjo8="
`);
    expect(p.generated).toEqual(SMALL.filter((k) => k !== 'docker_registry_password'));
    expect(parse(p.render())).toMatchObject({ kolla_ssh_key: { public_key: 'ssh-ed25519 AAAA1 kolla' }, docker_registry_password: null });
  });

  it('Given an existing file, then its values are kept and only missing or empty keys are generated', () => {
    const first = generatePasswords({ random: counter(), sshKeyPair: keyPair(), keys: SMALL });
    const existing = parse(first.render()) as Record<string, unknown>;
    existing.keystone_admin_password = '';
    const second = generatePasswords({ random: counter(100), sshKeyPair: keyPair(), keys: SMALL, existing });
    expect(second.generated).toEqual(['keystone_admin_password']);
    expect(second.get('database_password')).toBe(first.get('database_password'));
    expect(second.get('kolla_ssh_key')).toEqual(first.get('kolla_ssh_key'));
    expect(second.get('keystone_admin_password')).not.toBe(first.get('keystone_admin_password'));
    // Regenerating from its own output changes nothing.
    const third = generatePasswords({ random: counter(200), sshKeyPair: keyPair(), keys: SMALL, existing: parse(second.render()) as Record<string, unknown> });
    expect(third.render()).toBe(second.render());
    expect(third.generated).toEqual([]);
  });

  it("Given Kayobe's custom passwords, then they win over existing values; unknown existing keys are kept, sorted after the known ones", () => {
    const kollaKey = { private_key: 'PRIV', public_key: 'PUB' };
    const p = generatePasswords({
      random: counter(),
      sshKeyPair: keyPair(),
      keys: SMALL,
      existing: { kolla_ssh_key: { private_key: 'old', public_key: 'old' }, zz_custom: 'z', aa_custom: 'a' },
      custom: { kolla_ssh_key: kollaKey, docker_registry_password: 'secret' },
    });
    expect(p.get('kolla_ssh_key')).toEqual(kollaKey);
    expect(p.get('docker_registry_password')).toBe('secret');
    expect(p.keys().slice(-2)).toEqual(['aa_custom', 'zz_custom']);
  });

  it('never shows a value when logged or serialised', () => {
    const p = generatePasswords({ random: counter(), sshKeyPair: keyPair(), keys: SMALL });
    const secret = p.get('database_password') as string;
    for (const shown of [JSON.stringify(p), JSON.stringify({ p }), inspect(p), String(p), `${p}`]) {
      expect(shown).not.toContain(secret);
      expect(shown).not.toContain('PRIVATE KEY');
    }
    expect(JSON.parse(JSON.stringify(p))).toEqual({ keys: 7, generated: 6 });
  });

  it('fills the whole Kolla key list with distinct values', () => {
    const p = generatePasswords({ random: seeded(), sshKeyPair: keyPair() });
    expect(p.keys()).toEqual(PASSWORD_KEYS);
    const strings = p.keys().map((k) => p.get(k)).filter((v): v is string => typeof v === 'string');
    expect(new Set(strings).size).toBe(strings.length);
  });
});

describe('random values', () => {
  it('passwords are letters and digits of the asked length, skipping biased bytes', () => {
    const biased: RandomSource = { bytes: (k) => Uint8Array.from({ length: k }, (_, i) => (i % 2 ? 250 : 61)) };
    expect(randomPassword(biased, 5)).toBe('99999');
    expect(randomPassword(counter(), 40)).toMatch(/^[A-Za-z0-9]{40}$/);
  });

  it('UUIDs are version 4', () => {
    expect(randomUuid({ bytes: (k) => new Uint8Array(k).fill(255) })).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
  });
});
