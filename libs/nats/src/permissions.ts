import { CONTEXTS, SUBJECT_ROOT, type Context } from '@stackyard/events';

export interface SubjectPermissions {
  readonly publish: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  readonly subscribe: { readonly allow: readonly string[]; readonly deny: readonly string[] };
}

/**
 * What a service's NATS user may do (docs/adr/0001): publish only its own context's events, use
 * JetStream (streams, its consumers, acks) but never delete or purge a stream or its messages, and
 * receive replies on inboxes. Everything else is denied by the server.
 */
export function permissionsFor(service: Context): SubjectPermissions {
  return {
    publish: {
      allow: [`${SUBJECT_ROOT}.*.${service}.>`, '$JS.API.>', '$JS.ACK.>'],
      deny: ['$JS.API.STREAM.DELETE.>', '$JS.API.STREAM.PURGE.>', '$JS.API.STREAM.MSG.DELETE.>', '$JS.API.CONSUMER.DELETE.>'],
    },
    subscribe: { allow: ['_INBOX.>'], deny: [] },
  };
}

/** nats-server `authorization.users` entries for every service (passwords from `passwordOf`). */
export function natsUsersConfig(passwordOf: (service: Context) => string): string {
  const list = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  return CONTEXTS.map((svc) => {
    const p = permissionsFor(svc);
    return `    { user: ${JSON.stringify(svc)}, password: ${JSON.stringify(passwordOf(svc))}, permissions: { publish: { allow: ${list(p.publish.allow)}, deny: ${list(p.publish.deny)} }, subscribe: { allow: ${list(p.subscribe.allow)} } } }`;
  }).join('\n');
}
