import { HostState, type Host } from '@stackyard/proto/inventory/v1/inventory';
import { HostOutcome, NodeDeploymentState, type NodeDeployment, type OperationResult } from '@stackyard/proto/deployment/v1/deployment';
import type { HostNetworkConfig } from '@stackyard/proto/network/v1/network';
import { DEFAULT_INVENTORY } from './config-import';
import { table } from './output';

/**
 * The pure part of `stackyard overcloud ...`: arguments, --limit, what each host needs (Kayobe's
 * state rules), and the text. The calls are in overcloud.ts.
 */

export type OvercloudVerb =
  | 'inventory'
  | 'hardware inspect'
  | 'provision'
  | 'deprovision'
  | 'host configure'
  | 'service deploy'
  | 'service reconfigure'
  | 'service upgrade'
  | 'service destroy'
  | 'service diff';

export type ServiceName = 'inventory' | 'provisioning' | 'network' | 'deployment';

/** What each verb talks to. */
export const NEEDS: Readonly<Record<OvercloudVerb, readonly ServiceName[]>> = {
  inventory: ['inventory'],
  'hardware inspect': ['inventory', 'provisioning'],
  provision: ['inventory', 'provisioning'],
  deprovision: ['inventory', 'provisioning'],
  'host configure': ['inventory', 'network'],
  'service deploy': ['inventory', 'deployment'],
  'service reconfigure': ['deployment'],
  'service upgrade': ['deployment'],
  'service destroy': ['deployment'],
  'service diff': ['deployment'],
};

export interface OvercloudRequest {
  readonly verb: OvercloudVerb;
  readonly site: string;
  /** Limit terms (host names, host ids or groups; `all`), undefined without --limit. */
  readonly limit: readonly string[] | undefined;
  readonly release: string | undefined;
  readonly json: boolean;
  readonly timeoutMs: number;
  readonly addresses: Readonly<Partial<Record<ServiceName, string>>>;
}

export type Parsed = { readonly ok: true; readonly request: OvercloudRequest } | { readonly ok: false; readonly message: string };

export interface OvercloudFlags {
  readonly site?: string;
  readonly limit?: string;
  readonly yes?: boolean;
  readonly release?: string;
  readonly json?: boolean;
  readonly timeout?: string;
  readonly inventory?: string;
  readonly provisioning?: string;
  readonly network?: string;
  readonly deployment?: string;
}

const VERBS: Readonly<Record<string, OvercloudVerb>> = {
  inventory: 'inventory',
  'inventory discover': 'inventory',
  'hardware inspect': 'hardware inspect',
  provision: 'provision',
  deprovision: 'deprovision',
  'host configure': 'host configure',
  'service deploy': 'service deploy',
  'service reconfigure': 'service reconfigure',
  'service upgrade': 'service upgrade',
  'service destroy': 'service destroy',
  'service diff': 'service diff',
};

export const OVERCLOUD_VERBS = Object.keys(VERBS).filter((v) => v !== 'inventory discover');

/** Parses `overcloud <words...>` with its flags and the STACKYARD_* environment; usage errors are messages (exit 64). */
export function parseOvercloud(words: readonly string[], f: OvercloudFlags, env: Readonly<Record<string, string | undefined>>): Parsed {
  const fail = (message: string): Parsed => ({ ok: false, message });
  const verb = VERBS[words.join(' ')];
  if (!verb) return fail(`overcloud: expected one of: ${OVERCLOUD_VERBS.map((v) => `overcloud ${v}`).join(', ')}; got "overcloud ${words.join(' ')}"`);
  if (!f.site) return fail(`overcloud ${verb}: --site S is required (the site id, as in \`stackyard nodes --site S\`)`);
  let limit: string[] | undefined;
  if (f.limit !== undefined) {
    const l = parseLimit(f.limit);
    if (typeof l === 'string') return fail(`overcloud ${verb}: ${l}`);
    limit = l;
  }
  const siteWide = verb === 'service reconfigure' || verb === 'service upgrade' || verb === 'service destroy' || verb === 'service diff';
  if (siteWide && limit) {
    return fail(`overcloud ${verb}: --limit is not supported: the deployment service runs kolla-ansible over every host of the site. Leave out --limit (\`stackyard overcloud service deploy --site ${f.site} --limit ...\` shows single nodes)`);
  }
  if (verb === 'deprovision' && !limit) {
    return fail(`overcloud deprovision: --limit HOST,... is required (\`--limit all\` for every host of site ${f.site})`);
  }
  if (verb === 'deprovision' && !f.yes) {
    return fail(`overcloud deprovision undeploys ${limit!.join(', ')} of site ${f.site}: the OS is removed, the disks cleaned and the nodes powered off. Kayobe asks for confirmation here; run it again with --yes to go ahead`);
  }
  if (verb === 'service destroy' && !f.yes) {
    return fail(`overcloud service destroy removes every container and volume of site ${f.site} (kolla-ansible destroy --yes-i-really-really-mean-it). Run it again with --yes to go ahead`);
  }
  if (verb === 'service upgrade' && !f.release) return fail('overcloud service upgrade: --release R is required (the OpenStack release to upgrade to, e.g. 2025.1)');
  const timeout = Number(f.timeout ?? '300');
  if (!Number.isFinite(timeout) || timeout <= 0) return fail(`--timeout must be a positive number of seconds, got "${f.timeout}"`);
  const addresses: Partial<Record<ServiceName, string>> = {};
  for (const s of NEEDS[verb]) {
    const a = f[s] || env[`STACKYARD_${s.toUpperCase()}`] || (s === 'inventory' ? DEFAULT_INVENTORY : undefined);
    if (!a) return fail(`where is ${s}? pass --${s} HOST:PORT or set STACKYARD_${s.toUpperCase()} (\`stackyard up --keep\` prints it)`);
    if (!/^[^\s:]+:\d+$/.test(a)) return fail(`--${s} must be HOST:PORT, got "${a}"`);
    addresses[s] = a;
  }
  return { ok: true, request: { verb, site: f.site, limit, release: f.release, json: !!f.json, timeoutMs: timeout * 1000, addresses } };
}

/** `--limit a,b,grp`: comma-separated host names, host ids or groups (`all`: every host). Ansible's `:`, `&`, `!` patterns are refused. */
export function parseLimit(s: string): string[] | string {
  const terms = s.split(',').map((t) => t.trim()).filter(Boolean);
  if (!terms.length) return '--limit needs at least one host or group name';
  const bad = terms.find((t) => !/^[A-Za-z0-9_.-]+$/.test(t));
  if (bad) return `--limit "${bad}": only comma-separated host or group names are understood (no Ansible patterns with :, &, ! or *)`;
  return terms;
}

/** The hosts a limit selects, in the inventory's order; terms that select nothing are an error. */
export function selectHosts(hosts: readonly Host[], limit: readonly string[] | undefined): { hosts: Host[]; unknown: string[] } {
  if (!limit || limit.includes('all')) return { hosts: [...hosts], unknown: [] };
  const match = (h: Host, t: string) => h.name === t || h.id === t || h.groups.includes(t);
  return { hosts: hosts.filter((h) => limit.some((t) => match(h, t))), unknown: limit.filter((t) => !hosts.some((h) => match(h, t))) };
}

export type NodeVerb = 'hardware inspect' | 'provision' | 'deprovision';

/**
 * What a node needs from its provision state, as Kayobe's playbooks decide it:
 * - hardware inspect (overcloud-hardware-inspect.yml): the node must be in enroll, manageable, available
 *   or inspect failed; `manage` unless it is manageable, then `inspect`.
 * - provision (overcloud-provision.yml): enroll -> manage, manageable -> provide, available -> deploy;
 *   active is already provisioned; anything else fails.
 * - deprovision (overcloud-deprovision.yml): `undeploy` from active, deploy failed, wait call-back or
 *   error; available is already deprovisioned.
 * `actions` empty with no `refused`: nothing to do (`skip` says why).
 */
export function planFor(verb: NodeVerb, state: string): { actions: string[]; skip?: string; refused?: string } {
  if (verb === 'hardware inspect') {
    if (state === 'manageable') return { actions: ['inspect'] };
    if (state === 'enroll' || state === 'available' || state === 'inspect failed') return { actions: ['manage', 'inspect'] };
    return { actions: [], refused: `state ${state}: hardware inspect needs enroll, manageable, available or inspect failed` };
  }
  if (verb === 'provision') {
    if (state === 'active') return { actions: [], skip: 'already active' };
    if (state === 'enroll') return { actions: ['manage', 'provide', 'deploy'] };
    if (state === 'manageable') return { actions: ['provide', 'deploy'] };
    if (state === 'available') return { actions: ['deploy'] };
    return { actions: [], refused: `state ${state}: provision needs enroll, manageable, available (or active, skipped)` };
  }
  if (state === 'available') return { actions: [], skip: 'already available (deprovisioned)' };
  if (state === 'active' || state === 'deploy failed' || state === 'wait call-back' || state === 'error') return { actions: ['undeploy'] };
  return { actions: [], refused: `state ${state}: deprovision needs active, deploy failed, wait call-back or error` };
}

export type HostOutcomeKind = 'ok' | 'skipped' | 'refused' | 'failed' | 'timeout';

export interface HostRun {
  readonly host: string;
  readonly hostId: string;
  readonly before: string;
  readonly done: string[];
  readonly state: string;
  readonly outcome: HostOutcomeKind;
  readonly detail: string;
}

/** 1 when any host was refused or failed, else 2 when any timed out, else 0. */
export function exitCodeOf(runs: readonly { outcome: HostOutcomeKind }[]): number {
  if (runs.some((r) => r.outcome === 'refused' || r.outcome === 'failed')) return 1;
  return runs.some((r) => r.outcome === 'timeout') ? 2 : 0;
}

export function renderRuns(verb: NodeVerb, site: string, runs: readonly HostRun[], seconds: number): string[] {
  const rows = [['HOST', 'BEFORE', 'DONE', 'STATE', 'RESULT', 'DETAIL']];
  for (const r of runs) rows.push([r.host, r.before || '-', r.done.join(',') || '-', r.state || '-', r.outcome, r.detail]);
  const count = (k: HostOutcomeKind) => runs.filter((r) => r.outcome === k).length;
  const lines = ['', ...table(rows), ''];
  lines.push(`overcloud ${verb} of site ${site}: ${count('ok')} ok, ${count('skipped')} skipped, ${count('refused')} refused, ${count('failed')} failed, ${count('timeout')} timed out, in ${seconds.toFixed(1)} s`);
  const failed = runs.filter((r) => r.outcome === 'failed');
  if (failed.length) lines.push(`why: \`stackyard baremetal ${failed[0]!.hostId} show\`${failed.length > 1 ? ' (and the others)' : ''}`);
  return lines;
}

export function hostStateText(h: Host): string {
  return h.state === undefined || h.state === HostState.HOST_STATE_UNSPECIFIED ? '-' : (HostState[h.state] ?? String(h.state)).replace(/^HOST_STATE_/, '').toLowerCase();
}

/** The site's hosts by group, one section per group (as Kayobe's inventory/overcloud), sorted. */
export function renderInventory(site: string, hosts: readonly Host[]): string[] {
  const groups = [...new Set(hosts.flatMap((h) => h.groups))].sort();
  const lines = [`site ${site}: ${hosts.length} hosts in ${groups.length} groups`];
  for (const g of groups) {
    lines.push('', `[${g}]`);
    const rows = [['HOST', 'BMC DRIVER', 'BMC ADDRESS', 'STATE']];
    for (const h of hosts.filter((x) => x.groups.includes(g))) rows.push([h.name, h.bmc?.driver || '-', h.bmc?.address || '-', hostStateText(h)]);
    lines.push(...table(rows));
  }
  return lines;
}

export function inventoryJson(site: string, hosts: readonly Host[]) {
  const groups: Record<string, string[]> = {};
  for (const h of hosts) for (const g of h.groups) (groups[g] ??= []).push(h.name);
  return {
    site,
    groups: Object.fromEntries(Object.entries(groups).sort(([a], [b]) => a.localeCompare(b))),
    hosts: hosts.map((h) => ({ id: h.id, name: h.name, groups: h.groups, bmc: h.bmc ? { driver: h.bmc.driver, address: h.bmc.address } : null, state: hostStateText(h) })),
  };
}

/** One row per rendered file: host, its addresses (network=address), the file path. */
export function renderHostConfigs(rows: readonly { host: string; config: HostNetworkConfig | undefined }[]): string[] {
  const t = [['HOST', 'ADDRESSES', 'FILES']];
  for (const { host, config } of rows) {
    if (!config) {
      t.push([host, '-', 'not configured yet (the saga configures it once the node is provisioned)']);
      continue;
    }
    const addrs = config.allocations.map((a) => `${a.network}=${a.address}`).join(',') || '-';
    const files = config.files.map((f) => f.path);
    t.push([host, addrs, files[0] ?? '-']);
    for (const f of files.slice(1)) t.push(['', '', f]);
  }
  return table(t);
}

export function deploymentStateText(d: NodeDeployment | undefined): string {
  if (!d) return 'not deployed yet';
  return (NodeDeploymentState[d.state] ?? String(d.state)).replace(/^NODE_DEPLOYMENT_STATE_/, '').toLowerCase();
}

/** `service deploy`: 0 every node deployed, 1 some failed or removed, 2 some still on their way. */
export function deployExitCode(ds: readonly (NodeDeployment | undefined)[]): number {
  if (ds.some((d) => d && (d.state === NodeDeploymentState.NODE_DEPLOYMENT_STATE_FAILED || d.state === NodeDeploymentState.NODE_DEPLOYMENT_STATE_REMOVED))) return 1;
  return ds.every((d) => d?.state === NodeDeploymentState.NODE_DEPLOYMENT_STATE_DEPLOYED) ? 0 : 2;
}

export function renderDeployments(rows: readonly { host: string; hostId: string; deployment: NodeDeployment | undefined }[]): string[] {
  const t = [['HOST', 'STATE', 'CONTAINERS', 'DETAIL']];
  for (const { host, deployment: d } of rows) {
    const healthy = d ? d.containers.filter((c) => c.healthy).length : 0;
    const detail = !d
      ? 'its network is not configured yet'
      : d.state === NodeDeploymentState.NODE_DEPLOYMENT_STATE_FAILED && d.lastFailure
        ? `${d.lastFailure.reason}: ${d.lastFailure.message}`
        : d.state === NodeDeploymentState.NODE_DEPLOYMENT_STATE_WAITING && d.waiting
          ? `${d.waiting.reason}: ${d.waiting.message}`
          : '';
    t.push([host, deploymentStateText(d), d ? `${healthy}/${d.containers.length} healthy` : '-', detail]);
  }
  const lines = table(t);
  const failed = rows.find((r) => r.deployment?.state === NodeDeploymentState.NODE_DEPLOYMENT_STATE_FAILED);
  if (failed) lines.push(`deploy a failed node again: stackyard retry ${failed.hostId}`);
  return lines;
}

export function outcomeText(o: HostOutcome): string {
  return (HostOutcome[o] ?? String(o)).replace(/^HOST_OUTCOME_/, '').toLowerCase();
}

/** A site-wide operation's result: one row per host, then a summary. */
export function renderOperation(r: OperationResult): string[] {
  const t = [['HOST', 'OUTCOME', 'DETAIL']];
  for (const h of r.hosts) t.push([h.host, outcomeText(h.outcome), h.failure ? `${h.failure.reason}: ${h.failure.message}` : '']);
  const ok = r.hosts.filter((h) => h.outcome === HostOutcome.HOST_OUTCOME_OK).length;
  return [
    ...table(t),
    '',
    `${r.action} of site ${r.siteId} (release ${r.release || '-'}): ${ok}/${r.hosts.length} hosts ok${r.succeeded ? '' : '; failed'}${r.succeeded && r.action !== 'destroy' ? '; the inputs are recorded as applied' : ''}`,
  ];
}

/** The files of a `diff -u` (applied/<path> against generated/<path>): added, removed or changed. */
export function diffFiles(diff: string, changed: readonly string[]): { file: string; change: 'added' | 'removed' | 'changed' }[] {
  const lines = diff.split('\n');
  return changed.map((file) => {
    const i = lines.findIndex((l, k) => l.startsWith('+++ ') && (l === `+++ generated/${file}` || (l === '+++ /dev/null' && lines[k - 1] === `--- applied/${file}`)));
    const minus = i > 0 ? lines[i - 1] : undefined;
    return { file, change: minus === '--- /dev/null' ? 'added' : lines[i] === '+++ /dev/null' ? 'removed' : 'changed' };
  });
}

/** Per host: whether its host_vars change; the site files (globals.yml, the inventory) apart. */
export function renderDiffSummary(site: string, changed: readonly string[], diff: string, appliedAt: string): string[] {
  if (!changed.length) return [`site ${site}: the generated Kolla inputs equal the applied ones (applied ${appliedAt || 'never'}); reconfigure would change nothing`];
  const files = diffFiles(diff, changed);
  const t = [['FILE', 'HOST', 'CHANGE']];
  for (const f of files) {
    const host = /^inventory\/overcloud\/host_vars\/(.+)$/.exec(f.file)?.[1];
    t.push([f.file, host ?? '(site)', f.change]);
  }
  return [
    ...table(t),
    '',
    `site ${site}: ${changed.length} files differ from the applied inputs (${appliedAt ? `applied ${appliedAt}` : 'none applied yet'}); \`stackyard overcloud service reconfigure --site ${site}\` applies them`,
  ];
}
