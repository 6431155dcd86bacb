import { join } from 'node:path';
import { REPO_ROOT } from '@stackyard/devinfra';
import { uuidv7 } from '@stackyard/events';
import { NodeState, type NodeProgress } from '@stackyard/proto/monitoring/v1/monitoring';
import { clientsFor } from './clients';
import { startLocalCluster, type ServiceName } from './cluster';
import { currentStep, doneSteps, followSite, loadSite } from './pipeline';
import { readSiteFile } from './site-file';

export interface UpOptions {
  readonly siteFile: string;
  readonly timeoutMs: number;
  readonly natsUrl: string | undefined;
  readonly mongoUrl: string | undefined;
  readonly json: boolean;
  /** Keep the platform running after the run (until SIGINT/SIGTERM), e.g. to look at the dashboard. */
  readonly keep: boolean;
  readonly env: Partial<Record<ServiceName, Record<string, string>>>;
  readonly out: (line: string) => void;
}

const TOTAL_STEPS = 7;

function bar(done: number): string {
  return `[${'#'.repeat(done)}${'.'.repeat(TOTAL_STEPS - done)}]`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

/**
 * The embedded default: start NATS, FerretDB and the five services on this machine, load a site,
 * follow every node to ready, print progress. Exit code 0 when every node is ready, 1 when some
 * failed, 2 on timeout, 3 when the platform could not start.
 */
export async function up(o: UpOptions): Promise<number> {
  const say = (s: string) => (o.json ? undefined : o.out(s));
  const site = readSiteFile(o.siteFile);
  const runId = uuidv7();
  const logDir = join(REPO_ROOT, '.stackyard', 'runs', runId);
  say(`stackyard up: site ${site.site.id} from ${o.siteFile}: ${site.hosts.length} hosts, ${site.networks.length} networks`);
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
    say(`platform ready in ${((Date.now() - started) / 1000).toFixed(1)} s; dashboard: http://127.0.0.1:${s.monitoring.httpPort}/?site=${site.site.id}`);
    say('registering hosts...');
    const t0 = Date.now();
    const ids = await loadSite(clients, site, runId);
    const nameWidth = Math.max(...site.hosts.map((h) => h.name.length));
    const outcome = await followSite(clients, site.site.id, ids, o.timeoutMs, (p: NodeProgress) => {
      const t = ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
      const state =
        p.state === NodeState.NODE_STATE_FAILED
          ? `FAILED ${p.lastFailure?.step}: ${p.lastFailure?.reason}: ${p.lastFailure?.message}`
          : currentStep(p);
      say(`${t}s  ${p.host!.name.padEnd(nameWidth)}  ${bar(doneSteps(p))}  ${state}`);
    });
    const ready = outcome.nodes.filter((n) => n.state === NodeState.NODE_STATE_READY);
    const failed = outcome.nodes.filter((n) => n.state === NodeState.NODE_STATE_FAILED);
    const elapsed = (Date.now() - t0) / 1000;
    if (o.json) {
      o.out(
        JSON.stringify({
          site: site.site.id,
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
      say(`still running (dashboard http://127.0.0.1:${s.monitoring.httpPort}/?site=${site.site.id}); Ctrl-C stops everything`);
      await new Promise<void>((res) => {
        process.once('SIGINT', res);
        process.once('SIGTERM', res);
      });
    }
    say('stopping services...');
    await cluster.stop();
  }
}
