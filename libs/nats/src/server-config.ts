import { ValidationError } from '@stackyard/errors';
import { assertToken } from '@stackyard/events';
import { assertDomain, configSecret, leafLinkUser, leafLinkUsersConfig, natsUsersConfig, type ConfigSecret } from './permissions';

/** The environment variable a rendered configuration reads a user's password from: `STACKYARD_NATS_PASSWORD_<USER>`. */
export function natsPasswordEnv(user: string): string {
  return `STACKYARD_NATS_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`;
}

/** The environment variable a site's rendered configuration reads its leaf remote URL (with the link user's credentials) from. */
export const HUB_LEAF_URL_ENV = 'STACKYARD_HUB_LEAF_URL';

export type StackyardServer =
  /** The hub's nats-server (JetStream domain `hubDomain`): the services' users and one leaf link user per site. */
  | { readonly kind: 'hub'; readonly hubDomain: string; readonly sites: readonly string[] }
  /** A site's leaf server (JetStream domain = `site`): the services' users and the remote to the hub. */
  | { readonly kind: 'site'; readonly site: string; readonly hubDomain: string; readonly hubLeafUrl?: ConfigSecret };

/**
 * The Stackyard part of a nats-server configuration in a hub-and-sites deployment (docs/scale-out.md,
 * "Sites with users"): the `authorization` block with every service's user (`natsUsersConfig` with
 * the topology) and, at the hub, the leaf link users (`leafLinkUsersConfig`); at a site, the
 * `leafnodes` block with the remote to the hub, authenticated as the site's link user, with the
 * deny lists of "Rules". Passwords default to environment references (`natsPasswordEnv`), and the
 * remote's URL, which carries the link user's password, to `$STACKYARD_HUB_LEAF_URL`.
 *
 * Not included: `listen`, the `jetstream` block (whose `domain` must be `hubDomain` at the hub and
 * the site id at a site), the hub's `leafnodes { listen }` (and no `leafnodes.authorization`: the
 * remotes authenticate as the users rendered here), TLS.
 */
export function natsServerConfig(server: StackyardServer, passwordOf: (user: string) => ConfigSecret = (u) => ({ env: natsPasswordEnv(u) })): string {
  const hubDomain = assertDomain('hubDomain', server.hubDomain);
  const users = (s: string) => `authorization {\n  users = [\n${s}\n  ]\n}`;
  if (server.kind === 'hub') {
    if (server.sites.length === 0) throw new ValidationError('sites', 'a hub needs at least one site');
    for (const s of server.sites) assertToken('sites', s);
    return [
      `# Stackyard hub: jetstream.domain must be "${hubDomain}". Each site's leaf remote authenticates as its leaf-<site> user.`,
      users([natsUsersConfig(passwordOf, { kind: 'hub', sites: server.sites }), leafLinkUsersConfig(server.sites, hubDomain, (s) => passwordOf(leafLinkUser(s)))].join('\n')),
      '',
    ].join('\n');
  }
  assertToken('site', server.site);
  const url = configSecret('hubLeafUrl', server.hubLeafUrl ?? { env: HUB_LEAF_URL_ENV });
  return [
    `# Stackyard site ${server.site}: jetstream.domain must be "${server.site}". The remote authenticates at the hub as ${leafLinkUser(server.site)}.`,
    users(natsUsersConfig(passwordOf, { kind: 'site', site: server.site, hubDomain })),
    'leafnodes {',
    '  reconnect: 1',
    `  remotes = [ { url: ${url}, deny_imports: ["stackyard.>"], deny_exports: ["stackyard.>"] } ]`,
    '}',
    '',
  ].join('\n');
}
