import { spawn } from 'node:child_process';
import { StepFailedError } from '@stackyard/errors';

/** How the system OpenSSH client reaches a host: the key is passed by path, never read here. */
export interface SshTarget {
  readonly address: string;
  readonly user: string;
  readonly port: number;
  readonly keyFile: string;
  /**
   * `accept-new` (learn a new host's key in ssh's default known_hosts, refuse a changed one),
   * `accept-new:<file>` (the same with that file), or `<file>` (only hosts already in the file).
   */
  readonly knownHosts: string;
  readonly connectTimeoutS: number;
  /** The whole command is killed after this long (HostUnreachable, retryable). */
  readonly commandTimeoutMs: number;
  /** The ssh binary (default `ssh` from PATH). */
  readonly ssh?: string;
}

export interface SshResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** POSIX shell quoting of one word: `'…'` with embedded quotes as `'\''`. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `-o` options of a target's known-hosts policy. */
export function knownHostsOptions(policy: string): string[] {
  if (policy === 'accept-new') return ['-o', 'StrictHostKeyChecking=accept-new'];
  if (policy.startsWith('accept-new:')) return ['-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${policy.slice('accept-new:'.length)}`];
  return ['-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${policy}`];
}

/**
 * The local argv running `remote` (one command string for the remote login shell) on the target.
 * BatchMode never prompts; only the configured key is offered; password and keyboard-interactive
 * authentication are off, so a wrong key fails at once with "Permission denied".
 */
export function sshArgv(t: SshTarget, remote: string): string[] {
  return [
    t.ssh ?? 'ssh',
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${t.connectTimeoutS}`,
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'PasswordAuthentication=no',
    '-o', 'KbdInteractiveAuthentication=no',
    '-o', 'LogLevel=ERROR',
    ...knownHostsOptions(t.knownHosts),
    '-i', t.keyFile,
    '-p', String(t.port),
    '-l', t.user,
    '--', t.address,
    remote,
  ];
}

const AUTH_FAILED = /Permission denied|Too many authentication failures|no mutual signature|Authentication failed/i;
const HOST_KEY = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key for .* has changed|No .* host key is known/i;

/** The last non-empty stderr lines, for messages (ssh never prints key material there). */
export function tail(text: string, lines = 3): string {
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).slice(-lines).join(' | ');
}

/**
 * ssh exits 255 for its own errors (the remote command's code otherwise): a refused login is
 * SshAuthFailed and a host key that does not match is SshHostKeyRejected (both need an operator);
 * anything else (refused, timed out, no route, connection lost) is HostUnreachable and retryable.
 */
export function sshFailure(t: SshTarget, stderr: string): StepFailedError {
  const where = `ssh ${t.user}@${t.address}:${t.port}`;
  if (AUTH_FAILED.test(stderr)) return new StepFailedError('SshAuthFailed', `${where}: authentication failed (key ${t.keyFile}): ${tail(stderr)}`, false);
  if (HOST_KEY.test(stderr)) return new StepFailedError('SshHostKeyRejected', `${where}: host key not accepted (known hosts ${t.knownHosts}): ${tail(stderr)}`, false);
  return new StepFailedError('HostUnreachable', `${where}: ${tail(stderr) || 'connection failed'}`, true);
}

/**
 * Runs `remote` on the target with the system ssh, feeding `input` on stdin. Resolves with the
 * remote command's exit code and output; rejects with a StepFailedError when ssh itself failed
 * (exit 255), timed out or could not be started.
 */
export function runSsh(t: SshTarget, remote: string, input?: string): Promise<SshResult> {
  const [cmd, ...args] = sshArgv(t, remote);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, t.commandTimeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' || e.code === 'EACCES' ? new StepFailedError('SshClientMissing', `${cmd}: cannot execute (${e.code}); install the OpenSSH client`, false) : e);
    });
    if (input !== undefined) {
      child.stdin!.on('error', () => undefined); // EPIPE when ssh exits early; its exit code says why
      child.stdin!.end(input);
    }
    child.once('close', (code) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new StepFailedError('HostUnreachable', `ssh ${t.user}@${t.address}:${t.port}: no answer within ${t.commandTimeoutMs} ms`, true));
      } else if (code === 255 || code === null) {
        reject(sshFailure(t, stderr));
      } else {
        resolve({ code, stdout, stderr });
      }
    });
  });
}
