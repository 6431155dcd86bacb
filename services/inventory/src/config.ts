import { isAbsolute } from 'node:path';
import { baseConfigSchema, z } from '@stackyard/config';

export const configSchema = baseConfigSchema.extend({
  /**
   * ImportKayobeConfig reads `config_path` only inside this directory (symlinks resolved). Unset:
   * any directory the service can read (development; a warning is logged at start).
   */
  INVENTORY_IMPORT_ROOT: z.string().refine(isAbsolute, 'must be an absolute path').optional(),
});
export type InventoryConfig = ReturnType<typeof configSchema.parse>;
