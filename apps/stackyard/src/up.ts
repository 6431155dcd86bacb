import { join, resolve } from 'node:path';
import { REPO_ROOT } from '@stackyard/devinfra';
import { call } from '@stackyard/grpc';
import { DefineNetworkRequest } from '@stackyard/proto/network/v1/network_service';
import type { ImportKayobeConfigResponse } from '@stackyard/proto/inventory/v1/inventory_service';
import { uuidv7 } from '@stackyard/events';
import { NodeState, type NodeProgress } from '@stackyard/proto/monitoring/v1/monitoring';
import { clientsFor, type Clients } from './clients';
import { describeCallError, importOnce, renderImport } from './config-import';
import { startLocalCluster, type ServiceName } from './cluster';
import { followSite, loadSite } from './pipeline';
import { progressLine, table } from './output';
import { readSiteFile } from './site-file';

export interface UpOptions {
  readonly siteFile: string;
  /** Import this Kayobe configuration (etc/kayobe) instead of reading `siteFile`. */
  readonly kayobeConfig?: { readonly dir: string; readonly environment: string };
  readonly timeoutMs: number;
  readonly natsUrl: string | undefined;
  readonly mongoUrl: string | undefined;
  readonly json: boolean;
  /** Keep the platform running after the run (until SIGINT/SIGTERM), e.g. to look at the dashboard. */
  readonly keep: boolean;
  readonly env: Partial<Record<ServiceName, Record<string, string>>>;
  readonly out: (line: string) => void;
}


/** Site id of `up --kayobe-config` (a Kayobe configuration names no site). */
export const KAYOBE_SITE = 'kayobe';

/**
 * `up --kayobe-config`: a dry-run import (checks everything, shows the hosts), the imported networks
 * that have a cidr through DefineNetwork, then the import itself with register_hosts and lab BMCs.
 * Returns the ids of the registered hosts.
 */
async function loadKayobe(c: Clients, k: { dir: string; environment: string }, runId: string, say: (s: string) => void): Promise<string[]> {
  const base = { configPath: resolve(k.dir), environment: k.environment, siteId: KAYOBE_SITE, bmcDriver: 'lab', registerHosts: true };
  const plan = await importOnce(c.inventory, { ...base, dryRun: true });
  renderImport(plan).forEach(say);
  await defineImportedNetworks(c, plan, say);
  const r = await importOnce(c.inventory, { ...base, requestId: runId.replace(/-/g, '').slice(0, 32) });
  const skipped = r.hosts.filter((h) => !h.register).map((h) => h.name);
  if (skipped.length) say(`recorded without provisioning (not in group overcloud, which Kayobe provisions with Bifrost): ${skipped.join(', ')}`);
  return r.hosts.filter((h) => h.register).map((h) => h.hostId);
}

async function defineImportedNetworks(c: Clients, r: ImportKayobeConfigResponse, say: (s: string) => void): Promise<void> {
  for (const n of r.networks) {
    if (!n.cidr) {
      say(`warning: network ${n.name} has no cidr (${n.name}_cidr); not defined, hosts attached to it get no address on it`);
      continue;
    }
    if (!n.groups.length) {
      say(`warning: network ${n.name} is attached to no imported host; not defined`);
      continue;
    }
    const req = DefineNetworkRequest.fromPartial({
      network: {
        siteId: r.siteId,
        name: n.name,
        cidr: n.cidr,
        gateway: n.gateway,
        allocationPoolStart: n.allocationPoolStart,
        allocationPoolEnd: n.allocationPoolEnd,
        vlan: n.vlan,
        mtu: n.mtu,
        groups: n.groups,
        interface: n.interface,
      },
    });
    try {
      await call(c.network, c.network.defineNetwork, req);
    } catch (e) {
      throw new Error(`define network ${n.name}: ${(e as Error).message}`, { cause: e });
    }
  }
}


/**
 * The embedded default: start NATS, FerretDB and the five services on this machine, load a site,
 * follow every node to ready, print progress. Exit code 0 when every node is ready, 1 when some
 * failed, 2 on timeout, 3 when the platform could not start.
 */
export async function up(o: UpOptions): Promise<number> {
  const say = (s: string) => (o.json ? undefined : o.out(s));
  const site = o.kayobeConfig ? undefined : readSiteFile(o.siteFile);
  const siteId = site ? site.site.id : KAYOBE_SITE;
  const runId = uuidv7();
  const logDir = join(REPO_ROOT, '.stackyard', 'runs', runId);
  if (site) say(`stackyard up: site ${site.site.id} from ${o.siteFile}: ${site.hosts.length} hosts, ${site.networks.length} networks`);
  else say(`stackyard up: site ${siteId} from the Kayobe configuration ${resolve(o.kayobeConfig!.dir)}${o.kayobeConfig!.environment ? ` (environment ${o.kayobeConfig!.environment})` : ''}`);
  const started = Date.now();
  let cluster;
  try {
    cluster = await startLocalCluster({
      natsUrl: o.natsUrl,
      mongoUrl: o.mongoUrl,
      dbPrefix: `run_${runId.replace(/-/g, '').slice(0, 16)}`,
      logDir,
      env: o.env,
      say,
    });
  } catch (e) {
    o.out(`stackyard up: could not start the platform: ${(e as Error).message}`);
    return 3;
  }
  const s = cluster.services;
  const clients = clientsFor({ inventory: s.inventory.grpcPort, network: s.network.grpcPort, monitoring: s.monitoring.grpcPort });
  try {
    say(`platform ready in ${((Date.now() - started) / 1000).toFixed(1)} s; dashboard: http://127.0.0.1:${s.monitoring.httpPort}/?site=${siteId}; inventory: 127.0.0.1:${s.inventory.grpcPort}`);
    say(site ? 'registering hosts...' : 'importing the Kayobe configuration...');
    const t0 = Date.now();
    let ids: string[];
    if (site) ids = await loadSite(clients, site, runId);
    else {
      try {
        ids = await loadKayobe(clients, o.kayobeConfig!, runId, say);
      } catch (e) {
        // INVALID_ARGUMENT: the configuration was rejected (nothing imported), a usage error like a bad site file.
        o.out(`stackyard up: Kayobe import failed: ${describeCallError(e, `127.0.0.1:${s.inventory.grpcPort}`)}`);
        return (e as { code?: number }).code === 3 ? 64 : 3;
      }
    }
    if (ids.length === 0) {
      say('no host to provision: nothing to follow');
      return 0;
    }
    const nameWidth = Math.max(...ids.map((h) => h.length - siteId.length - 1));
    const outcome = await followSite(clients, siteId, ids, o.timeoutMs, (p: NodeProgress) =>
      say(progressLine(p, nameWidth, (Date.now() - t0) / 1000)),
    );
    const ready = outcome.nodes.filter((n) => n.state === NodeState.NODE_STATE_READY);
    const failed = outcome.nodes.filter((n) => n.state === NodeState.NODE_STATE_FAILED);
    const elapsed = (Date.now() - t0) / 1000;
    if (o.json) {
      o.out(
        JSON.stringify({
          site: siteId,
          outcome: outcome.kind,
          seconds: elapsed,
          nodes: outcome.nodes.map((n) => ({ host: n.host?.name, state: NodeState[n.state], failure: n.lastFailure })),
        }),
      );
    } else {
      say('');
      const rows = [['HOST', 'GROUPS', 'STATE', 'DETAIL']];
      for (const n of outcome.nodes) {
        const detail = n.lastFailure && n.state === NodeState.NODE_STATE_FAILED ? `${n.lastFailure.reason}: ${n.lastFailure.message}` : '';
        rows.push([n.host!.name, n.host!.groups.join(','), n.state === NodeState.NODE_STATE_READY ? 'ready' : n.state === NodeState.NODE_STATE_FAILED ? 'failed' : 'in progress', detail]);
      }
      table(rows).forEach(say);
      say('');
      say(`${ready.length}/${ids.length} nodes ready, ${failed.length} failed, in ${elapsed.toFixed(1)} s (logs: ${logDir})`);
    }
    if (outcome.kind === 'timeout') {
      say(`timed out after ${o.timeoutMs / 1000} s: the nodes above that are not ready are still in progress`);
      return 2;
    }
    return failed.length === 0 && ready.length === ids.length ? 0 : 1;
  } finally {
    clients.close();
    if (o.keep) {
      say(`still running (dashboard http://127.0.0.1:${s.monitoring.httpPort}/?site=${siteId}; STACKYARD_INVENTORY=127.0.0.1:${s.inventory.grpcPort} STACKYARD_MONITORING=127.0.0.1:${s.monitoring.grpcPort} STACKYARD_PROVISIONING=127.0.0.1:${s.provisioning.grpcPort} STACKYARD_NETWORK=127.0.0.1:${s.network.grpcPort} STACKYARD_DEPLOYMENT=127.0.0.1:${s.deployment.grpcPort}); Ctrl-C stops everything`);
      await new Promise<void>((res) => {
        process.once('SIGINT', res);
        process.once('SIGTERM', res);
      });
    }
    say('stopping services...');
    await cluster.stop();
  }
}
