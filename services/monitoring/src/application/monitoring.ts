import { EventEmitter } from 'node:events';
import { NotFoundError, ValidationError } from '@stackyard/errors';
import { Events, newEvent, type Envelope } from '@stackyard/events';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import { apply, durationMs, emptyProgress, requestAbort, requestRetry, type Fact, type ProgressData } from '../domain/progress';
import type { ProgressRepository } from './ports';

export const SERVICE = 'monitoring';

type Row = { data: ProgressData; version: number };

export class MonitoringService {
  /** Writes of this replica, pushed to watchers at once. */
  private readonly changes = new EventEmitter().setMaxListeners(0);

  constructor(private readonly progress: ProgressRepository) {}

  /** Applies one saga fact to the node's projection; publishes NodeReady when it becomes ready. */
  async record(env: Envelope, host: HostRef | undefined, fact: Fact, appliedKey: string): Promise<'applied' | 'duplicate'> {
    if (!host) throw new ValidationError('host', `${env.type} without host`);
    // A cached read is confirmed by the write (it conflicts if stale); a deleted node by a fresh read.
    let cur = await this.progress.get(host.hostId, { cached: true });
    if (cur?.data.deleted) cur = await this.progress.get(host.hostId);
    // A deleted host's node: only a new registration brings it back (afresh); other facts change nothing.
    const revived = cur?.data.deleted === true && fact.kind === 'step' && fact.step === 'registered';
    if (cur?.data.deleted && !revived) return 'duplicate';
    const base = cur && !revived ? cur.data : emptyProgress(host);
    const { progress, becameReady, signal } = apply(base, fact);
    const events: Envelope[] = [];
    if (becameReady) {
      events.push(newEvent({ type: Events.NodeReady, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, durationMs: durationMs(progress) }, cause: env }));
    }
    if (signal?.kind === 'degraded') {
      events.push(newEvent({ type: Events.NodeDegraded, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, reasons: signal.reasons }, cause: env }));
    } else if (signal?.kind === 'recovered') {
      events.push(newEvent({ type: Events.NodeRecovered, site: host.siteId, entityId: host.hostId, service: SERVICE, data: { host, degradedForMs: signal.degradedForMs }, cause: env }));
    }
    const w = await this.progress.save(progress, cur?.version, events, appliedKey);
    if (w.outcome === 'duplicate') return 'duplicate';
    this.changes.emit('change', { data: progress, version: w.version } satisfies Row);
    return 'applied';
  }

  /**
   * Operator retry: records it on the node and publishes NodeRetryRequested (one write: the outbox),
   * which the service owning the failed step reacts to. FAILED_PRECONDITION unless the node failed.
   */
  async retry(hostId: string, requestedBy: string): Promise<Row> {
    if (!hostId) throw new ValidationError('host_id', 'required');
    if (requestedBy.length > 200) throw new ValidationError('requested_by', 'at most 200 characters');
    const cur = await this.progress.get(hostId);
    if (!cur || cur.data.deleted) throw new NotFoundError('node progress', hostId);
    const { progress, step, attempt } = requestRetry(cur.data);
    const event = newEvent({
      type: Events.NodeRetryRequested,
      site: progress.host.siteId,
      entityId: hostId,
      service: SERVICE,
      data: { host: progress.host, step, attempt, requestedBy: requestedBy || 'operator' },
    });
    const w = await this.progress.save(progress, cur.version, [event], `retry-${attempt}`);
    if (w.outcome === 'duplicate') return (await this.progress.get(hostId)) ?? cur; // the same retry, asked twice at once
    const row = { data: progress, version: w.version };
    this.changes.emit('change', row);
    return row;
  }

  /**
   * Operator abort: marks the node aborting and publishes NodeAbortRequested; deployment, network and
   * provisioning then compensate in that order, and NodeDeprovisioned marks the node aborted.
   */
  async abort(hostId: string, requestedBy: string): Promise<Row> {
    if (!hostId) throw new ValidationError('host_id', 'required');
    if (requestedBy.length > 200) throw new ValidationError('requested_by', 'at most 200 characters');
    const cur = await this.progress.get(hostId);
    if (!cur || cur.data.deleted) throw new NotFoundError('node progress', hostId);
    const progress = requestAbort(cur.data);
    const event = newEvent({
      type: Events.NodeAbortRequested,
      site: progress.host.siteId,
      entityId: hostId,
      service: SERVICE,
      data: { host: progress.host, requestedBy: requestedBy || 'operator' },
    });
    const w = await this.progress.save(progress, cur.version, [event], 'abort');
    if (w.outcome === 'duplicate') return (await this.progress.get(hostId)) ?? cur;
    const row = { data: progress, version: w.version };
    this.changes.emit('change', row);
    return row;
  }

  async get(hostId: string) {
    if (!hostId) throw new ValidationError('host_id', 'required');
    const p = await this.progress.get(hostId);
    if (!p || p.data.deleted) throw new NotFoundError('node progress', hostId);
    return p;
  }

  async list(siteId: string) {
    return (await this.progress.list(siteId || undefined)).filter((r) => !r.data.deleted);
  }

  /**
   * Current progress of a site's nodes, then every change until `signal` aborts: this replica's
   * writes at once, other replicas' writes by a reconciliation query every `reconcileMs` for what
   * changed since the previous one, and a full re-read every `fullEveryMs` (what a replica whose
   * clock runs behind, or an older version during a rolling upgrade, wrote; only newer versions
   * are sent).
   */
  async watch(siteId: string, signal: AbortSignal, send: (p: Row) => void, reconcileMs = 5000, fullEveryMs = 60_000): Promise<void> {
    if (!siteId) throw new ValidationError('site_id', 'required');
    const seen = new Map<string, number>();
    const offer = (r: Row) => {
      if (r.data.host.siteId !== siteId || r.data.deleted || (seen.get(r.data.host.hostId) ?? 0) >= r.version) return;
      seen.set(r.data.host.hostId, r.version);
      send(r);
    };
    this.changes.on('change', offer);
    try {
      let since = new Date(0);
      let lastFull = 0;
      while (!signal.aborted) {
        const started = new Date();
        if (started.getTime() - lastFull >= fullEveryMs) {
          since = new Date(0);
          lastFull = started.getTime();
        }
        for (const r of await this.progress.changedSince(siteId, since)) offer(r);
        // Overlap by a second so a write that raced the query is read next time.
        since = new Date(started.getTime() - 1000);
        await new Promise<void>((res) => {
          const t = setTimeout(res, reconcileMs);
          signal.addEventListener('abort', () => {
            clearTimeout(t);
            res();
          }, { once: true });
        });
      }
    } finally {
      this.changes.off('change', offer);
    }
  }
}
