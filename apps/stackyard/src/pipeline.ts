import { call } from '@stackyard/grpc';
import { NodeState, type NodeProgress } from '@stackyard/proto/monitoring/v1/monitoring';
import type { Clients } from './clients';
import type { SiteFile } from './site-file';

/** Loads a site into a running Stackyard: the site, its networks, then its hosts (which starts the sagas). */
export async function loadSite(c: Clients, site: SiteFile, requestId: string): Promise<string[]> {
  const step = async <R>(what: string, p: Promise<R>): Promise<R> => {
    try {
      return await p;
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
    }
  };
  try {
    await call(c.inventory, c.inventory.createSite, { id: site.site.id, displayName: site.site.name });
  } catch (e) {
    if ((e as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw e;
  }
  for (const n of site.networks) {
    await step(`define network ${n.name}`, call(c.network, c.network.defineNetwork, {
      network: {
        siteId: site.site.id,
        name: n.name,
        cidr: n.cidr,
        gateway: n.gateway,
        allocationPoolStart: n.allocation_pool_start,
        allocationPoolEnd: n.allocation_pool_end,
        vlan: n.vlan,
        mtu: n.mtu,
        groups: n.groups,
        interface: n.interface,
        version: 0,
      },
    }));
  }
  const ids: string[] = [];
  for (const h of site.hosts) {
    const r = await step(`register host ${h.name}`, call(c.inventory, c.inventory.registerHost, {
      siteId: site.site.id,
      name: h.name,
      groups: h.groups,
      bmc: { address: h.bmc.address, driver: h.bmc.driver, credentialRef: h.bmc.credential_ref },
      labels: h.labels,
      hardwareProfile: h.profile,
      requestId: `${requestId}-${h.name}`,
    }));
    ids.push(r.host!.id);
  }
  return ids;
}

export type Outcome = { readonly kind: 'done'; readonly nodes: NodeProgress[] } | { readonly kind: 'timeout'; readonly nodes: NodeProgress[] };

/**
 * Follows a site's nodes through the monitoring WatchSite stream until every expected node is ready
 * or failed, calling `onChange` for each update.
 */
export function followSite(
  c: Clients,
  siteId: string,
  expected: readonly string[],
  timeoutMs: number,
  onChange: (p: NodeProgress) => void,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const latest = new Map<string, NodeProgress>();
    const stream = c.monitoring.watchSite({ siteId });
    let finished = false;
    const finish = (o: Outcome) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      stream.cancel();
      resolve(o);
    };
    const snapshot = () => expected.map((id) => latest.get(id)).filter((p): p is NodeProgress => p !== undefined);
    const timer = setTimeout(() => finish({ kind: 'timeout', nodes: snapshot() }), timeoutMs);
    stream.on('data', (m: { progress?: NodeProgress }) => {
      const p = m.progress;
      if (!p?.host) return;
      latest.set(p.host.hostId, p);
      onChange(p);
      const terminal = expected.every((id) => {
        const s = latest.get(id)?.state;
        // A node that went ready and then degraded has finished its pipeline too.
        return s === NodeState.NODE_STATE_READY || s === NodeState.NODE_STATE_FAILED || s === NodeState.NODE_STATE_DEGRADED;
      });
      if (terminal) finish({ kind: 'done', nodes: snapshot() });
    });
    stream.on('error', (e: { code?: number }) => {
      if (finished || e.code === 1 /* CANCELLED */) return;
      finished = true;
      clearTimeout(timer);
      reject(e);
    });
  });
}
