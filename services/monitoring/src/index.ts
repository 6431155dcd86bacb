export { startMonitoring } from './app';
export { configSchema, type MonitoringConfig } from './config';
