import { spawn } from 'node:child_process';
import { StepFailedError } from '@stackyard/errors';

export interface ExecResult {
  readonly code: number | null;
  readonly signal: string | null;
}

export interface ExecOptions {
  /** Working directory of the command (the ssh executor `cd`s into it on the remote host). */
  readonly cwd?: string;
  /** Called for every complete line of stdout and stderr, as it arrives. */
  readonly onLine: (stream: 'stdout' | 'stderr', line: string) => void;
}

/** Runs a command line somewhere (this machine, or a deploy host over SSH) and streams its output. */
export interface Executor {
  readonly name: string;
  run(argv: readonly string[], opts: ExecOptions): Promise<ExecResult>;
}

/** Splits a byte stream into lines; a last line without a newline comes out on `end()`. */
class Lines {
  #partial = '';
  constructor(private readonly emit: (line: string) => void) {}
  write(chunk: string): void {
    const parts = (this.#partial + chunk).split(/\r?\n/);
    this.#partial = parts.pop() ?? '';
    for (const p of parts) this.emit(p);
  }
  end(): void {
    if (this.#partial) this.emit(this.#partial);
    this.#partial = '';
  }
}

/** Spawns the command on this machine (no shell), streaming stdout and stderr line by line. */
export class LocalExecutor implements Executor {
  readonly name: string = 'local';

  run(argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    const [cmd, ...args] = argv;
    if (!cmd) return Promise.reject(new Error('empty command line'));
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      const out = new Lines((l) => opts.onLine('stdout', l));
      const err = new Lines((l) => opts.onLine('stderr', l));
      child.stdout.setEncoding('utf8').on('data', (c: string) => out.write(c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => err.write(c));
      child.once('error', (e: NodeJS.ErrnoException) => {
        reject(
          e.code === 'ENOENT' || e.code === 'EACCES'
            ? new StepFailedError('KollaAnsibleNotFound', `${cmd}: cannot execute (${e.code})`, false)
            : e,
        );
      });
      child.once('close', (code, signal) => {
        out.end();
        err.end();
        resolve({ code, signal });
      });
    });
  }
}

/** POSIX shell quoting of one word: `'…'` with embedded quotes as `'\''`. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface SshOptions {
  /** `user@host` or a Host alias from ssh_config. */
  readonly host: string;
  /** The ssh binary (default `ssh` from PATH). */
  readonly ssh?: string;
  /** Extra `ssh` arguments, e.g. `['-p', '2222', '-i', key]`. */
  readonly args?: readonly string[];
}

/**
 * Runs the same command line on a deploy host with the system `ssh` (BatchMode: never prompts; a
 * missing key fails fast). The remote shell gets one quoted command string, `cd`ing into `cwd` first.
 * The generated inputs are written locally: the work directory must be the same path on the deploy
 * host (a shared mount), as Kayobe's control host has its config locally.
 */
export class SshExecutor implements Executor {
  readonly name = 'ssh';
  readonly #local = new LocalExecutor();
  constructor(private readonly opts: SshOptions) {
    if (!opts.host) throw new Error('ssh executor needs a host');
  }

  /** The local argv that runs `argv` on the deploy host. */
  sshArgv(argv: readonly string[], cwd?: string): string[] {
    const remote = (cwd ? `cd ${shellQuote(cwd)} && ` : '') + argv.map(shellQuote).join(' ');
    return [this.opts.ssh ?? 'ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20', ...(this.opts.args ?? []), this.opts.host, '--', remote];
  }

  run(argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    return this.#local.run(this.sshArgv(argv, opts.cwd), { onLine: opts.onLine });
  }
}
