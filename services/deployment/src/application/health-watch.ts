import { isStackyardError } from '@stackyard/errors';
import { Events, newEvent } from '@stackyard/events';
import type { Container } from '@stackyard/proto/deployment/v1/deployment';
import type { Logger } from '@stackyard/telemetry';
import { SERVICE } from './deployment';
import type { ContainerRuntime, NodeDeploymentData, NodeDeploymentRepository, NodeHealth } from './ports';

export interface HealthWatchOptions {
  /** Nodes checked at once (runtime calls in flight). */
  readonly concurrency: number;
  readonly log: Pick<Logger, 'warn' | 'debug'>;
  readonly now?: () => Date;
}

/** What one round did, per node: unchanged, changed (written with NodeHealthChanged), or skipped. */
export interface HealthRound {
  readonly checked: number;
  readonly changed: number;
  /** Another writer (a replica's watch, an abort, a redeploy) got there first: nothing written. */
  readonly conflicts: number;
  readonly errors: number;
  /** The runtime cannot check health (kolla-ansible today): the round did nothing. */
  readonly unsupported: boolean;
}

/** The node's health as last recorded; a node with no record is healthy as deployed. */
export function recordedHealth(d: NodeDeploymentData): { healthy: boolean; unhealthy: string[] } {
  return { healthy: d.health?.healthy ?? true, unhealthy: (d.health?.unhealthyContainers ?? []).map((c) => c.name).sort() };
}

/**
 * Whether a check differs from the recorded health: healthy flipped, or another set of unhealthy
 * containers. Same health, no change (and no event).
 */
export function healthChanged(d: NodeDeploymentData, current: readonly Container[]): boolean {
  const before = recordedHealth(d);
  const unhealthy = current.filter((c) => !c.healthy).map((c) => c.name).sort();
  return before.healthy !== (unhealthy.length === 0) || before.unhealthy.join('\n') !== unhealthy.join('\n');
}

/**
 * The health watch of deployed nodes (Kolla's container health, reference/kayobe.md §7): every round
 * asks the runtime for the current health of each `deployed` node's containers and, when it changed,
 * writes it on the node deployment with NodeHealthChanged (one write: the outbox). The write is
 * version-checked against the version listed: with several replicas watching, one wins and the
 * others get a ConcurrencyError and skip the node.
 */
export class HealthWatch {
  private readonly now: () => Date;
  private warnedUnsupported = false;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly deployments: NodeDeploymentRepository,
    private readonly runtime: ContainerRuntime,
    private readonly opts: HealthWatchOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Checks every deployed node once, at most `concurrency` at a time. */
  async checkOnce(): Promise<HealthRound> {
    const result = { checked: 0, changed: 0, conflicts: 0, errors: 0, unsupported: false };
    if (this.warnedUnsupported) return { ...result, unsupported: true };
    const nodes = await this.deployments.listDeployed();
    let next = 0;
    const worker = async () => {
      while (next < nodes.length && !result.unsupported) {
        const node = nodes[next++]!;
        try {
          const outcome = await this.checkNode(node);
          if (outcome === 'unsupported') {
            result.unsupported = true;
            return;
          }
          result.checked++;
          if (outcome === 'changed') result.changed++;
          if (outcome === 'conflict') result.conflicts++;
        } catch (e) {
          result.errors++;
          this.opts.log.warn({ err: e, host: node.data.host.name }, 'health check failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.opts.concurrency, nodes.length)) }, worker));
    if (result.unsupported && !this.warnedUnsupported) {
      this.warnedUnsupported = true;
      this.opts.log.warn({ runtime: this.runtime.name }, `the ${this.runtime.name} runtime cannot check container health: the health watch skips it (no NodeHealthChanged)`);
    }
    return result;
  }

  private async checkNode(node: { data: NodeDeploymentData; version: number }): Promise<'unchanged' | 'changed' | 'conflict' | 'unsupported'> {
    const d = node.data;
    const current = await this.runtime.health(d.host, d.containers);
    if (current === 'unsupported') return 'unsupported';
    if (!healthChanged(d, current)) return 'unchanged';
    const checkedAt = this.now();
    const unhealthyContainers = current.filter((c) => !c.healthy);
    const health: NodeHealth = { healthy: unhealthyContainers.length === 0, unhealthyContainers, checkedAt: checkedAt.toISOString() };
    const event = newEvent({
      type: Events.NodeHealthChanged,
      site: d.host.siteId,
      entityId: d.host.hostId,
      service: SERVICE,
      data: { host: d.host, healthy: health.healthy, unhealthyContainers, checkedAtMs: checkedAt.getTime() },
      now: checkedAt,
    });
    try {
      await this.deployments.save({ ...d, health }, node.version, [event], '');
      return 'changed';
    } catch (e) {
      if (isStackyardError(e) && e.reason === 'ConcurrentModification') {
        this.opts.log.debug({ host: d.host.name }, 'health change written by another writer: skipped');
        return 'conflict';
      }
      throw e;
    }
  }

  /** Runs a round every `intervalMs` (the next one starts after the previous one ended). */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.timer || this.stopped) return;
    const tick = () => {
      this.round = this.checkOnce()
        .catch((e: unknown) => this.opts.log.warn({ err: e }, 'health round failed'))
        .finally(() => {
          this.round = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, intervalMs).unref();
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round;
  }
}
