import { ValidationError } from '@stackyard/errors';
import { assertToken, CONTEXTS, SUBJECT_ROOT, type Context } from '@stackyard/events';
import { SITE_CONTEXTS, type StreamTopology } from './connection';

export interface SubjectPermissions {
  readonly publish: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  readonly subscribe: { readonly allow: readonly string[]; readonly deny: readonly string[] };
}

const DOMAIN = /^[A-Za-z0-9_-]{1,63}$/;

/** A JetStream domain name as it goes into `$JS.<domain>.API`: letters, digits, `-`, `_`. */
export function assertDomain(field: string, domain: string): string {
  if (!DOMAIN.test(domain)) throw new ValidationError(field, `"${domain}" must be 1-63 letters, digits, "-" or "_" (a JetStream domain)`);
  return domain;
}

/**
 * The JetStream API calls that destroy what the streams hold, refused in every domain: `$JS.API`
 * (the connection's own domain) and `$JS.<any domain>.API` (the hub's from a site, a site's from the
 * hub). nats-server matches permissions on subjects only, so this is the whole of what it can refuse.
 */
const DESTRUCTIVE = ['STREAM.DELETE.>', 'STREAM.PURGE.>', 'STREAM.MSG.DELETE.>', 'CONSUMER.DELETE.>'];
const denyDestructive = (): string[] => ['$JS.API', '$JS.*.API'].flatMap((api) => DESTRUCTIVE.map((d) => `${api}.${d}`));

/**
 * What a service's NATS user may do (docs/adr/0001, docs/security.md): publish only its own
 * context's events, use JetStream (streams, its consumers, acks) but never delete or purge a stream
 * or its messages or delete a consumer, in any domain, and receive replies on inboxes.
 *
 * With a topology (docs/scale-out.md):
 * - `site`: the user is one of the site's workers, connected to the site's leaf server. It
 *   publishes only its own site's events (`stackyard.<site>.<ctx>.>`), uses its leaf's JetStream
 *   (`$JS.API`, or by name `$JS.<site>.API`) and reaches the hub's domain (`$JS.<hubDomain>.API`)
 *   read-and-consume only: creating or updating a hub stream is refused as well.
 * - `hub` and `single`: `stackyard.*.<ctx>.>` (every site) and the connection's own JetStream.
 * Everything else is denied by the server.
 */
export function permissionsFor(service: Context, topology: StreamTopology = { kind: 'single' }): SubjectPermissions {
  if (!CONTEXTS.includes(service)) throw new ValidationError('service', `"${String(service)}" is not one of ${CONTEXTS.join(', ')}`);
  const deny = denyDestructive();
  if (topology.kind === 'site') {
    assertToken('site', topology.site);
    const hub = assertDomain('hubDomain', topology.hubDomain);
    if (hub === topology.site) throw new ValidationError('hubDomain', `must differ from the site's own domain "${topology.site}"`);
    return {
      publish: {
        allow: [`${SUBJECT_ROOT}.${topology.site}.${service}.>`, '$JS.API.>', `$JS.${topology.site}.API.>`, `$JS.${hub}.API.>`, '$JS.ACK.>'],
        deny: [...deny, `$JS.${hub}.API.STREAM.CREATE.>`, `$JS.${hub}.API.STREAM.UPDATE.>`],
      },
      subscribe: { allow: ['_INBOX.>'], deny: [] },
    };
  }
  return {
    publish: { allow: [`${SUBJECT_ROOT}.*.${service}.>`, '$JS.API.>', '$JS.ACK.>'], deny },
    subscribe: { allow: ['_INBOX.>'], deny: [] },
  };
}

/**
 * What a site's leaf server may do over its link, as the hub sees it: the permissions of the user
 * the leaf's remote authenticates with at the hub (a user of the hub's `authorization` block; 2.9's
 * `leafnodes.authorization` users cannot carry permissions). For a leaf connection nats-server
 * reads `publish` as what the leaf may send into the hub and `subscribe` as what the hub sends to
 * the leaf.
 *
 * Allow-listed: only the other side's JetStream API and what sourcing needs (`SOURCING`) cross.
 * - No events cross as core messages, either way (`stackyard.>` is not allowed): the hub's own
 *   check of the `deny_imports`/`deny_exports` the leaf's remote sets (docs/scale-out.md, "Rules"),
 *   so a leaf configured otherwise still cannot inject or receive events outside JetStream sourcing.
 * - The site's JetStream reaches the hub's domain to source its inventory and monitoring facts,
 *   but cannot create, update, delete or purge a hub stream, delete its messages or a consumer.
 * - The hub's JetStream reaches the site's domain (`$JS.<site>.API`) to source the site's facts
 *   (consumers); creating, changing or destroying the site's streams is refused from the hub side.
 * - A site cannot reach another site's domain through the hub: only `$JS.<hubDomain>.API` is allowed.
 */
export function leafLinkPermissions(site: string, hubDomain: string): SubjectPermissions {
  assertToken('site', site);
  const hub = assertDomain('hubDomain', hubDomain);
  if (hub === site) throw new ValidationError('hubDomain', `must differ from the site's own domain "${site}"`);
  const changes = ['STREAM.CREATE.>', 'STREAM.UPDATE.>'];
  return {
    publish: {
      allow: [`$JS.${hub}.API.>`, ...SOURCING],
      deny: [...[...DESTRUCTIVE, ...changes].map((d) => `$JS.${hub}.API.${d}`)],
    },
    subscribe: {
      allow: [`$JS.${site}.API.>`, ...SOURCING],
      deny: [...[...DESTRUCTIVE, ...changes].map((d) => `$JS.${site}.API.${d}`)],
    },
  };
}

/**
 * A secret in a rendered nats-server configuration: a literal (tests, the embedded default) or a
 * reference to an environment variable of the nats-server process, written `$NAME` and resolved by
 * nats-server when it reads the file. With references the file can sit in a ConfigMap and the
 * values in a Secret.
 */
export type ConfigSecret = string | { readonly env: string };

const ENV = /^[A-Z_][A-Z0-9_]*$/;

/** nats-server config syntax for a secret: a quoted literal or `$NAME`. */
export function configSecret(field: string, s: ConfigSecret): string {
  if (typeof s === 'string') return JSON.stringify(s);
  if (!ENV.test(s.env)) throw new ValidationError(field, `"${s.env}" must be an environment variable name (A-Z, 0-9, _)`);
  return `$${s.env}`;
}

/**
 * What crosses a leaf link besides the other domain's API, as nats-server 2.9 uses it (seen in its
 * trace): replies to clients' requests (`_INBOX.>`) and to the source consumers' creation
 * (`$JSC.R.>`), the source consumers' deliveries and heartbeats (`$JS.S.>`), their flow-control
 * (`$JS.FC.>`) and ack (`$JS.ACK.>`) subjects, and the leaf loop detection (`$LDS.>`).
 */
const SOURCING = ['_INBOX.>', '$JSC.R.>', '$JS.S.>', '$JS.FC.>', '$JS.ACK.>', '$LDS.>'];

const list = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
const perms = (p: SubjectPermissions) =>
  `permissions: { publish: { allow: ${list(p.publish.allow)}, deny: ${list(p.publish.deny)} }, subscribe: { allow: ${list(p.subscribe.allow)}${p.subscribe.deny.length ? `, deny: ${list(p.subscribe.deny)}` : ''} } }`;

/** The services that connect to a server of this topology: the site's workers at a site, the others at the hub. */
export function contextsOn(topology: StreamTopology): readonly Context[] {
  if (topology.kind === 'site') return SITE_CONTEXTS;
  if (topology.kind === 'hub') return CONTEXTS.filter((c) => !SITE_CONTEXTS.includes(c));
  return CONTEXTS;
}

/**
 * nats-server `authorization.users` entries for every service of the server (`contextsOn`; passwords
 * from `passwordOf`: literals or environment references, `ConfigSecret`), for the
 * server the services connect to: one server or cluster (`single`, the default), the hub (`hub`) or
 * a site's leaf server (`site`).
 */
export function natsUsersConfig(passwordOf: (service: Context) => ConfigSecret, topology: StreamTopology = { kind: 'single' }): string {
  return contextsOn(topology).map((svc) => `    { user: ${JSON.stringify(svc)}, password: ${configSecret(`password of ${svc}`, passwordOf(svc))}, ${perms(permissionsFor(svc, topology))} }`).join('\n');
}

/**
 * The hub's `authorization.users` entries for the leaf links: one user per site, `leaf-<site>`,
 * with `leafLinkPermissions`. Each site's leaf remote authenticates as its own user
 * (docs/scale-out.md, "Sites with users").
 */
export function leafLinkUsersConfig(sites: readonly string[], hubDomain: string, passwordOf: (site: string) => ConfigSecret): string {
  return sites
    .map((s) => `    { user: ${JSON.stringify(leafLinkUser(s))}, password: ${configSecret(`password of ${leafLinkUser(s)}`, passwordOf(s))}, ${perms(leafLinkPermissions(s, hubDomain))} }`)
    .join('\n');
}

/** The hub user a site's leaf remote authenticates as. */
export function leafLinkUser(site: string): string {
  assertToken('site', site);
  return `leaf-${site}`;
}
