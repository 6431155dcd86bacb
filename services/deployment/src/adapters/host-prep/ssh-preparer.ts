import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { StepFailedError } from '@stackyard/errors';
import type { Logger } from '@stackyard/telemetry';
import type { HostPrepPlan, HostState } from '../../domain/host-prep';
import type { HostPreparer, HostPrepTarget } from '../../application/ports';
import { runSsh, shellQuote, tail, type SshTarget } from '@stackyard/ssh';

export interface SshHostPreparerOptions {
  readonly user: string;
  readonly keyFile: string;
  readonly port: number;
  readonly knownHosts: string;
  readonly connectTimeoutS: number;
  readonly commandTimeoutMs: number;
  /** Run the scripts as root through `sudo -n`. */
  readonly sudo: boolean;
  /** Root the files are read and written under (`/` on real hosts; a directory in tests). Commands are not rooted. */
  readonly root: string;
  /** Directories put first on the remote PATH (tests: stand-ins for useradd, lvcreate, …). */
  readonly pathPrepend?: readonly string[];
  readonly ssh?: string;
  readonly log?: Logger;
}

const b64 = (s: string): string[] => Buffer.from(s, 'utf8').toString('base64').match(/.{1,76}/g) ?? [];

function checkPath(p: string): void {
  if (!p.startsWith('/') || posix.normalize(p) !== p || p.endsWith('/')) throw new StepFailedError('HostPrepWriteFailed', `path ${JSON.stringify(p)} is not a normalised absolute path`, false);
}

/** Parses the probe's output (sections `@passwd`, `@group`, `@pvs`, `@lvs`, `@mounts`, `@swaps`, `@packages`, `@file <path>`). */
export function parseProbe(out: string): HostState {
  const sections: { name: string; lines: string[] }[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('@')) sections.push({ name: line.slice(1), lines: [] });
    else if (line.trim() !== '') sections.at(-1)?.lines.push(line);
  }
  const lines = (name: string) => sections.filter((s) => s.name === name).flatMap((s) => s.lines);
  const groupLines = lines('group').map((l) => l.split(':'));
  const gidName = new Map(groupLines.map((g) => [g[2] ?? '', g[0] ?? '']));
  const users = lines('passwd').map((l) => {
    const [name = '', , , gid = ''] = l.split(':');
    const groups = groupLines.filter((g) => (g[3] ?? '').split(',').includes(name)).map((g) => g[0] ?? '');
    const primary = gidName.get(gid);
    return { name, groups: primary && !groups.includes(primary) ? [primary, ...groups] : groups };
  });
  const words = (l: string) => l.trim().split(/\s+/);
  const vgs = new Map<string, { name: string; disks: string[]; logicalVolumes: string[] }>();
  const vg = (name: string) => vgs.get(name) ?? vgs.set(name, { name, disks: [], logicalVolumes: [] }).get(name)!;
  for (const l of lines('pvs')) {
    const [name, pv] = words(l);
    if (name && pv) vg(name).disks.push(pv);
  }
  for (const l of lines('lvs')) {
    const [name, lv] = words(l);
    if (name && lv) vg(name).logicalVolumes.push(lv);
  }
  const files: Record<string, string> = {};
  for (const s of sections) if (s.name.startsWith('file ')) files[s.name.slice(5)] = Buffer.from(s.lines.join(''), 'base64').toString('utf8');
  return {
    files,
    users,
    groups: groupLines.map((g) => g[0] ?? '').filter(Boolean),
    volumeGroups: [...vgs.values()],
    mounts: lines('mounts').map((l) => l.trim()),
    activeSwap: lines('swaps').map((l) => l.trim()),
    packages: lines('packages').map((l) => l.trim()),
  };
}

/**
 * The `ssh` host preparer: over the system OpenSSH client to the host's internal address.
 * - inspect: one `sh -s` reads /etc/passwd and /etc/group, `pvs`/`lvs`, `findmnt`, `swapon --show`,
 *   the engine packages installed (`rpm -q` or `dpkg-query`) and the files the plan manages (base64);
 * - apply: one `sh -s` (`set -e`) runs the plan's steps in order: each file to a temporary name in
 *   its directory, mode and owner set, then renamed over the target; each command as its quoted argv.
 * Failures: HostUnreachable (retryable), SshAuthFailed, SshHostKeyRejected, NoAddress,
 * HostPrepProbeFailed, HostPrepCommandFailed (names the command, its exit and stderr) (not retryable).
 */
export class SshHostPreparer implements HostPreparer {
  readonly name = 'ssh';

  constructor(private readonly opts: SshHostPreparerOptions) {}

  private target(t: HostPrepTarget): SshTarget {
    if (!t.address) throw new StepFailedError('NoAddress', `ssh host preparer: ${t.host.name} has no address to connect to`, false);
    const o = this.opts;
    return { address: t.address, user: o.user, port: o.port, keyFile: o.keyFile, knownHosts: o.knownHosts, connectTimeoutS: o.connectTimeoutS, commandTimeoutMs: o.commandTimeoutMs, ...(o.ssh ? { ssh: o.ssh } : {}) };
  }

  private preamble(): string[] {
    const root = this.opts.root === '/' ? '' : this.opts.root.replace(/\/+$/, '');
    const prepend = (this.opts.pathPrepend ?? []).map((d) => `${shellQuote(d)}:`).join('');
    return [`R=${shellQuote(root)}`, 'STACKYARD_ROOT="$R"; export STACKYARD_ROOT', `PATH=${prepend}"$PATH:/usr/local/sbin:/usr/sbin:/sbin"; export PATH`];
  }

  private remote(): string {
    return `${this.opts.sudo ? 'sudo -n ' : ''}sh -s`;
  }

  async inspect(target: HostPrepTarget, paths: readonly string[], packages: readonly string[] = []): Promise<HostState> {
    const t = this.target(target);
    paths.forEach(checkPath);
    packages.forEach((p) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9.+_-]*$/.test(p)) throw new StepFailedError('HostPrepProbeFailed', `package name ${JSON.stringify(p)} is not valid`, false);
    });
    const script = [
      'set -u',
      ...this.preamble(),
      'echo @passwd; cat "$R/etc/passwd" 2>/dev/null || true',
      'echo @group; cat "$R/etc/group" 2>/dev/null || true',
      'echo @pvs; if command -v pvs >/dev/null 2>&1; then pvs --noheadings -o vg_name,pv_name 2>/dev/null || true; fi',
      'echo @lvs; if command -v lvs >/dev/null 2>&1; then lvs --noheadings -o vg_name,lv_name 2>/dev/null || true; fi',
      'echo @mounts; findmnt -rn -o TARGET 2>/dev/null || true',
      'echo @swaps; swapon --noheadings --show=NAME 2>/dev/null || true',
      // Installed packages (rpm or dpkg, whichever the host has).
      'echo @packages',
      ...packages.map((p) => `if rpm -q ${p} >/dev/null 2>&1 || dpkg-query -W -f='\${Status}' ${p} 2>/dev/null | grep -q 'ok installed'; then echo ${p}; fi`),
      ...paths.map((p) => `if [ -f "$R"${shellQuote(p)} ]; then echo ${shellQuote(`@file ${p}`)}; base64 < "$R"${shellQuote(p)}; fi`),
      'echo @end',
      '',
    ].join('\n');
    const r = await runSsh(t, this.remote(), script);
    if (r.code !== 0 || !r.stdout.includes('@end')) {
      throw new StepFailedError('HostPrepProbeFailed', `${target.host.name} (${t.address}): reading the host's state failed with exit ${r.code}: ${tail(r.stderr)}`, false);
    }
    return parseProbe(r.stdout);
  }

  async apply(target: HostPrepTarget, plan: HostPrepPlan): Promise<void> {
    const t = this.target(target);
    const nonce = randomBytes(6).toString('hex');
    const out = ['set -eu', 'umask 022', ...this.preamble()];
    plan.steps.forEach((s, i) => {
      if (s.kind === 'file') {
        checkPath(s.path);
        const dir = posix.dirname(s.path);
        const tmp = posix.join(dir, `.${posix.basename(s.path)}.stackyard-${nonce}-${i}`);
        out.push(`echo '@run ${i}'`, `mkdir -p "$R"${shellQuote(dir)}`);
        if (s.owner !== 'root') {
          // A user's own directory (~/.ssh): theirs, and private.
          out.push(`chown ${shellQuote(s.owner)} "$R"${shellQuote(dir)}`);
          if (posix.basename(dir) === '.ssh') out.push(`chmod 0700 "$R"${shellQuote(dir)}`);
        }
        out.push(
          `t="$R"${shellQuote(tmp)}`,
          `base64 -d > "$t" <<'STACKYARD_EOF'`,
          ...b64(s.content),
          'STACKYARD_EOF',
          `chmod ${shellQuote(s.mode)} "$t"`,
          `chown ${shellQuote(s.owner)} "$t"`,
          `mv -f "$t" "$R"${shellQuote(s.path)}`,
          `echo '@done ${i}'`,
        );
      } else {
        out.push(`echo '@run ${i}'`, s.argv.map(shellQuote).join(' '), `echo '@done ${i}'`);
      }
    });
    out.push('echo @end', '');
    const r = await runSsh(t, this.remote(), out.join('\n'));
    const log = this.opts.log?.child({ host: target.host.name, address: t.address });
    if (r.code === 0 && r.stdout.includes('@end')) {
      log?.info({ steps: plan.steps.length }, 'host prepared');
      return;
    }
    const started = [...r.stdout.matchAll(/^@run (\d+)$/gm)].map((m) => Number(m[1]));
    const at = started.at(-1);
    const step = at === undefined ? undefined : plan.steps[at];
    const what = step === undefined ? 'the script' : step.kind === 'file' ? `writing ${step.path}` : `\`${step.argv.join(' ')}\` (${step.reason})`;
    throw new StepFailedError('HostPrepCommandFailed', `${target.host.name} (${t.address}): ${what} failed with exit ${r.code}: ${tail(r.stderr)}`, false);
  }
}
