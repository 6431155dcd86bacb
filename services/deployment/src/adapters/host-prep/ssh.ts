import { spawn } from 'node:child_process';
import { StepFailedError } from '@stackyard/errors';

/**
 * A minimal runner over the system OpenSSH client (the deployment service's own; the network service
 * has an equivalent one in its ssh adapter: a candidate for a shared lib).
 */
export interface SshTarget {
  readonly address: string;
  readonly user: string;
  readonly port: number;
  /** Passed to ssh by path; never read here. */
  readonly keyFile: string;
  /** `accept-new`, `accept-new:<known_hosts file>`, or `<known_hosts file>` (only hosts already in it). */
  readonly knownHosts: string;
  readonly connectTimeoutS: number;
  readonly commandTimeoutMs: number;
  readonly ssh?: string;
}

export interface SshResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function quote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function hostKeyOptions(policy: string): string[] {
  if (policy === 'accept-new') return ['-o', 'StrictHostKeyChecking=accept-new'];
  const [strict, file] = policy.startsWith('accept-new:') ? ['accept-new', policy.slice('accept-new:'.length)] : ['yes', policy];
  return ['-o', `StrictHostKeyChecking=${strict}`, '-o', `UserKnownHostsFile=${file}`];
}

export function sshArgs(t: SshTarget, remote: string): string[] {
  const opts = ['BatchMode=yes', `ConnectTimeout=${t.connectTimeoutS}`, 'IdentitiesOnly=yes', 'PasswordAuthentication=no', 'KbdInteractiveAuthentication=no', 'LogLevel=ERROR'];
  return [...opts.flatMap((o) => ['-o', o]), ...hostKeyOptions(t.knownHosts), '-i', t.keyFile, '-p', String(t.port), '-l', t.user, '--', t.address, remote];
}

export function lastLines(text: string, n = 3): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');
}

/** ssh's own failure (exit 255): auth and host key problems need an operator; the rest is retryable. */
function failure(t: SshTarget, stderr: string): StepFailedError {
  const where = `ssh ${t.user}@${t.address}:${t.port}`;
  if (/Permission denied|Too many authentication failures|Authentication failed/i.test(stderr)) {
    return new StepFailedError('SshAuthFailed', `${where}: authentication failed (key ${t.keyFile}): ${lastLines(stderr)}`, false);
  }
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/i.test(stderr)) {
    return new StepFailedError('SshHostKeyRejected', `${where}: host key not accepted (${t.knownHosts}): ${lastLines(stderr)}`, false);
  }
  return new StepFailedError('HostUnreachable', `${where}: ${lastLines(stderr) || 'connection failed'}`, true);
}

/** Runs `remote` with `input` on stdin; rejects with a StepFailedError when ssh itself failed or timed out. */
export function ssh(t: SshTarget, remote: string, input: string): Promise<SshResult> {
  const bin = t.ssh ?? 'ssh';
  return new Promise((resolve, reject) => {
    const child = spawn(bin, sshArgs(t, remote), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, t.commandTimeoutMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' || e.code === 'EACCES' ? new StepFailedError('SshClientMissing', `${bin}: cannot execute (${e.code})`, false) : e);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (timedOut) reject(new StepFailedError('HostUnreachable', `ssh ${t.user}@${t.address}:${t.port}: no answer within ${t.commandTimeoutMs} ms`, true));
      else if (code === 255 || code === null) reject(failure(t, stderr));
      else resolve({ code, stdout, stderr });
    });
  });
}
