export { startDeployment, type RunningDeployment } from './app';
export { LabRuntime } from './adapters/lab/lab-runtime';
export { configSchema, type DeploymentConfig } from './config';
export { LabHostPreparer } from './adapters/host-prep/lab-preparer';
