import { createHash } from 'node:crypto';
import { LabFaults } from '@stackyard/config';
import { StepFailedError } from '@stackyard/errors';
import type { HardwareFacts } from '@stackyard/proto/inventory/v1/inventory';
import type { BareMetalDriver, DeployRequest, DriverCall, PowerAction, PowerState } from '../../application/ports';
import type { NodeData, Step } from '../../domain/node';

/** Hardware profiles of the simulated fleet. */
export const PROFILES: Readonly<Record<string, { cpus: number; cpuModel: string; memoryMib: number; disks: [string, number, boolean][]; nics: number }>> = {
  'controller-std': { cpus: 32, cpuModel: 'Intel Xeon Gold 6330', memoryMib: 262_144, disks: [['sda', 480, false], ['sdb', 960, false]], nics: 4 },
  'compute-std': { cpus: 64, cpuModel: 'AMD EPYC 7543', memoryMib: 524_288, disks: [['nvme0n1', 1920, false]], nics: 2 },
  'storage-dense': { cpus: 24, cpuModel: 'Intel Xeon Silver 4314', memoryMib: 131_072, disks: [['sda', 480, false], ['sdb', 16_000, true], ['sdc', 16_000, true]], nics: 4 },
};

export interface LabOptions {
  /** Simulated time per step, milliseconds. */
  readonly latencyMs: number;
  /** Probability (0..1) per step that the BMC times out (retryable). */
  readonly faultRate: number;
  /**
   * Deterministic faults, non-retryable: "<host name>:<step>" always fails that step;
   * "<host name>:<step>:<n>" fails its first n attempts (a fault an operator then fixes).
   */
  readonly failSteps: readonly string[];
  readonly seed: number;
}

function hash(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Locally administered MAC derived from the host id, stable across runs. */
export function labMac(hostId: string, index: number): string {
  const h = hash(`${hostId}/${index}`);
  const b = [0x52, 0x54, h[0]!, h[1]!, h[2]!, index & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * The `lab` driver: a simulated fleet with hardware profiles, latencies and injected faults, for the
 * embedded default, demos and benchmarks. Idempotent like a real BMC: enrolling twice is harmless.
 */
export class LabDriver implements BareMetalDriver {
  readonly name = 'lab';
  private readonly enrolled = new Set<string>();
  private readonly powered = new Map<string, PowerState>();
  /** Network data of each deployed node's config drive, as the lab received it. */
  readonly deployed = new Map<string, DeployRequest>();
  private readonly faults: LabFaults;
  private counter = 0;

  constructor(private readonly opts: LabOptions) {
    this.faults = new LabFaults(opts.failSteps);
  }

  private async step(node: NodeData, step: Step, signal?: AbortSignal): Promise<void> {
    await this.sleep(signal);
    const key = `${node.host.name}:${step}`;
    if (this.faults.fails(key)) {
      throw new StepFailedError(step === 'deploy' ? 'DeployImageFailed' : 'BmcError', `lab: ${step} of ${node.host.name} fails by configuration`, false);
    }
    if (this.opts.faultRate > 0) {
      const r = hash(`${this.opts.seed}/${node.host.hostId}/${step}/${this.counter++}`).readUInt32BE(0) / 0xffffffff;
      if (r < this.opts.faultRate) throw new StepFailedError('BmcTimeout', `lab: BMC ${node.bmcAddress} timed out during ${step}`, true);
    }
  }

  private async sleep(signal?: AbortSignal): Promise<void> {
    if (this.opts.latencyMs <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, this.opts.latencyMs);
      signal?.addEventListener('abort', () => {
        clearTimeout(t);
        reject(new StepFailedError('Timeout', 'lab: deadline passed', true));
      }, { once: true });
    });
  }

  async enroll(node: NodeData, call?: DriverCall): Promise<void> {
    await this.step(node, 'enroll', call?.signal);
    this.enrolled.add(node.host.hostId);
    if (!this.powered.has(node.host.hostId)) this.powered.set(node.host.hostId, 'off');
  }

  async inspect(node: NodeData, call?: DriverCall): Promise<HardwareFacts> {
    await this.step(node, 'inspect', call?.signal);
    const p = PROFILES[node.hardwareProfile] ?? PROFILES['compute-std']!;
    return {
      cpuCount: p.cpus,
      cpuModel: p.cpuModel,
      memoryMib: p.memoryMib,
      disks: p.disks.map(([name, sizeGib, rotational]) => ({ name, sizeGib, rotational })),
      nics: Array.from({ length: p.nics }, (_, i) => ({
        name: `eno${i + 1}`,
        macAddress: labMac(node.host.hostId, i),
        speedMbps: 25_000,
        lldpSwitch: `${node.host.siteId}-tor-${1 + (i % 2)}`,
        lldpPort: `Ethernet${1 + (hash(node.host.hostId).readUInt8(0) % 48)}`,
      })),
    };
  }

  async deploy(node: NodeData, request: DeployRequest, call?: DriverCall): Promise<void> {
    await this.step(node, 'deploy', call?.signal);
    this.deployed.set(node.host.hostId, request);
    this.powered.set(node.host.hostId, 'on');
  }

  async deprovision(node: NodeData, call?: DriverCall): Promise<void> {
    await this.sleep(call?.signal);
    this.deployed.delete(node.host.hostId);
    this.powered.set(node.host.hostId, 'off');
  }

  async power(node: NodeData, action: PowerAction, call?: DriverCall): Promise<void> {
    await this.sleep(call?.signal);
    this.powered.set(node.host.hostId, action === 'off' ? 'off' : 'on');
  }

  async powerState(node: NodeData): Promise<PowerState> {
    return this.powered.get(node.host.hostId) ?? 'unknown';
  }
}
