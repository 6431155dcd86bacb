export { startDeployment } from './app';
export { configSchema, type DeploymentConfig } from './config';
