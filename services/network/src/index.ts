export { startNetwork } from './app';
export { configSchema, type NetworkConfig } from './config';
