import { yamlValue } from './globals';

/** Injected randomness (crypto in production, a seeded fake in tests). */
export interface RandomSource {
  bytes(n: number): Uint8Array;
}

export interface SshKeyPair {
  readonly private_key: string;
  readonly public_key: string;
}

export type PasswordValue = string | SshKeyPair | null;

/** Keys kolla-genpwd fills with an SSH key pair. */
export const SSH_KEYS: readonly string[] = ['bifrost_ssh_key', 'kolla_ssh_key', 'keystone_ssh_key', 'nova_ssh_key', 'octavia_amp_ssh_key', 'neutron_ssh_key', 'haproxy_ssh_key'];
/** Keys filled with a random UUID. */
export const UUID_KEYS: readonly string[] = ['ceph_cluster_fsid', 'rbd_secret_uuid', 'cinder_rbd_secret_uuid', 'gnocchi_project_id', 'gnocchi_resource_id', 'gnocchi_user_id', 'designate_pool_id'];
/** Keys left empty unless given (Kayobe sets `docker_registry_password` from `kolla_docker_registry_password`). */
export const BLANK_KEYS: readonly string[] = ['docker_registry_password'];
/** Keys filled with 32 hex characters (an HMAC-MD5 digest in kolla-genpwd). */
export const HEX_KEYS: readonly string[] = ['designate_rndc_key', 'osprofiler_secret'];
/** Keys filled with a Fernet key (url-safe base64 of 32 bytes). */
export const FERNET_KEYS: readonly string[] = ['barbican_crypto_key'];

const svcPasswords = (svc: string, ...more: string[]) => [`${svc}_database_password`, `${svc}_keystone_password`, ...more];

/** The keys of Kolla-Ansible's `etc/kolla/passwords.yml` this catalogue needs, in file order. */
export const PASSWORD_KEYS: readonly string[] = [
  'rbd_secret_uuid',
  'cinder_rbd_secret_uuid',
  'database_password',
  'mariadb_backup_database_password',
  'mariadb_monitor_password',
  'docker_registry_password',
  'opensearch_dashboards_password',
  'aodh_database_password',
  'aodh_keystone_password',
  'barbican_database_password',
  'barbican_keystone_password',
  'barbican_p11_password',
  'barbican_crypto_key',
  'keystone_admin_password',
  'keystone_database_password',
  'grafana_database_password',
  'grafana_admin_password',
  ...svcPasswords('glance'),
  ...svcPasswords('gnocchi'),
  'gnocchi_project_id',
  'gnocchi_resource_id',
  'gnocchi_user_id',
  ...svcPasswords('ironic'),
  'ironic_inspector_database_password',
  'ironic_inspector_keystone_password',
  ...svcPasswords('nova'),
  'nova_api_database_password',
  ...svcPasswords('placement'),
  ...svcPasswords('neutron'),
  'metadata_secret',
  ...svcPasswords('cinder'),
  ...svcPasswords('cloudkitty'),
  ...svcPasswords('cyborg'),
  ...svcPasswords('designate'),
  'designate_pool_id',
  'designate_rndc_key',
  ...svcPasswords('heat'),
  'heat_domain_admin_password',
  'horizon_secret_key',
  'horizon_database_password',
  'telemetry_secret_key',
  ...svcPasswords('magnum'),
  'magnum_trustee_password',
  ...svcPasswords('manila'),
  ...svcPasswords('masakari'),
  ...svcPasswords('mistral'),
  ...svcPasswords('octavia'),
  'octavia_ca_password',
  'octavia_client_ca_password',
  ...svcPasswords('tacker'),
  ...svcPasswords('trove'),
  ...svcPasswords('watcher'),
  ...svcPasswords('blazar'),
  ...svcPasswords('skyline'),
  'skyline_secret_key',
  'ceilometer_keystone_password',
  'memcache_secret_key',
  'ceph_cluster_fsid',
  'nova_ssh_key',
  'kolla_ssh_key',
  'keystone_ssh_key',
  'bifrost_ssh_key',
  'octavia_amp_ssh_key',
  'neutron_ssh_key',
  'haproxy_ssh_key',
  'rabbitmq_password',
  'rabbitmq_monitoring_password',
  'rabbitmq_cluster_cookie',
  'outward_rabbitmq_password',
  'outward_rabbitmq_cluster_cookie',
  'haproxy_password',
  'keepalived_password',
  'etcd_cluster_token',
  'valkey_master_password',
  'proxysql_admin_password',
  'prometheus_mysql_exporter_database_password',
  'prometheus_alertmanager_password',
  'prometheus_password',
  'prometheus_grafana_password',
  'prometheus_skyline_password',
  'hacluster_corosync_authkey',
  'hacluster_pacemaker_remote_authkey',
  'libvirt_sasl_password',
  'osprofiler_secret',
];

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A password of `length` letters and digits, uniform (rejection sampling over random bytes). */
export function randomPassword(random: RandomSource, length = 40): string {
  let out = '';
  while (out.length < length) {
    for (const b of random.bytes(length)) {
      if (b < 248 && out.length < length) out += ALNUM[b % 62];
    }
  }
  return out;
}

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

export function randomUuid(random: RandomSource): string {
  const b = random.bytes(16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
function base64url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = [B64[(n >> 18) & 63], B64[(n >> 12) & 63], B64[(n >> 6) & 63], B64[n & 63]];
    const keep = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2;
    out += chars.slice(0, keep).join('') + '='.repeat(4 - keep);
  }
  return out;
}

const isEmpty = (v: unknown) => v === undefined || v === null || v === '' || (typeof v === 'object' && !('private_key' in v && v.private_key));

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * Kolla's passwords, kept secret: the values are reachable only through `get` and `render`;
 * logging or serialising the object shows the key counts, never a value.
 */
export class KollaPasswords {
  readonly #values: ReadonlyMap<string, PasswordValue>;
  /** Keys that were generated now (the rest were kept or given). */
  readonly generated: readonly string[];

  constructor(values: ReadonlyMap<string, PasswordValue>, generated: readonly string[]) {
    this.#values = values;
    this.generated = generated;
  }

  keys(): string[] {
    return [...this.#values.keys()];
  }

  get(key: string): PasswordValue | undefined {
    return this.#values.get(key);
  }

  /** `passwords.yml`: known keys in Kolla's order, then any others sorted. Byte-stable. */
  render(): string {
    let out = '---\n';
    for (const [k, v] of this.#values) {
      if (v !== null && typeof v === 'object') out += `${k}:\n  private_key: ${yamlValue(v.private_key)}\n  public_key: ${yamlValue(v.public_key)}\n`;
      else out += `${k}: ${yamlValue(v)}\n`;
    }
    return out;
  }

  toJSON(): { keys: number; generated: number } {
    return { keys: this.#values.size, generated: this.generated.length };
  }

  toString(): string {
    return `[KollaPasswords: ${this.#values.size} keys, ${this.generated.length} generated]`;
  }

  [INSPECT](): string {
    return this.toString();
  }
}

export interface PasswordsInput {
  readonly random: RandomSource;
  readonly sshKeyPair: () => SshKeyPair;
  /** The current passwords.yml, if any: every non-empty value is kept. */
  readonly existing?: Readonly<Record<string, unknown>>;
  /** Kayobe's `kolla_ansible_custom_passwords`: always win (e.g. `kolla_ssh_key` from the control host key). */
  readonly custom?: Readonly<Record<string, PasswordValue>>;
  readonly keys?: readonly string[];
  readonly length?: number;
}

function asValue(v: unknown): PasswordValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'object' && 'private_key' in v && 'public_key' in v) return { private_key: String(v.private_key), public_key: String(v.public_key) };
  return String(v);
}

/**
 * kolla-genpwd then Kayobe's `kolla_passwords` merge: generated once, then stable. Existing values are
 * kept, custom values override, empty keys are generated by kind (SSH key pair, UUID, hex, Fernet,
 * blank, else a 40-character password).
 */
export function generatePasswords(input: PasswordsInput): KollaPasswords {
  const existing = input.existing ?? {};
  const custom = input.custom ?? {};
  const known = input.keys ?? PASSWORD_KEYS;
  const others = [...new Set([...Object.keys(existing), ...Object.keys(custom)])].filter((k) => !known.includes(k)).sort();
  const values = new Map<string, PasswordValue>();
  const generated: string[] = [];
  for (const k of [...known, ...others]) {
    if (k in custom) {
      values.set(k, custom[k] ?? null);
    } else if (!isEmpty(existing[k])) {
      values.set(k, asValue(existing[k]));
    } else if (BLANK_KEYS.includes(k)) {
      values.set(k, null);
    } else {
      generated.push(k);
      if (SSH_KEYS.includes(k)) values.set(k, input.sshKeyPair());
      else if (UUID_KEYS.includes(k)) values.set(k, randomUuid(input.random));
      else if (HEX_KEYS.includes(k)) values.set(k, hex(input.random.bytes(16)));
      else if (FERNET_KEYS.includes(k)) values.set(k, base64url(input.random.bytes(32)));
      else values.set(k, randomPassword(input.random, input.length));
    }
  }
  return new KollaPasswords(values, generated);
}
