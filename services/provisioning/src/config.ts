import { baseConfigSchema, z } from '@stackyard/config';
import { IRONIC_REQUEST_TIMEOUT_MS } from './adapters/ironic/client';

const ms = (d: number) => z.coerce.number().int().positive().default(d);
const bool = (d: boolean) =>
  z
    .enum(['true', 'false', '1', '0', ''])
    .default(d ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

export const configSchema = baseConfigSchema.extend({
  /** OS image deployed to every node (Kayobe: overcloud host image). */
  PROVISION_IMAGE: z.string().min(1).default('deployment_image.qcow2'),
  /** Where BMCs and Ironic fetch an image given by name: `<base>/<PROVISION_IMAGE>` (an image URL is used as is). */
  PROVISION_IMAGE_BASE_URL: z.string().url().optional(),
  MAX_ENROLLS_IN_FLIGHT: z.coerce.number().int().positive().default(32),
  MAX_INSPECTIONS_IN_FLIGHT: z.coerce.number().int().positive().default(16),
  MAX_DEPLOYS_IN_FLIGHT: z.coerce.number().int().positive().default(16),
  /** Driver requests in flight per site and per BMC address (a shared Redfish endpoint or Ironic counts as one BMC). */
  MAX_IN_FLIGHT_PER_SITE: z.coerce.number().int().positive().default(64),
  MAX_IN_FLIGHT_PER_BMC: z.coerce.number().int().positive().default(4),
  /** Deadlines per kind of driver work (Kayobe: inspection 1200 s, active 600 s, deprovision 600 s). */
  ENROLL_TIMEOUT_MS: ms(5 * 60_000),
  INSPECT_TIMEOUT_MS: ms(20 * 60_000),
  DEPLOY_TIMEOUT_MS: ms(30 * 60_000),
  DEPROVISION_TIMEOUT_MS: ms(15 * 60_000),
  POWER_TIMEOUT_MS: ms(2 * 60_000),
  /** YAML/JSON file mapping credential references to {username, password} (mode 600). */
  BMC_CREDENTIALS_FILE: z.string().optional(),
  /** 32-byte base64 key (mode 600) opening sealed `enc:v1:` passwords; when set, every password must be sealed. */
  BMC_CREDENTIALS_KEY_FILE: z.string().optional(),

  /** The `ironic` driver: an Ironic API (standalone, like Bifrost's). Unset: the driver is not offered. */
  IRONIC_URL: z.string().url().optional(),
  /** Hardware type new nodes are enrolled with: fake-hardware (tests), redfish or ipmi. */
  IRONIC_HARDWARE_TYPE: z.enum(['fake-hardware', 'redfish', 'ipmi']).default('redfish'),
  IRONIC_POLL_INTERVAL_MS: ms(10_000),
  IRONIC_LOCKED_RETRIES: z.coerce.number().int().min(0).default(6),
  IRONIC_LOCKED_RETRY_INTERVAL_MS: ms(5_000),
  /** How long one Ironic request may take: longer than Ironic's own wait for its conductor (120 s over JSON-RPC). */
  IRONIC_REQUEST_TIMEOUT_MS: ms(IRONIC_REQUEST_TIMEOUT_MS),

  /** The `redfish` driver: scheme and TLS verification towards BMCs. */
  REDFISH_SCHEME: z.enum(['https', 'http']).default('https'),
  REDFISH_VERIFY_TLS: bool(true),
  REDFISH_CA_FILE: z.string().optional(),
  REDFISH_POLL_INTERVAL_MS: ms(5_000),
  REDFISH_REQUEST_TIMEOUT_MS: ms(10_000),

  LAB_LATENCY_MS: z.coerce.number().int().min(0).default(50),
  LAB_FAULT_RATE: z.coerce.number().min(0).max(1).default(0),
  LAB_FAIL_STEPS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[a-z0-9-]+:(enroll|inspect|deploy)(:[0-9]+)?$/, 'must be <host>:<enroll|inspect|deploy>[:<failing attempts>]'))),
  LAB_SEED: z.coerce.number().int().default(1),
});
export type ProvisioningConfig = z.infer<typeof configSchema>;
