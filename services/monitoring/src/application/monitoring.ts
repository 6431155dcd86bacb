import { NotFoundError, ValidationError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import { apply, durationMs, emptyProgress, type Fact } from '../domain/progress';
import type { ProgressRepository } from './ports';

export const SERVICE = 'monitoring';

export class MonitoringService {
  constructor(private readonly progress: ProgressRepository) {}

  /** Applies one saga fact to the node's projection; publishes NodeReady when it becomes ready. */
  async record(env: Envelope, host: HostRef | undefined, fact: Fact, appliedKey: string): Promise<'applied' | 'duplicate'> {
    if (!host) throw new ValidationError('host', `${env.type} without host`);
    const cur = await this.progress.get(host.hostId);
    const base = cur?.data ?? emptyProgress(host);
    const { progress, becameReady } = apply(base, fact);
    const events = becameReady
      ? [newEvent({ type: Events.NodeReady, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, durationMs: durationMs(progress) }, cause: env })]
      : [];
    const w = await this.progress.save(progress, cur?.version, events, appliedKey);
    return w.outcome === 'duplicate' ? 'duplicate' : 'applied';
  }

  async get(hostId: string) {
    if (!hostId) throw new ValidationError('host_id', 'required');
    const p = await this.progress.get(hostId);
    if (!p) throw new NotFoundError('node progress', hostId);
    return p;
  }

  list(siteId: string) {
    return this.progress.list(siteId || undefined);
  }

  /** Current progress of a site's nodes, then every change until `signal` aborts. */
  async watch(siteId: string, signal: AbortSignal, send: (p: { data: import('../domain/progress').ProgressData; version: number }) => void, pollMs = 200): Promise<void> {
    if (!siteId) throw new ValidationError('site_id', 'required');
    const seen = new Map<string, number>();
    let since = new Date(0);
    while (!signal.aborted) {
      const rows = await this.progress.changedSince(siteId, since);
      for (const r of rows) {
        if (r.updatedAt > since) since = r.updatedAt;
        if ((seen.get(r.data.host.hostId) ?? 0) >= r.version) continue;
        seen.set(r.data.host.hostId, r.version);
        send(r);
      }
      await new Promise<void>((res) => {
        const t = setTimeout(res, pollMs);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          res();
        }, { once: true });
      });
    }
  }
}
