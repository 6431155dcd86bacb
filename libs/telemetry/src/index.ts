export { createLogger, REDACT_PATHS, type Logger } from './logger';
export { injectTraceHeaders, withConsumerSpan, withDbSpan, withServerSpan } from './propagation';
export { startTelemetry, shutdownTelemetry, telemetryExportsNothing } from './sdk';
export {
  ATTR_MESSAGING_SYSTEM,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_CLOUDEVENTS_EVENT_TYPE,
  MESSAGING_SYSTEM_NATS,
} from './semconv';
