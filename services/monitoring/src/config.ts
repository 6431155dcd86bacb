import { baseConfigSchema } from '@stackyard/config';

export const configSchema = baseConfigSchema.extend({});
export type MonitoringConfig = ReturnType<typeof configSchema.parse>;
