import { call, insecure, withToken } from '@stackyard/grpc';
import { uuidv7 } from '@stackyard/events';
import type { Host } from '@stackyard/proto/inventory/v1/inventory';
import { InventoryServiceClient } from '@stackyard/proto/inventory/v1/inventory_service';
import type { Node } from '@stackyard/proto/provisioning/v1/provisioning';
import { ProvisioningServiceClient } from '@stackyard/proto/provisioning/v1/provisioning_service';
import type { HostNetworkConfig } from '@stackyard/proto/network/v1/network';
import { NetworkServiceClient } from '@stackyard/proto/network/v1/network_service';
import type { NodeDeployment, OperationResult } from '@stackyard/proto/deployment/v1/deployment';
import { DeploymentServiceClient } from '@stackyard/proto/deployment/v1/deployment_service';
import { stateText } from './baremetal';
import { describeCallError } from './config-import';
import {
  deployExitCode,
  deploymentStateText,
  diffFiles,
  exitCodeOf,
  inventoryJson,
  outcomeText,
  planFor,
  renderDeployments,
  renderDiffSummary,
  renderHostConfigs,
  renderInventory,
  renderOperation,
  renderRuns,
  selectHosts,
  type HostRun,
  type NodeVerb,
  type OvercloudRequest,
  type ServiceName,
} from './overcloud-plan';

/** `stackyard overcloud ...`: Kayobe's overcloud verbs on a running platform's gRPC APIs. */
export interface OvercloudIo {
  readonly token: string | undefined;
  /** Channel credentials (TLS, mutual TLS); plaintext when absent. */
  readonly credentials?: ReturnType<typeof insecure> | undefined;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** How often a node is polled while an action runs (default 500 ms). */
  readonly pollMs?: number;
  /** ListHosts page size (default 500, the most the service gives). */
  readonly pageSize?: number;
}

const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
const NOT_FOUND = 5;

/** A call error the command cannot get past: which service it was, for the message and exit code 3. */
class CallFailed extends Error {
  constructor(
    readonly service: ServiceName,
    readonly error: unknown,
  ) {
    super('call failed');
  }
}

type Meta = { metadata?: ReturnType<typeof withToken> };

export async function overcloud(r: OvercloudRequest, io: OvercloudIo): Promise<number> {
  const meta: Meta = io.token ? { metadata: withToken(io.token) } : {};
  const a = r.addresses;
  const creds = io.credentials ?? insecure();
  const inventory = a.inventory ? new InventoryServiceClient(a.inventory, creds) : undefined;
  const provisioning = a.provisioning ? new ProvisioningServiceClient(a.provisioning, creds) : undefined;
  const network = a.network ? new NetworkServiceClient(a.network, creds) : undefined;
  const deployment = a.deployment ? new DeploymentServiceClient(a.deployment, creds) : undefined;
  const ctx: Ctx = { r, io, meta, inventory, provisioning, network, deployment };
  try {
    switch (r.verb) {
      case 'inventory':
        return await inventoryCmd(ctx);
      case 'hardware inspect':
      case 'provision':
      case 'deprovision':
        return await nodeVerb(ctx, r.verb);
      case 'host configure':
        return await hostConfigure(ctx);
      case 'service deploy':
        return await serviceDeploy(ctx);
      case 'service diff':
        return await serviceDiff(ctx);
      case 'service reconfigure':
      case 'service upgrade':
      case 'service destroy':
        return await siteOperation(ctx, r.verb);
    }
    throw new Error(`unknown overcloud verb ${String(r.verb)}`);
  } catch (e) {
    const service = e instanceof CallFailed ? e.service : 'inventory';
    const error = e instanceof CallFailed ? e.error : e;
    const code = (error as { code?: number }).code;
    const msg = describeCallError(error, a[service] ?? '', service);
    if (r.json) io.out(JSON.stringify({ error: { service, code: code ?? null, message: msg } }));
    io.err(`stackyard overcloud ${r.verb}: ${msg}`);
    return code === UNAVAILABLE || code === DEADLINE_EXCEEDED || code === undefined ? 3 : code === 3 /* INVALID_ARGUMENT */ ? 64 : 1;
  } finally {
    inventory?.close();
    provisioning?.close();
    network?.close();
    deployment?.close();
  }
}

interface Ctx {
  readonly r: OvercloudRequest;
  readonly io: OvercloudIo;
  readonly meta: Meta;
  readonly inventory: InventoryServiceClient | undefined;
  readonly provisioning: ProvisioningServiceClient | undefined;
  readonly network: NetworkServiceClient | undefined;
  readonly deployment: DeploymentServiceClient | undefined;
}

async function guard<T>(service: ServiceName, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw new CallFailed(service, e);
  }
}

/** Every host of the site: ListHosts, page after page. */
async function listHosts(c: Ctx): Promise<Host[]> {
  const inv = c.inventory!;
  const hosts: Host[] = [];
  let pageToken = '';
  do {
    const page = await guard('inventory', call(inv, inv.listHosts, { siteId: c.r.site, group: '', pageSize: c.io.pageSize ?? 500, pageToken }, c.meta));
    hosts.push(...page.hosts);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return hosts;
}

/** The site's hosts, narrowed by --limit; an exit code (after saying why) when there is nothing to act on: 1 no hosts, 64 a --limit term matches nothing. */
async function targets(c: Ctx): Promise<Host[] | number> {
  const all = await listHosts(c);
  if (!all.length) {
    c.io.err(`stackyard overcloud ${c.r.verb}: site ${c.r.site} has no hosts. Check the site id (\`stackyard nodes --site ${c.r.site}\`), or load hosts (\`stackyard config import DIR --site ${c.r.site}\`, \`stackyard up --site FILE\`)`);
    return 1;
  }
  const { hosts, unknown } = selectHosts(all, c.r.limit);
  if (unknown.length) {
    c.io.err(`stackyard overcloud ${c.r.verb}: --limit ${unknown.join(',')}: no such host or group in site ${c.r.site} (hosts: ${all.map((h) => h.name).join(', ')})`);
    return 64;
  }
  return hosts;
}

async function inventoryCmd(c: Ctx): Promise<number> {
  const all = await listHosts(c);
  const { hosts, unknown } = selectHosts(all, c.r.limit);
  if (all.length && unknown.length) {
    c.io.err(`stackyard overcloud inventory: --limit ${unknown.join(',')}: no such host or group in site ${c.r.site} (hosts: ${all.map((h) => h.name).join(', ')})`);
    return 64;
  }
  if (c.r.json) c.io.out(JSON.stringify(inventoryJson(c.r.site, hosts)));
  else if (!all.length) c.io.err(`stackyard overcloud inventory: site ${c.r.site} has no hosts. Check the site id, or load hosts (\`stackyard config import DIR --site ${c.r.site}\`)`);
  else renderInventory(c.r.site, hosts).forEach(c.io.out);
  return all.length ? 0 : 1;
}

/** hardware inspect / provision / deprovision: per host, the NodeActions its state needs, each waited for. */
async function nodeVerb(c: Ctx, verb: NodeVerb): Promise<number> {
  const hosts = await targets(c);
  if (typeof hosts === 'number') return hosts;
  const t0 = Date.now();
  const deadline = t0 + c.r.timeoutMs;
  const width = Math.max(...hosts.map((h) => h.name.length));
  const say = (h: Host, s: string) => (c.r.json ? undefined : c.io.out(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s  ${h.name.padEnd(width)}  ${s}`));
  if (!c.r.json) c.io.out(`overcloud ${verb} of site ${c.r.site}: ${hosts.length} host${hosts.length === 1 ? '' : 's'} (through provisioning's NodeAction, each step waited for)`);
  const runs = await pool(hosts, 16, (h) => runHost(c, verb, h, deadline, say));
  if (c.r.json) c.io.out(JSON.stringify({ site: c.r.site, verb, seconds: (Date.now() - t0) / 1000, hosts: runs }));
  else renderRuns(verb, c.r.site, runs, (Date.now() - t0) / 1000).forEach(c.io.out);
  return exitCodeOf(runs);
}

async function runHost(c: Ctx, verb: NodeVerb, h: Host, deadline: number, say: (h: Host, s: string) => void): Promise<HostRun> {
  const prov = c.provisioning!;
  const done: string[] = [];
  const base = { host: h.name, hostId: h.id };
  let node: Node;
  try {
    node = (await call(prov, prov.getNode, { hostId: h.id }, c.meta)).node!;
  } catch (e) {
    if ((e as { code?: number }).code !== NOT_FOUND) throw new CallFailed('provisioning', e);
    say(h, 'skipped: no bare-metal node (recorded in the inventory only, not registered)');
    return { ...base, before: '', done, state: '', outcome: 'skipped', detail: 'no bare-metal node: the host is recorded, not registered' };
  }
  const before = stateText(node.state);
  if (node.pendingAction) {
    say(h, `refused: ${node.pendingAction} under way`);
    return { ...base, before, done, state: before, outcome: 'refused', detail: `${node.pendingAction} under way; wait for it (\`stackyard baremetal ${h.id} show\`)` };
  }
  const plan = planFor(verb, before);
  if (plan.refused) {
    say(h, `refused: ${plan.refused}`);
    return { ...base, before, done, state: before, outcome: 'refused', detail: plan.refused };
  }
  if (!plan.actions.length) {
    say(h, `skipped: ${plan.skip}`);
    return { ...base, before, done, state: before, outcome: 'skipped', detail: plan.skip ?? '' };
  }
  let state = before;
  for (const action of plan.actions) {
    let requestId: string;
    try {
      requestId = (await call(prov, prov.nodeAction, { hostId: h.id, action }, c.meta)).requestId;
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (code === UNAVAILABLE || code === DEADLINE_EXCEEDED) throw new CallFailed('provisioning', e);
      const msg = describeCallError(e, c.r.addresses.provisioning ?? '', 'provisioning');
      say(h, `${action} refused: ${msg}`);
      return { ...base, before, done, state, outcome: 'refused', detail: `${action}: ${msg}` };
    }
    say(h, `${action} ...`);
    for (;;) {
      await new Promise((res) => setTimeout(res, c.io.pollMs ?? 500));
      const n = await guard('provisioning', call(prov, prov.getNode, { hostId: h.id }, c.meta)).then((x) => x.node!);
      state = stateText(n.state);
      if (n.lastAction?.requestId === requestId) {
        const f = n.lastAction.failure;
        if (f) {
          say(h, `${action} FAILED: ${f.reason}: ${f.message} (now ${state})`);
          return { ...base, before, done, state, outcome: 'failed', detail: `${action}: ${f.reason}: ${f.message}` };
        }
        done.push(action);
        say(h, `${action} done: ${state}`);
        break;
      }
      if (Date.now() > deadline) {
        say(h, `${action} still running (${state}) at the timeout`);
        return { ...base, before, done, state, outcome: 'timeout', detail: `${action} still running; follow it with \`stackyard baremetal ${h.id} show\`` };
      }
    }
  }
  return { ...base, before, done, state, outcome: 'ok', detail: '' };
}

/** Runs fn over items, at most n at a time, results in the items' order. */
async function pool<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** Each host's network as the network service rendered it in the saga (GetHostNetworkConfig). */
async function hostConfigure(c: Ctx): Promise<number> {
  const hosts = await targets(c);
  if (typeof hosts === 'number') return hosts;
  const net = c.network!;
  const rows = await pool(hosts, 8, async (h) => {
    try {
      return { host: h.name, hostId: h.id, config: (await call(net, net.getHostNetworkConfig, { hostId: h.id }, c.meta)).config as HostNetworkConfig | undefined };
    } catch (e) {
      if ((e as { code?: number }).code === NOT_FOUND) return { host: h.name, hostId: h.id, config: undefined };
      throw new CallFailed('network', e);
    }
  });
  const missing = rows.filter((x) => !x.config);
  if (c.r.json) {
    c.io.out(JSON.stringify({ site: c.r.site, hosts: rows.map((x) => ({ host: x.host, hostId: x.hostId, configured: !!x.config, allocations: x.config?.allocations.map((a) => ({ network: a.network, address: a.address })) ?? [], files: x.config?.files.map((f) => f.path) ?? [] })) }));
  } else {
    c.io.out(`Stackyard configures host networks within the node saga (after provisioning, before services), so there is nothing to run here: this is what the network service rendered for site ${c.r.site}.`);
    c.io.out('');
    renderHostConfigs(rows).forEach(c.io.out);
    c.io.out('');
    c.io.out(`${rows.length - missing.length}/${rows.length} hosts configured${missing.length ? `; follow the others with \`stackyard watch --site ${c.r.site}\`` : ''}`);
  }
  return missing.length ? 1 : 0;
}

/**
 * `service deploy`: the saga deploys each node's Kolla services once its network is configured, so this
 * reports each node from GetNodeDeployment; reconfigure applies changed inputs to the whole site.
 */
async function serviceDeploy(c: Ctx): Promise<number> {
  const hosts = await targets(c);
  if (typeof hosts === 'number') return hosts;
  const d = c.deployment!;
  const rows = await pool(hosts, 8, async (h) => {
    try {
      return { host: h.name, hostId: h.id, deployment: (await call(d, d.getNodeDeployment, { hostId: h.id }, c.meta)).deployment as NodeDeployment | undefined };
    } catch (e) {
      if ((e as { code?: number }).code === NOT_FOUND) return { host: h.name, hostId: h.id, deployment: undefined };
      throw new CallFailed('deployment', e);
    }
  });
  if (c.r.json) {
    c.io.out(JSON.stringify({ site: c.r.site, hosts: rows.map((x) => ({ host: x.host, hostId: x.hostId, state: deploymentStateText(x.deployment), containers: x.deployment?.containers ?? [], failure: x.deployment?.lastFailure ?? null })) }));
  } else {
    c.io.out(`Stackyard deploys each node's Kolla services within the node saga (kolla-ansible deploy --limit <host> once its network is configured); this is each node's deployment in site ${c.r.site}. To apply changed configuration everywhere: stackyard overcloud service reconfigure --site ${c.r.site}`);
    c.io.out('');
    renderDeployments(rows).forEach(c.io.out);
  }
  return deployExitCode(rows.map((x) => x.deployment));
}

async function serviceDiff(c: Ctx): Promise<number> {
  const d = c.deployment!;
  const r = await guard('deployment', call(d, d.diffConfig, { siteId: c.r.site }, c.meta));
  if (c.r.json) {
    c.io.out(JSON.stringify({ site: c.r.site, appliedAt: r.appliedAt || null, files: diffFiles(r.diff, r.changedFiles), diff: r.diff }));
    return 0;
  }
  if (r.diff) r.diff.replace(/\n$/, '').split('\n').forEach(c.io.out);
  if (r.diff) c.io.out('');
  renderDiffSummary(c.r.site, r.changedFiles, r.diff, r.appliedAt).forEach(c.io.out);
  return 0;
}

/** reconfigure / upgrade / destroy: one site-wide kolla-ansible run, a result per host. */
async function siteOperation(c: Ctx, verb: 'service reconfigure' | 'service upgrade' | 'service destroy'): Promise<number> {
  const d = c.deployment!;
  const requestId = uuidv7();
  const opts = { ...c.meta, deadlineMs: c.r.timeoutMs };
  const action = verb.slice('service '.length);
  if (!c.r.json) c.io.out(`overcloud service ${action} of site ${c.r.site}${c.r.release ? ` to release ${c.r.release}` : ''}: kolla-ansible ${action} over every host of the site (request ${requestId})...`);
  let result: OperationResult | undefined;
  try {
    if (verb === 'service reconfigure') result = (await call(d, d.reconfigure, { siteId: c.r.site, requestId }, opts)).result;
    else if (verb === 'service upgrade') result = (await call(d, d.upgrade, { siteId: c.r.site, release: c.r.release ?? '', requestId }, opts)).result;
    else result = (await call(d, d.destroy, { siteId: c.r.site, confirm: c.r.site, requestId }, opts)).result;
  } catch (e) {
    if ((e as { code?: number }).code === DEADLINE_EXCEEDED) {
      const msg = `no result after ${c.r.timeoutMs / 1000} s; kolla-ansible may still be running on the deployment service. \`stackyard overcloud service diff --site ${c.r.site}\` shows whether the inputs were applied; a longer --timeout waits more`;
      if (c.r.json) c.io.out(JSON.stringify({ error: { service: 'deployment', code: DEADLINE_EXCEEDED, message: msg } }));
      c.io.err(`stackyard overcloud ${verb}: ${msg}`);
      return 2;
    }
    throw new CallFailed('deployment', e);
  }
  const r = result!;
  if (c.r.json) {
    c.io.out(JSON.stringify({ site: r.siteId, action: r.action, release: r.release, succeeded: r.succeeded, hosts: r.hosts.map((h) => ({ host: h.host, outcome: outcomeText(h.outcome), failure: h.failure ?? null })) }));
  } else renderOperation(r).forEach(c.io.out);
  return r.succeeded ? 0 : 1;
}
