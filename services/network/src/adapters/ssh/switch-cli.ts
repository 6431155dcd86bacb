/**
 * How the rendered configuration is fed to each vendor's CLI over ssh: one remote command (the CLI)
 * reading the session from stdin. The session enters configuration mode, loads the lines, shows the
 * vendor's diff where it has one (its output is returned to the caller) and commits.
 *
 * | type     | remote command | session                                                                      |
 * |----------|----------------|------------------------------------------------------------------------------|
 * | arista   | `Cli -p 15`    | `configure session <id>`, the lines, `show session-config diffs`, `commit`  |
 * | dellos10 | `clish`        | `configure terminal`, the lines, `end`, `write memory`                       |
 * | junos    | `cli`          | `configure private`, the set lines, `show \| compare`, `commit and-quit`     |
 * | nvue     | `sh -s`        | `set -e`, then the rendered `nv set ...` lines and `nv config apply`         |
 *
 * The switch account must start a shell (EOS `bash`, OS10 linuxadmin, Junos a shell user, Cumulus
 * any user) from which that CLI is on PATH. Junos takes the set format in configuration mode
 * directly (no `load set terminal`, which needs an end-of-input mark the session cannot send).
 */
import type { SwitchType } from '../../domain/switches';

export interface VendorSession {
  /** The remote command (run by the login shell). */
  readonly remote: string;
  /** Fed on stdin. */
  readonly input: string;
  /** Output lines by which the vendor CLI reports a refused line even when it exits 0. */
  readonly rejected: RegExp;
}

/** Session names: EOS accepts letters, digits, `-` and `_`. */
export function sessionId(now: Date): string {
  return `stackyard-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}`;
}

const lines = (config: string): string => (config.endsWith('\n') || config === '' ? config : `${config}\n`);

export function vendorSession(type: SwitchType, config: string, id: string): VendorSession {
  switch (type) {
    case 'arista':
      return {
        remote: 'Cli -p 15',
        input: `configure session ${id}\n${lines(config)}show session-config diffs\ncommit\n`,
        rejected: /^% ?(Invalid|Incomplete|Ambiguous|Error|Unavailable)/m,
      };
    case 'dellos10':
      return {
        remote: 'clish',
        input: `configure terminal\n${lines(config)}end\nwrite memory\n`,
        rejected: /^% ?(Error|Invalid|Incomplete|Ambiguous)/m,
      };
    case 'junos':
      return {
        remote: 'cli',
        input: `configure private\n${lines(config)}show | compare\ncommit and-quit\n`,
        rejected: /^(error:|syntax error|\s+\^\s*$)/m,
      };
    case 'nvue':
      return { remote: 'sh -s', input: `set -e\n${lines(config)}`, rejected: /^Error:/m };
  }
}
