import { startTelemetry } from '@stackyard/telemetry';

startTelemetry('stackyard-monitoring');
