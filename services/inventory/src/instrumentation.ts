import { startTelemetry } from '@stackyard/telemetry';

startTelemetry('stackyard-inventory');
