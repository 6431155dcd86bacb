import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@stackyard/devinfra';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs bin/stackyard as an operator would, as its own process: exit code, stdout and stderr. The
 * caller's STACKYARD_* variables are left out (a developer's token or TLS settings must not leak into
 * a test); `env` adds the ones a test means.
 */
export function stackyard(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STACKYARD_')));
  return new Promise((resolve, reject) => {
    const child = spawn(join(REPO_ROOT, 'apps/stackyard/bin/stackyard'), args, { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
