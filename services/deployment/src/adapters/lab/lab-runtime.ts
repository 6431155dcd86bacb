import { StepFailedError } from '@stackyard/errors';
import type { Container } from '@stackyard/proto/deployment/v1/deployment';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { ContainerRuntime } from '../../application/ports';
import type { PlannedContainer } from '../../domain/catalogue';

/** The `lab` runtime: simulated containers with a start latency and health checks. */
export class LabRuntime implements ContainerRuntime {
  readonly name = 'lab';
  constructor(
    private readonly latencyPerContainerMs: number,
    private readonly failHosts: readonly string[] = [],
  ) {}

  async deploy(host: HostRef, containers: readonly PlannedContainer[], addresses: readonly string[]): Promise<Container[]> {
    if (addresses.length === 0) throw new StepFailedError('NoAddress', `${host.name} has no address to bind services to`, false);
    if (this.latencyPerContainerMs) await new Promise((r) => setTimeout(r, this.latencyPerContainerMs * containers.length));
    if (this.failHosts.includes(host.name)) {
      throw new StepFailedError('ContainerStartFailed', `lab: containers on ${host.name} fail by configuration`, false);
    }
    return containers.map((c) => ({ service: c.service, name: c.name, healthy: true }));
  }
}
