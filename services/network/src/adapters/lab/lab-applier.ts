import { StepFailedError } from '@stackyard/errors';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { RenderedFile } from '@stackyard/proto/network/v1/network';
import type { NetworkApplier } from '../../application/ports';

/** The `lab` applier: keeps the files each simulated host would have and "verifies" its addresses. */
export class LabApplier implements NetworkApplier {
  readonly name = 'lab';
  readonly hosts = new Map<string, readonly RenderedFile[]>();
  private readonly attempts = new Map<string, number>();

  /** `failHosts`: `<host>` always fails, `<host>:<n>` fails its first n attempts (a fault then fixed). */
  constructor(
    private readonly latencyMs: number,
    private readonly failHosts: readonly string[] = [],
  ) {}

  private fails(host: string): boolean {
    const attempt = (this.attempts.get(host) ?? 0) + 1;
    this.attempts.set(host, attempt);
    if (this.failHosts.includes(host)) return true;
    const limited = this.failHosts.find((f) => f.startsWith(`${host}:`));
    return limited !== undefined && attempt <= Number(limited.slice(host.length + 1));
  }

  async apply(host: HostRef, files: readonly RenderedFile[], addresses: readonly string[]): Promise<void> {
    if (this.latencyMs) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (this.fails(host.name)) {
      throw new StepFailedError('AddressVerificationFailed', `lab: ${host.name} did not come up with ${addresses.join(', ')}`, false);
    }
    this.hosts.set(host.hostId, files);
  }
}
