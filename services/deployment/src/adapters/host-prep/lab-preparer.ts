import { LabFaults } from '@stackyard/config';
import { StepFailedError } from '@stackyard/errors';
import { EMPTY_HOST_STATE, type HostPrepPlan, type HostState } from '../../domain/host-prep';
import type { HostPreparer, HostPrepTarget } from '../../application/ports';

type Mutable = {
  files: Record<string, string>;
  users: { name: string; groups: string[] }[];
  groups: string[];
  volumeGroups: { name: string; disks: string[]; logicalVolumes: string[] }[];
  mounts: string[];
  activeSwap: string[];
  packages: string[];
};

/**
 * The `lab` host preparer: each host's state is kept in memory (per process) and the plan's commands
 * are simulated (groupadd, useradd, usermod, vgcreate, vgextend, lvcreate, mount, swapon, package installs), so a second
 * run finds nothing to change. `failHosts` (LAB_HOST_PREP_FAIL_HOSTS): `<host>` always fails,
 * `<host>:<n>` fails its first n attempts (HostPrepFailed, not retryable).
 */
export class LabHostPreparer implements HostPreparer {
  readonly name = 'lab';
  private readonly hosts = new Map<string, Mutable>();

  private readonly faults: LabFaults;

  constructor(failHosts: readonly string[] = []) {
    this.faults = new LabFaults(failHosts);
  }

  /** The simulated state of a host (for tests). */
  stateOf(host: string): HostState {
    return this.hosts.get(host) ?? EMPTY_HOST_STATE;
  }

  /** Every plan applied to a host, in order (for tests: what the lab "ran"). */
  appliedTo(host: string): readonly HostPrepPlan[] {
    return this.applied.get(host) ?? [];
  }
  private readonly applied = new Map<string, HostPrepPlan[]>();


  async inspect(target: HostPrepTarget, paths: readonly string[], packages: readonly string[] = []): Promise<HostState> {
    if (this.faults.fails(target.host.name)) throw new StepFailedError('HostPrepFailed', `lab: host preparation of ${target.host.name} fails by configuration`, false);
    const s = this.hosts.get(target.host.name);
    if (!s) return EMPTY_HOST_STATE;
    const files = Object.fromEntries(paths.filter((p) => s.files[p] !== undefined).map((p) => [p, s.files[p]!]));
    return structuredClone({ ...s, files, packages: s.packages.filter((p) => packages.includes(p)) });
  }

  async apply(target: HostPrepTarget, plan: HostPrepPlan): Promise<void> {
    const s: Mutable = this.hosts.get(target.host.name) ?? { files: {}, users: [], groups: [], volumeGroups: [], mounts: [], activeSwap: [], packages: [] };
    for (const step of plan.steps) {
      if (step.kind === 'file') {
        s.files[step.path] = step.content;
        continue;
      }
      const a = step.argv;
      const last = a[a.length - 1]!;
      const opt = (name: string) => (a.includes(name) ? a[a.indexOf(name) + 1] : undefined);
      switch (a[0]) {
        case 'groupadd':
          if (!s.groups.includes(last)) s.groups.push(last);
          break;
        case 'useradd':
          s.users.push({ name: last, groups: (opt('--groups') ?? '').split(',').filter(Boolean) });
          break;
        case 'usermod': {
          const u = s.users.find((x) => x.name === last);
          if (u) u.groups.push(...(opt('--groups') ?? '').split(',').filter((g) => g && !u.groups.includes(g)));
          break;
        }
        case 'vgcreate':
          s.volumeGroups.push({ name: a[1]!, disks: a.slice(2), logicalVolumes: [] });
          break;
        case 'vgextend':
          s.volumeGroups.find((v) => v.name === a[1])?.disks.push(...a.slice(2));
          break;
        case 'lvcreate':
          s.volumeGroups.find((v) => v.name === last)?.logicalVolumes.push(opt('--name') ?? '');
          break;
        case 'mount':
          if (!s.mounts.includes(last)) s.mounts.push(last);
          break;
        case 'swapon':
          if (!s.activeSwap.includes(last)) s.activeSwap.push(last);
          break;
        case 'dnf':
        case 'apt-get': {
          // `dnf install -y <pkgs>` / `apt-get install -y <pkgs>`
          const pkgs = a.slice(a.indexOf('-y') + 1);
          if (a.includes('install')) s.packages.push(...pkgs.filter((p) => !s.packages.includes(p)));
          break;
        }
        default:
          break; // restarts, mkfs, mkswap, mkdir, sysctl, fallocate, chmod: nothing to remember
      }
    }
    this.hosts.set(target.host.name, s);
    this.applied.set(target.host.name, [...(this.applied.get(target.host.name) ?? []), plan]);
  }
}
