export { startProvisioning } from './app';
export { configSchema, type ProvisioningConfig } from './config';
export { startLabRedfish, type LabRedfish, type LabSystemSpec } from './adapters/lab/redfish-bmc';
export { newKey, parseKey, seal, unseal } from './adapters/credentials/sealed';
export { uuidV5 as ironicNodeUuid } from './adapters/ironic/ironic-driver';
