import { baseConfigSchema } from '@stackyard/config';

export const configSchema = baseConfigSchema.extend({});
export type InventoryConfig = ReturnType<typeof configSchema.parse>;
