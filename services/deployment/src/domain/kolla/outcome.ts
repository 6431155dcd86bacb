import { StepFailedError } from '@stackyard/errors';
import type { PlaybookResult } from './recap';

/** The kolla-ansible actions Stackyard runs (reference/kayobe.md §1.2: overcloud service deploy/reconfigure/upgrade/destroy). */
export const KOLLA_ACTIONS = ['deploy', 'reconfigure', 'upgrade', 'destroy'] as const;
export type KollaAction = (typeof KOLLA_ACTIONS)[number];

/**
 * A host that kolla-ansible did not bring to a good state. `reason` is one of:
 * - `KollaTaskFailed`: a task failed on the host (`fatal: [h]: FAILED!`); not retryable, the same run fails again.
 * - `HostUnreachable`: Ansible could not reach the host (SSH); retryable.
 * - `KollaRunIncomplete`: the run ended without a PLAY RECAP for the host (killed, crashed, or the host was
 *   not in the play); retryable.
 */
export class KollaHostError extends StepFailedError {
  constructor(
    reason: 'KollaTaskFailed' | 'HostUnreachable' | 'KollaRunIncomplete',
    readonly host: string,
    readonly task: string | undefined,
    readonly detail: string,
  ) {
    super(reason, `${host}: ${reason === 'HostUnreachable' ? 'unreachable' : reason === 'KollaTaskFailed' ? 'failed' : 'incomplete'}${task ? ` in task "${task}"` : ''}: ${detail}`, reason !== 'KollaTaskFailed');
  }
}

export type HostRun =
  | { readonly host: string; readonly outcome: 'ok' }
  | { readonly host: string; readonly outcome: 'failed' | 'unreachable' | 'incomplete'; readonly error: KollaHostError };

export interface Exit {
  readonly code: number | null;
  readonly signal: string | null;
}

const exitText = (e: Exit) => (e.signal ? `killed by ${e.signal}` : `exit code ${e.code ?? '?'}`);

/**
 * Per-host outcome of a kolla-ansible run over `hosts` (the ones it targeted), from the parsed
 * output and the process exit: recap ok → ok; failed → KollaTaskFailed with the first fatal task and
 * Ansible's message; unreachable → HostUnreachable; absent from the recap → KollaRunIncomplete.
 */
export function hostRuns(result: PlaybookResult, hosts: readonly string[], exit: Exit): HostRun[] {
  const byHost = new Map(result.hosts.map((h) => [h.host, h]));
  return hosts.map((host): HostRun => {
    const r = byHost.get(host);
    if (!r) {
      const why = result.complete ? `not in the PLAY RECAP (${exitText(exit)})` : `kolla-ansible ended without a PLAY RECAP (${exitText(exit)})`;
      return { host, outcome: 'incomplete', error: new KollaHostError('KollaRunIncomplete', host, undefined, why) };
    }
    if (r.outcome === 'ok') return { host, outcome: 'ok' };
    if (r.outcome === 'unreachable') {
      return { host, outcome: 'unreachable', error: new KollaHostError('HostUnreachable', host, r.failedTask, r.message ?? `unreachable=${r.unreachable}`) };
    }
    return { host, outcome: 'failed', error: new KollaHostError('KollaTaskFailed', host, r.failedTask, r.message ?? `failed=${r.failed}`) };
  });
}

/**
 * The command line of a kolla-ansible action. `destroy` needs `confirmed` (it removes every container
 * and volume on the hosts): the flag is only added then, and callers refuse before getting here.
 */
export function kollaArgv(bin: string, action: KollaAction, opts: { inventory: string; configDir: string; limit?: readonly string[]; confirmed?: boolean }): string[] {
  const argv = [bin, action, '-i', opts.inventory, '--configdir', opts.configDir];
  if (opts.limit?.length) argv.push('--limit', opts.limit.join(','));
  if (action === 'destroy' && opts.confirmed) argv.push('--yes-i-really-really-mean-it');
  return argv;
}

/**
 * Replaces every secret value in a line of output with `********`. Longest first, so a secret that
 * contains another is hidden whole. Values shorter than 4 characters are not secrets worth matching.
 */
export function redactor(secrets: Iterable<string>): (text: string) => string {
  const list = [...new Set([...secrets].filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  if (!list.length) return (t) => t;
  return (text) => {
    let out = text;
    for (const s of list) if (out.includes(s)) out = out.split(s).join('********');
    return out;
  };
}
