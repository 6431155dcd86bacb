import { StepFailedError } from '@stackyard/errors';
import type { Logger } from '@stackyard/telemetry';
import type { SwitchApplyResult, SwitchExecutor, SwitchTarget } from '../../application/ports';
import { VENDOR_NAMES } from '../../domain/switches';
import { runSsh, tail } from '@stackyard/ssh';
import { sessionId, vendorSession } from './switch-cli';

export interface SshSwitchExecutorOptions {
  readonly user: string;
  /** Path of the private key; only the path is passed to ssh. */
  readonly keyFile: string;
  readonly port: number;
  /** `accept-new`, `accept-new:<file>` or `<file>` (see SshTarget). */
  readonly knownHosts: string;
  readonly connectTimeoutS: number;
  readonly commandTimeoutMs: number;
  /** The ssh binary (default `ssh` from PATH). */
  readonly ssh?: string;
  readonly clock?: () => Date;
  readonly log?: Logger;
}

/**
 * The `ssh` switch executor: the system OpenSSH client (runSsh, shared with the host applier) runs the
 * vendor's CLI on the switch's management address and feeds it the session of switch-cli.ts. The CLI
 * exiting non-zero or printing a refusal is SwitchConfigRejected; ssh failures keep runSsh's reasons.
 * The vendors do not say reliably whether anything changed: the outcome is `applied`, with the
 * vendor's diff (where it prints one) as the output.
 */
export class SshSwitchExecutor implements SwitchExecutor {
  readonly name = 'ssh';

  constructor(private readonly opts: SshSwitchExecutorOptions) {}

  async apply(target: SwitchTarget, config: string): Promise<SwitchApplyResult> {
    const o = this.opts;
    const session = vendorSession(target.type, config, sessionId((o.clock ?? (() => new Date()))()));
    const t = {
      address: target.address,
      user: o.user,
      port: o.port,
      keyFile: o.keyFile,
      knownHosts: o.knownHosts,
      connectTimeoutS: o.connectTimeoutS,
      commandTimeoutMs: o.commandTimeoutMs,
      ...(o.ssh ? { ssh: o.ssh } : {}),
    };
    o.log?.info({ switch: target.name, address: target.address, type: target.type }, 'applying switch configuration');
    const r = await runSsh(t, session.remote, session.input);
    const said = `${r.stdout}\n${r.stderr}`;
    if (r.code !== 0 || session.rejected.test(said)) {
      const why = r.code !== 0 ? `exited ${r.code}` : 'refused a line';
      throw new StepFailedError('SwitchConfigRejected', `${target.name} (${VENDOR_NAMES[target.type]}, ${target.address}): \`${session.remote}\` ${why}: ${tail(said) || 'no output'}`, false);
    }
    return { outcome: 'applied', output: r.stdout.trim() };
  }
}
