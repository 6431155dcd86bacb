import { baseConfigSchema, z } from '@stackyard/config';

export const configSchema = baseConfigSchema.extend({
  /** OS image deployed to every node (Kayobe: overcloud host image). */
  PROVISION_IMAGE: z.string().min(1).default('deployment_image.qcow2'),
  MAX_ENROLLS_IN_FLIGHT: z.coerce.number().int().positive().default(32),
  MAX_INSPECTIONS_IN_FLIGHT: z.coerce.number().int().positive().default(16),
  MAX_DEPLOYS_IN_FLIGHT: z.coerce.number().int().positive().default(16),
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
