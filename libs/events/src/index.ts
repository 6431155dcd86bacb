export { uuidv7 } from './ids';
export {
  SUBJECT_ROOT,
  CONTEXTS,
  type Context,
  type SubjectParts,
  assertToken,
  assertId,
  subjectOf,
  parseSubject,
  filterFor,
  streamFor,
} from './subjects';
export { Events, type EventType, type AnyEventType, type Codec, eventTypeOf, allEventTypes } from './catalogue';
export { type Envelope, type NewEvent, type WireEvent, H, CONTENT_TYPE, newEvent, toWire, fromWire } from './envelope';
