import { describe, expect, it } from 'vitest';
import { telemetryExportsNothing } from './sdk';

describe('telemetryExportsNothing', () => {
  it('is true only when every signal exporter is explicitly none', () => {
    const none = { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: ' none ' };
    expect(telemetryExportsNothing(none)).toBe(true);
    expect(telemetryExportsNothing({ ...none, OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
    expect(telemetryExportsNothing({ ...none, OTEL_METRICS_EXPORTER: 'prometheus' })).toBe(false);
    // Unset means the SDK's default exporter (OTLP), not "off".
    expect(telemetryExportsNothing({ OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' })).toBe(false);
    expect(telemetryExportsNothing({})).toBe(false);
  });
});
