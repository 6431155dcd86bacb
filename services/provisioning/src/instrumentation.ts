import { startTelemetry } from '@stackyard/telemetry';

startTelemetry('stackyard-provisioning');
