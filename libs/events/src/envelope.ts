import { ValidationError } from '@stackyard/errors';
import { uuidv7 } from './ids';
import { eventTypeOf, type EventType } from './catalogue';
import { assertToken, subjectOf } from './subjects';

/**
 * A CloudEvent in binary mode (docs/adr/0002): attributes travel as NATS headers, the payload is the
 * protobuf message. `subject` is the NATS subject; `entityId` is ce-subject.
 */
export interface Envelope<T = unknown> {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly entityId: string;
  readonly time: string;
  readonly site: string;
  readonly subject: string;
  readonly correlationId: string;
  readonly causationId: string | undefined;
  readonly data: T;
}

export const H = {
  specversion: 'ce-specversion',
  id: 'ce-id',
  type: 'ce-type',
  source: 'ce-source',
  subject: 'ce-subject',
  time: 'ce-time',
  contentType: 'content-type',
  correlationId: 'ce-correlationid',
  causationId: 'ce-causationid',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

export const CONTENT_TYPE = 'application/protobuf';

export interface NewEvent<T> {
  readonly type: EventType<T>;
  readonly site: string;
  readonly entityId: string;
  readonly service: string;
  readonly data: T;
  /** The event this one is caused by: correlation is inherited, causation is its id. */
  readonly cause?: Pick<Envelope, 'id' | 'correlationId'>;
  readonly id?: string;
  readonly now?: Date;
}

export function newEvent<T>(e: NewEvent<T>): Envelope<T> {
  assertToken('service', e.service);
  const id = e.id ?? uuidv7(e.now?.getTime());
  return {
    id,
    type: e.type.type,
    source: `/stackyard/${e.site}/${e.service}`,
    entityId: e.entityId,
    time: (e.now ?? new Date()).toISOString(),
    site: e.site,
    subject: subjectOf({ site: e.site, context: e.type.context, entity: e.type.entity, id: e.entityId, event: e.type.event }),
    correlationId: e.cause?.correlationId ?? id,
    causationId: e.cause?.id,
    data: e.data,
  };
}

/** The wire form: headers plus bytes. Trace headers are added by the transport. */
export interface WireEvent {
  readonly subject: string;
  readonly headers: Record<string, string>;
  readonly payload: Uint8Array;
}

export function toWire<T>(env: Envelope<T>): WireEvent {
  const codec = eventTypeOf(env.type).codec as EventType<T>['codec'];
  const headers: Record<string, string> = {
    [H.specversion]: '1.0',
    [H.id]: env.id,
    [H.type]: env.type,
    [H.source]: env.source,
    [H.subject]: env.entityId,
    [H.time]: env.time,
    [H.contentType]: CONTENT_TYPE,
    [H.correlationId]: env.correlationId,
  };
  if (env.causationId) headers[H.causationId] = env.causationId;
  return { subject: env.subject, headers, payload: codec.encode(env.data).finish() };
}

/** Decodes a wire event. Missing attributes or an unknown type are ValidationErrors (never retried). */
export function fromWire(subject: string, header: (name: string) => string | undefined, payload: Uint8Array): Envelope {
  const need = (name: string): string => {
    const v = header(name);
    if (!v) throw new ValidationError(name, 'missing CloudEvents header');
    return v;
  };
  if (need(H.specversion) !== '1.0') throw new ValidationError(H.specversion, 'only CloudEvents 1.0 is supported');
  const ct = header(H.contentType);
  if (ct && ct !== CONTENT_TYPE) throw new ValidationError(H.contentType, `expected ${CONTENT_TYPE}, got ${ct}`);
  const type = eventTypeOf(need(H.type));
  let data: unknown;
  try {
    data = type.codec.decode(payload);
  } catch (e) {
    throw new ValidationError('payload', `cannot decode ${type.type}: ${(e as Error).message}`);
  }
  const source = need(H.source);
  return {
    id: need(H.id),
    type: type.type,
    source,
    entityId: need(H.subject),
    time: need(H.time),
    site: subject.split('.')[1] ?? '',
    subject,
    correlationId: header(H.correlationId) ?? need(H.id),
    causationId: header(H.causationId),
    data,
  };
}
