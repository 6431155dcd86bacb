export { startProvisioning } from './app';
export { configSchema, type ProvisioningConfig } from './config';
