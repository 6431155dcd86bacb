import { StepFailedError } from '@stackyard/errors';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { RenderedFile } from '@stackyard/proto/network/v1/network';
import type { Logger } from '@stackyard/telemetry';
import type { NetworkApplier } from '../../application/ports';
import type { NetworkEngine } from '../../domain/render';
import { reloadCommand, writeScript } from './remote-script';
import { runSsh, shellQuote, tail, type SshTarget } from '@stackyard/ssh';

export interface SshApplierOptions {
  readonly user: string;
  /** Path of the private key; only the path is passed to ssh, the key is never read or logged here. */
  readonly keyFile: string;
  readonly port: number;
  /** `accept-new`, `accept-new:<file>` or `<file>` (see SshTarget). */
  readonly knownHosts: string;
  readonly connectTimeoutS: number;
  readonly commandTimeoutMs: number;
  /** Run the write and reload steps through `sudo -n` (a user other than root). */
  readonly sudo: boolean;
  /** Root the rendered paths are written under (`/` on real hosts; a directory in tests). */
  readonly root: string;
  readonly engine: NetworkEngine;
  /** Prefix of rendered file names (NETWORKD_FILE_PREFIX): stale `<prefix>*` files are removed. */
  readonly filePrefix: string;
  /** Replaces the engine's reload command (`{devices}`, `{files}`, `{connections}` are substituted). */
  readonly reloadCommand?: string;
  /** How long the expected addresses may take to appear. */
  readonly verifyTimeoutMs: number;
  /** Pause between two reads of the host's addresses (default 1000 ms). */
  readonly verifyIntervalMs?: number;
  /** The ssh binary (default `ssh` from PATH). */
  readonly ssh?: string;
  readonly log?: Logger;
}

/** sbin directories are not on a non-root user's PATH on Debian: the tools live there. */
const PATH_PREFIX = 'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; export PATH; ';

/** Addresses (`local`) of every interface in `ip -j addr show` output. */
export function addressesOf(ipJson: string): Set<string> {
  const links = JSON.parse(ipJson) as { ifname?: string; addr_info?: { local?: string }[] }[];
  if (!Array.isArray(links)) throw new Error('not a JSON list');
  return new Set(links.flatMap((l) => (l.addr_info ?? []).flatMap((a) => (a.local ? [a.local] : []))));
}

/**
 * The `ssh` applier: what Kayobe's network roles do on a host (reference/kayobe.md §3.7), over the
 * system OpenSSH client to the host's admin address.
 * 1. write: one `sh -s` session writes every file atomically (temporary name, mode, rename), removes
 *    stale `<prefix>*` files and those of the previous apply (remote-script.ts `writeScript`);
 * 2. reload: the engine's command (remote-script.ts `reloadCommand`). A connection lost during the
 *    reload (the admin interface itself was reconfigured) is not a failure: verification decides;
 * 3. verify: reads `ip -j addr show` until every expected address is on some interface, for at most
 *    `verifyTimeoutMs`.
 * Failures: HostUnreachable (retryable), SshAuthFailed, SshHostKeyRejected, NoAdminAddress,
 * NetworkWriteFailed, NetworkReloadFailed, AddressVerificationFailed (not retryable).
 */
export class SshApplier implements NetworkApplier {
  readonly name = 'ssh';

  constructor(private readonly opts: SshApplierOptions) {}

  private target(address: string): SshTarget {
    const o = this.opts;
    return { address, user: o.user, port: o.port, keyFile: o.keyFile, knownHosts: o.knownHosts, connectTimeoutS: o.connectTimeoutS, commandTimeoutMs: o.commandTimeoutMs, ssh: o.ssh };
  }

  /** `sh <args>` on the host, as root through `sudo -n` when configured. */
  private shell(args: string): string {
    return `${this.opts.sudo ? 'sudo -n ' : ''}sh ${args}`;
  }

  async apply(host: HostRef, files: readonly RenderedFile[], addresses: readonly string[], adminAddress?: string): Promise<void> {
    if (!adminAddress) {
      throw new StepFailedError('NoAdminAddress', `ssh applier: host ${host.name} has no address on the admin network (admin_oc_net_name) to connect to`, false);
    }
    const t = this.target(adminAddress);
    const log = this.opts.log?.child({ host: host.name, hostId: host.hostId, address: adminAddress });
    const layout = { root: this.opts.root, prefix: this.opts.filePrefix, engine: this.opts.engine };

    let script: string;
    try {
      script = writeScript(files, layout);
    } catch (e) {
      throw new StepFailedError('NetworkWriteFailed', `${host.name}: ${(e as Error).message}`, false);
    }
    const written = await runSsh(t, this.shell('-s'), script);
    if (written.code !== 0) {
      throw new StepFailedError('NetworkWriteFailed', `${host.name} (${adminAddress}): writing ${files.length} files failed with exit ${written.code}: ${tail(written.stderr)}`, false);
    }
    const removed = written.stdout.split('\n').filter((l) => l.startsWith('removed ')).map((l) => l.slice('removed '.length));
    log?.info({ files: files.length, removed }, 'network files written');

    const reload = reloadCommand(files, { ...layout, override: this.opts.reloadCommand });
    try {
      const r = await runSsh(t, this.shell(`-c ${shellQuote(PATH_PREFIX + reload)}`));
      if (r.code !== 0) {
        throw new StepFailedError('NetworkReloadFailed', `${host.name} (${adminAddress}): \`${reload}\` failed with exit ${r.code}: ${tail(r.stderr)}`, false);
      }
    } catch (e) {
      if (!(e instanceof StepFailedError && e.reason === 'HostUnreachable')) throw e;
      // The reload may take the admin interface down and up: the verification below waits for it.
      log?.warn({ err: e.message }, 'connection lost during the reload; verifying');
    }

    await this.verify(host, t, addresses);
    log?.info({ addresses }, 'network applied and verified');
  }

  private async verify(host: HostRef, t: SshTarget, expected: readonly string[]): Promise<void> {
    const deadline = Date.now() + this.opts.verifyTimeoutMs;
    const interval = this.opts.verifyIntervalMs ?? 1000;
    let missing: string[] = [...expected];
    let lastProblem: StepFailedError | undefined;
    for (;;) {
      try {
        const r = await runSsh(t, `sh -c ${shellQuote(`${PATH_PREFIX}ip -j addr show`)}`);
        if (r.code !== 0) throw new StepFailedError('AddressVerificationFailed', `${host.name}: \`ip -j addr show\` failed with exit ${r.code}: ${tail(r.stderr)}`, false);
        let present: Set<string>;
        try {
          present = addressesOf(r.stdout);
        } catch (e) {
          throw new StepFailedError('AddressVerificationFailed', `${host.name}: cannot read \`ip -j addr show\` output (${(e as Error).message})`, false);
        }
        missing = expected.filter((a) => !present.has(a));
        lastProblem = undefined;
        if (missing.length === 0) return;
      } catch (e) {
        if (!(e instanceof StepFailedError && e.reason === 'HostUnreachable')) throw e;
        lastProblem = e; // the host may be bringing its admin interface back up
      }
      if (Date.now() + interval > deadline) break;
      await new Promise((r) => setTimeout(r, interval));
    }
    if (lastProblem) throw lastProblem;
    throw new StepFailedError(
      'AddressVerificationFailed',
      `${host.name} (${t.address}): ${missing.join(', ')} not present on any interface after ${this.opts.verifyTimeoutMs} ms`,
      false,
    );
  }
}
