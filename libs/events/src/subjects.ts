import { ValidationError } from '@stackyard/errors';

/** Subject grammar (docs/adr/0001): stackyard.<site>.<context>.<entity>.<entityId>.<event> */
export const SUBJECT_ROOT = 'stackyard';
const TOKEN = /^[a-z0-9][a-z0-9_-]*$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export const CONTEXTS = ['inventory', 'provisioning', 'network', 'deployment', 'monitoring'] as const;
export type Context = (typeof CONTEXTS)[number];

export interface SubjectParts {
  readonly site: string;
  readonly context: Context;
  readonly entity: string;
  readonly id: string;
  readonly event: string;
}

/** Checks a token that ends up in a subject; the message names the field. */
export function assertToken(field: string, value: string, max = 63): void {
  if (!TOKEN.test(value) || value.length > max) {
    throw new ValidationError(field, `"${value}" must be 1-${max} lowercase letters, digits, "-" or "_"`);
  }
}

/** Checks an entity id: no ".", "*", ">" or whitespace, which would break subject matching. */
export function assertId(field: string, value: string, max = 128): void {
  if (!ID.test(value) || value.length > max) {
    throw new ValidationError(field, `"${value}" must be 1-${max} letters, digits, "-" or "_" (no ".", "*", ">")`);
  }
}

export function subjectOf(p: SubjectParts): string {
  assertToken('site', p.site);
  assertToken('entity', p.entity);
  assertId('id', p.id);
  assertToken('event', p.event);
  return `${SUBJECT_ROOT}.${p.site}.${p.context}.${p.entity}.${p.id}.${p.event}`;
}

export function parseSubject(subject: string): SubjectParts {
  const t = subject.split('.');
  if (t.length !== 6 || t[0] !== SUBJECT_ROOT || !(CONTEXTS as readonly string[]).includes(t[2]!)) {
    throw new ValidationError('subject', `"${subject}" does not follow stackyard.<site>.<context>.<entity>.<id>.<event>`);
  }
  return { site: t[1]!, context: t[2] as Context, entity: t[3]!, id: t[4]!, event: t[5]! };
}

/** Filter for every site: stackyard.*.<context>.<entity>.*.<event> */
export function filterFor(context: Context, entity: string, event: string): string {
  return `${SUBJECT_ROOT}.*.${context}.${entity}.*.${event}`;
}

/** Stream name and subjects for a producing context (one stream per context). */
export function streamFor(context: Context): { name: string; subjects: string[] } {
  return { name: `STACKYARD_${context.toUpperCase()}`, subjects: [`${SUBJECT_ROOT}.*.${context}.>`] };
}
