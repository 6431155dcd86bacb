import { LabFaults } from '@stackyard/config';
import { StepFailedError } from '@stackyard/errors';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { RenderedFile } from '@stackyard/proto/network/v1/network';
import type { NetworkApplier } from '../../application/ports';

/** The `lab` applier: keeps the files each simulated host would have and "verifies" its addresses. */
export class LabApplier implements NetworkApplier {
  readonly name = 'lab';
  readonly hosts = new Map<string, readonly RenderedFile[]>();

  /** `failHosts`: `<host>` always fails, `<host>:<n>` fails its first n attempts (a fault then fixed). */
  constructor(
    private readonly latencyMs: number,
    failHosts: readonly string[] = [],
  ) {
    this.faults = new LabFaults(failHosts);
  }

  private readonly faults: LabFaults;


  async apply(host: HostRef, files: readonly RenderedFile[], addresses: readonly string[]): Promise<void> {
    if (this.latencyMs) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (this.faults.fails(host.name)) {
      throw new StepFailedError('AddressVerificationFailed', `lab: ${host.name} did not come up with ${addresses.join(', ')}`, false);
    }
    this.hosts.set(host.hostId, files);
  }
}
