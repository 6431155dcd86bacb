/** OpenTelemetry messaging semantic-convention attribute names used by Stackyard (copied, not imported). */
export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const ATTR_MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name';
export const ATTR_CLOUDEVENTS_EVENT_TYPE = 'cloudevents.event_type';
export const MESSAGING_SYSTEM_NATS = 'nats';
