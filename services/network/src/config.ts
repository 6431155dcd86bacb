import { baseConfigSchema, z } from '@stackyard/config';
import { NETWORK_ENGINES } from './domain/render';

export const configSchema = baseConfigSchema.extend({
  /** Prefix of rendered systemd-networkd file names (Kayobe uses 50-kayobe-). */
  NETWORKD_FILE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]*$/).default('50-kayobe-'),
  /**
   * true: a host whose Kolla host variables Kayobe would refuse (a required network not mapped, no
   * interface, inconsistent physnets) fails its network step (InvalidNetworkConfig). false: the
   * problems are published with the variables.
   */
  KOLLA_HOST_VARS_STRICT: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** How host networks are written: Kayobe's `networkd` (Debian) or `nmstate` (RedHat) engine, or NetworkManager keyfiles. */
  NETWORK_ENGINE: z.enum(NETWORK_ENGINES).default('networkd'),
  MAX_HOSTS_IN_FLIGHT: z.coerce.number().int().positive().default(32),
  LAB_LATENCY_MS: z.coerce.number().int().min(0).default(20),
  LAB_FAIL_HOSTS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean)),
});
export type NetworkConfig = z.infer<typeof configSchema>;
