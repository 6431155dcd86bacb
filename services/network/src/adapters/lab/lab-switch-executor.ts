import { StepFailedError } from '@stackyard/errors';
import type { SwitchApplyResult, SwitchExecutor, SwitchTarget } from '../../application/ports';

/**
 * Configuration statements as a switch merges them: an indented line belongs to the last unindented
 * one before it (EOS/OS10 `interface ...` blocks); Junos `set` and NVUE `nv` lines stand alone.
 */
export function statements(config: string): string[] {
  let context = '';
  const out: string[] = [];
  for (const line of config.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line)) {
      out.push(`${context}\n${line.trim()}`);
    } else {
      context = line;
      out.push(line);
    }
  }
  return out;
}

/**
 * The `lab` switch executor: each simulated switch (per site and name) keeps the statements it was
 * given, merged as `configure`/`load merge` do (nothing is removed), and an apply reports whether it
 * added any: a second identical apply, or one limited to interfaces already configured so, is
 * `unchanged`.
 */
export class LabSwitchExecutor implements SwitchExecutor {
  readonly name = 'lab';
  /** The last configuration text each switch was given, by `<site>/<switch>`. */
  readonly switches = new Map<string, string>();
  private readonly running = new Map<string, Set<string>>();

  /** `failSwitches`: switch names whose apply always fails (an unreachable switch). */
  constructor(private readonly failSwitches: readonly string[] = []) {}

  async apply(target: SwitchTarget, config: string): Promise<SwitchApplyResult> {
    if (this.failSwitches.includes(target.name)) {
      throw new StepFailedError('HostUnreachable', `lab: switch ${target.name} (${target.address}) does not answer`, true);
    }
    const key = `${target.siteId}/${target.name}`;
    const running = this.running.get(key) ?? new Set<string>();
    this.running.set(key, running);
    this.switches.set(key, config);
    const given = statements(config);
    const added = given.filter((s) => !running.has(s));
    for (const s of added) running.add(s);
    return added.length === 0
      ? { outcome: 'unchanged', output: `lab: ${target.name}: all ${given.length} statement(s) already present` }
      : { outcome: 'changed', output: `lab: ${target.name}: ${added.length} of ${given.length} statement(s) new` };
  }
}
