import { call, insecure, withToken } from '@stackyard/grpc';
import { MonitoringServiceClient } from '@stackyard/proto/monitoring/v1/monitoring_service';
import { NodeState, StepState, type NodeProgress } from '@stackyard/proto/monitoring/v1/monitoring';
import { isRefusal } from './access';
import { describeCallError } from './config-import';
import { progressLine, stateName, table } from './output';

/** `stackyard nodes | node show | retry | watch`: talk to a running monitoring service. */
export interface NodeCommandOptions {
  readonly monitoring: string;
  readonly token: string | undefined;
  /** Channel credentials (TLS, mutual TLS); plaintext when absent. */
  readonly credentials?: ReturnType<typeof insecure> | undefined;
  readonly json: boolean;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

function client(o: NodeCommandOptions) {
  return new MonitoringServiceClient(o.monitoring, o.credentials ?? insecure());
}
const opts = (o: NodeCommandOptions) => (o.token ? { metadata: withToken(o.token) } : {});

function json(p: NodeProgress) {
  return {
    hostId: p.host?.hostId,
    name: p.host?.name,
    site: p.host?.siteId,
    groups: p.host?.groups,
    state: stateName(p),
    retries: p.retries,
    steps: p.steps.map((s) => ({ name: s.name, state: StepState[s.state], at: s.atMs ? new Date(s.atMs).toISOString() : null })),
    failure: p.lastFailure ?? null,
  };
}

async function guarded(o: NodeCommandOptions, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    o.err(`stackyard: ${describeCallError(e, o.monitoring, 'monitoring')}`);
    const code = (e as { code?: number }).code;
    return code === 3 /* INVALID_ARGUMENT */ ? 64 : code === 5 /* NOT_FOUND */ || code === 9 /* FAILED_PRECONDITION */ || isRefusal(code) ? 1 : 3;
  }
}

/** Lists a site's nodes: exit 0 when all are ready, 1 when some failed, 2 when some are in progress. */
export function listNodes(site: string, o: NodeCommandOptions): Promise<number> {
  return guarded(o, async () => {
    const c = client(o);
    try {
      const nodes = (await call(c, c.listNodeProgress, { siteId: site }, opts(o))).nodes;
      if (o.json) o.out(JSON.stringify(nodes.map(json)));
      else {
        const rows = [['HOST', 'GROUPS', 'STATE', 'STEP', 'DETAIL']];
        for (const n of nodes) {
          const done = n.steps.filter((s) => s.state === StepState.STEP_STATE_DONE);
          const f = n.state === NodeState.NODE_STATE_FAILED && n.lastFailure ? `${n.lastFailure.step}: ${n.lastFailure.reason}: ${n.lastFailure.message}` : '';
          rows.push([n.host!.name, n.host!.groups.join(','), stateName(n), done[done.length - 1]?.name ?? '', f]);
        }
        table(rows).forEach(o.out);
        o.out(`${nodes.length} nodes: ${nodes.filter((n) => n.state === NodeState.NODE_STATE_READY).length} ready, ${nodes.filter((n) => n.state === NodeState.NODE_STATE_FAILED).length} failed`);
      }
      if (nodes.some((n) => n.state === NodeState.NODE_STATE_FAILED)) return 1;
      return nodes.every((n) => n.state === NodeState.NODE_STATE_READY) ? 0 : 2;
    } finally {
      c.close();
    }
  });
}

/** One node's pipeline, step by step, with times and the failure. */
export function showNode(hostId: string, o: NodeCommandOptions): Promise<number> {
  return guarded(o, async () => {
    const c = client(o);
    try {
      const p = (await call(c, c.getNodeProgress, { hostId }, opts(o))).progress!;
      if (o.json) o.out(JSON.stringify(json(p)));
      else {
        o.out(`${p.host!.name} (${p.host!.hostId}) site ${p.host!.siteId}, groups ${p.host!.groups.join(', ')}: ${stateName(p)}${p.retries ? `, ${p.retries} retries` : ''}`);
        const rows = [['STEP', 'STATE', 'AT']];
        for (const s of p.steps) rows.push([s.name, StepState[s.state].replace('STEP_STATE_', '').toLowerCase(), s.atMs ? new Date(s.atMs).toISOString() : '']);
        table(rows).forEach((l) => o.out(`  ${l}`));
        if (p.state === NodeState.NODE_STATE_FAILED && p.lastFailure) {
          o.out(`failed at ${p.lastFailure.step}: ${p.lastFailure.reason}: ${p.lastFailure.message}`);
          o.out(`retry this step: stackyard retry ${p.host!.hostId}`);
        }
      }
      return p.state === NodeState.NODE_STATE_FAILED ? 1 : 0;
    } finally {
      c.close();
    }
  });
}

/** Runs a failed node's failed step again. */
export function retryNode(hostId: string, requestedBy: string, o: NodeCommandOptions): Promise<number> {
  return guarded(o, async () => {
    const c = client(o);
    try {
      const p = (await call(c, c.retryNode, { hostId, requestedBy }, opts(o))).progress!;
      if (o.json) o.out(JSON.stringify(json(p)));
      else o.out(`${p.host!.name}: retry ${p.retries} requested; follow it with: stackyard watch --site ${p.host!.siteId}`);
      return 0;
    } finally {
      c.close();
    }
  });
}

/** Aborts a node: its compensations run in reverse order (services, addresses, deprovision). */
export function abortNode(hostId: string, requestedBy: string, o: NodeCommandOptions): Promise<number> {
  return guarded(o, async () => {
    const c = client(o);
    try {
      const p = (await call(c, c.abortNode, { hostId, requestedBy }, opts(o))).progress!;
      if (o.json) o.out(JSON.stringify(json(p)));
      else o.out(`${p.host!.name}: aborting (services removed, addresses released, node deprovisioned); follow it with: stackyard watch --site ${p.host!.siteId}`);
      return 0;
    } finally {
      c.close();
    }
  });
}

/** Follows a site live (until Ctrl-C, or until every node is ready or failed with --until-done). */
export function watchSite(site: string, untilDone: boolean, o: NodeCommandOptions): Promise<number> {
  return guarded(o, async () => {
    // The site's nodes now: with --until-done, the watch ends only when each of them is settled.
    const lister = client(o);
    const known = await call(lister, lister.listNodeProgress, { siteId: site }, opts(o)).finally(() => lister.close());
    return new Promise<number>((resolve, reject) => {
        const c = client(o);
        const latest = new Map<string, NodeProgress>(known.nodes.map((n) => [n.host!.hostId, n]));
        const stream = c.watchSite({ siteId: site }, opts(o).metadata);
        const stop = (code: number) => {
          stream.cancel();
          c.close();
          resolve(code);
        };
        process.once('SIGINT', () => stop(0));
        stream.on('data', (m: { progress?: NodeProgress }) => {
          const p = m.progress;
          if (!p?.host) return;
          latest.set(p.host.hostId, p);
          o.out(o.json ? JSON.stringify(json(p)) : progressLine(p, 12));
          const all = [...latest.values()];
          if (untilDone && all.every((n) => n.state !== NodeState.NODE_STATE_IN_PROGRESS && n.state !== NodeState.NODE_STATE_ABORTING)) {
            stop(all.some((n) => n.state === NodeState.NODE_STATE_FAILED) ? 1 : 0);
          }
        });
        stream.on('error', (e: { code?: number }) => (e.code === 1 ? undefined : reject(e)));
    });
  });
}
