import { LabFaults } from '@stackyard/config';
import { StepFailedError, ValidationError } from '@stackyard/errors';
import type { Container } from '@stackyard/proto/deployment/v1/deployment';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { ContainerRuntime, HostRunResult, RuntimeOperation, RuntimeRunResult } from '../../application/ports';
import type { PlannedContainer } from '../../domain/catalogue';

/** The `lab` runtime: simulated containers with a start latency and health checks. */
export class LabRuntime implements ContainerRuntime {
  readonly name = 'lab';
  readonly usesInputs = false;
  /** Every call, in order: `deploy` of one node and `run` of an action, with the hosts it targeted (tests assert batching). */
  readonly calls: { readonly action: string; readonly hosts: readonly string[] }[] = [];
  /** Host name -> the container names reported unhealthy (`'*'`: all of them). */
  private readonly unhealthy = new Map<string, Set<string>>();
  private readonly faults: LabFaults;
  /**
   * `failHosts`: `<host>` always fails, `<host>:<n>` fails its first n deploys (a fault then fixed).
   * `unhealthyHosts` (LAB_UNHEALTHY_HOSTS): `<host>` reports every container unhealthy to the health
   * check, `<host>:<container>` that container; deploys still succeed (it goes wrong after deploy).
   */
  constructor(
    private readonly latencyPerContainerMs: number,
    failHosts: readonly string[] = [],
    unhealthyHosts: readonly string[] = [],
  ) {
    this.faults = new LabFaults(failHosts);
    for (const entry of unhealthyHosts) {
      const [host, container] = entry.split(':', 2) as [string, string | undefined];
      this.markUnhealthy(host, container ? [container] : undefined);
    }
  }

  /** Makes a host's containers (all when `containers` is absent) report unhealthy from now on. */
  markUnhealthy(host: string, containers?: readonly string[]): void {
    const set = this.unhealthy.get(host) ?? new Set<string>();
    for (const c of containers?.length ? containers : ['*']) set.add(c);
    this.unhealthy.set(host, set);
  }

  /** Makes every container of a host report healthy again. */
  markHealthy(host: string): void {
    this.unhealthy.delete(host);
  }

  /** Healthy unless the host is marked (LAB_UNHEALTHY_HOSTS or markUnhealthy). */
  async health(host: HostRef, containers: readonly Container[]): Promise<Container[]> {
    const sick = this.unhealthy.get(host.name);
    return containers.map((c) => ({ service: c.service, name: c.name, healthy: !sick || !(sick.has('*') || sick.has(c.name)) }));
  }


  async deploy(host: HostRef, containers: readonly PlannedContainer[], addresses: readonly string[]): Promise<Container[]> {
    this.calls.push({ action: 'deploy', hosts: [host.name] });
    if (addresses.length === 0) throw new StepFailedError('NoAddress', `${host.name} has no address to bind services to`, false);
    if (this.latencyPerContainerMs) await new Promise((r) => setTimeout(r, this.latencyPerContainerMs * containers.length));
    if (this.faults.fails(host.name)) {
      throw new StepFailedError('ContainerStartFailed', `lab: containers on ${host.name} fail by configuration`, false);
    }
    return containers.map((c) => ({ service: c.service, name: c.name, healthy: true }));
  }

  /**
   * Simulates a site-wide action: hosts in `LAB_FAIL_HOSTS` fail, the others come out ok. `deploy` (the
   * control plane's batch) counts attempts as `deploy` does (`<host>:<n>`) and takes as long as the
   * host with most containers (the hosts run in parallel).
   */
  async run(op: RuntimeOperation): Promise<RuntimeRunResult> {
    if (op.action === 'destroy' && op.confirm !== true) throw new ValidationError('confirm', 'destroy needs an explicit confirmation');
    const hosts = op.limit?.length ? op.limit : op.inputs.hosts;
    this.calls.push({ action: op.action, hosts: [...hosts] });
    const most = op.action === 'deploy' ? Math.max(1, ...hosts.map((h) => op.containers[h]?.length ?? 0)) : 1;
    if (this.latencyPerContainerMs) await new Promise((r) => setTimeout(r, this.latencyPerContainerMs * most));
    return {
      action: op.action,
      hosts: hosts.map((host): HostRunResult => {
        if (op.action === 'deploy' ? this.faults.fails(host) : this.faults.always(host)) {
          return { host, outcome: 'failed', containers: [], error: new StepFailedError('ContainerStartFailed', `lab: ${op.action} on ${host} fails by configuration`, false) };
        }
        const planned = op.action === 'destroy' ? [] : (op.containers[host] ?? []);
        return { host, outcome: 'ok', containers: planned.map((c) => ({ service: c.service, name: c.name, healthy: true })) };
      }),
    };
  }
}
