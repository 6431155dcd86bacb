export { startInventory } from './app';
export { configSchema, type InventoryConfig } from './config';
