import { baseConfigSchema, z } from '@stackyard/config';

export const configSchema = baseConfigSchema.extend({
  MAX_NODES_IN_FLIGHT: z.coerce.number().int().positive().default(16),
  LAB_CONTAINER_LATENCY_MS: z.coerce.number().int().min(0).default(5),
  LAB_FAIL_HOSTS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean)),
});
export type DeploymentConfig = z.infer<typeof configSchema>;
