/**
 * Reading kolla-ansible (ansible-playbook) output: the PLAY RECAP per-host counters, and the task
 * each host failed or was unreachable in, with Ansible's message.
 */
export interface HostRecap {
  readonly host: string;
  readonly ok: number;
  readonly changed: number;
  readonly unreachable: number;
  readonly failed: number;
  readonly skipped: number;
  readonly rescued: number;
  readonly ignored: number;
}

export type HostOutcome = 'ok' | 'failed' | 'unreachable';

export interface HostResult extends HostRecap {
  readonly outcome: HostOutcome;
  /** The task of the first fatal error on this host, e.g. `nova-cell : Waiting for nova-compute services to register themselves`. */
  readonly failedTask?: string;
  readonly message?: string;
}

export interface PlaybookResult {
  /** Hosts in recap order. Empty when the output has no PLAY RECAP (the run was cut short). */
  readonly hosts: readonly HostResult[];
  readonly complete: boolean;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const RECAP_LINE = /^(\S+)\s*:\s*((?:\w+=\d+\s*)+)$/;
const TASK = /^(?:TASK|RUNNING HANDLER) \[(.+?)\]\s*\**$/;
const FATAL = /^fatal: \[([^\]]+)\]: (FAILED|UNREACHABLE)! => (.*)$/;
const COUNTERS = ['ok', 'changed', 'unreachable', 'failed', 'skipped', 'rescued', 'ignored'] as const;

/** One recap line, e.g. `control01 : ok=250 changed=12 unreachable=0 failed=0 skipped=190 rescued=0 ignored=1`. */
export function parseRecapLine(line: string): HostRecap | undefined {
  const m = RECAP_LINE.exec(line.replace(ANSI, '').trim());
  if (!m?.[1] || !m[2]) return undefined;
  const counts: Record<string, number> = {};
  for (const kv of m[2].trim().split(/\s+/)) {
    const [k = '', v = ''] = kv.split('=');
    counts[k] = Number(v);
  }
  if (!COUNTERS.slice(0, 4).every((c) => c in counts)) return undefined;
  const n = (c: (typeof COUNTERS)[number]) => counts[c] ?? 0;
  return { host: m[1], ok: n('ok'), changed: n('changed'), unreachable: n('unreachable'), failed: n('failed'), skipped: n('skipped'), rescued: n('rescued'), ignored: n('ignored') };
}

function messageOf(json: string): string {
  try {
    const v = JSON.parse(json) as { msg?: unknown; stderr?: unknown };
    const msg = typeof v.msg === 'string' && v.msg ? v.msg : typeof v.stderr === 'string' ? v.stderr : '';
    return msg || json;
  } catch {
    return json;
  }
}

/**
 * Follows playbook output line by line (stream it in as it arrives); `result()` gives the per-host
 * results of the last PLAY RECAP seen. A kolla-ansible action runs several playbooks; each recap
 * replaces the previous one for its hosts and the results keep the first failure seen.
 */
export class PlaybookOutput {
  #task: string | undefined;
  #inRecap = false;
  #sawRecap = false;
  #partial = '';
  #justAdded: string | undefined;
  readonly #recap = new Map<string, HostRecap>();
  readonly #fatal = new Map<string, { task?: string; message: string }>();

  /** Feed a chunk of output (any split; partial lines are kept until their newline). */
  write(chunk: string): void {
    const text = this.#partial + chunk;
    const lines = text.split(/\r?\n/);
    this.#partial = lines.pop() ?? '';
    for (const l of lines) this.line(l);
  }

  /** Feed one complete line. */
  line(raw: string): void {
    const line = raw.replace(ANSI, '').trimEnd();
    if (line.startsWith('PLAY RECAP')) {
      this.#inRecap = true;
      this.#sawRecap = true;
      return;
    }
    if (this.#inRecap) {
      const r = parseRecapLine(line);
      if (r) {
        this.#recap.set(r.host, r);
        return;
      }
      if (line.trim() === '') return;
      this.#inRecap = false;
    }
    const t = TASK.exec(line);
    if (t?.[1]) {
      this.#task = t[1];
      return;
    }
    if (line.trim() === '...ignoring') {
      // Ansible prints this after an error it ignores (`ignore_errors`): not the host's failure.
      if (this.#justAdded) this.#fatal.delete(this.#justAdded);
      this.#justAdded = undefined;
      return;
    }
    this.#justAdded = undefined;
    const f = FATAL.exec(line);
    if (f?.[1] && f[3] !== undefined && !this.#fatal.has(f[1])) {
      this.#fatal.set(f[1], { ...(this.#task ? { task: this.#task } : {}), message: messageOf(f[3]) });
      this.#justAdded = f[1];
    }
  }

  /** Per-host results; call `end()` first when the stream has finished. */
  result(): PlaybookResult {
    const hosts = [...this.#recap.values()].map((r): HostResult => {
      const outcome: HostOutcome = r.unreachable > 0 ? 'unreachable' : r.failed > 0 ? 'failed' : 'ok';
      const fatal = outcome === 'ok' ? undefined : this.#fatal.get(r.host);
      return { ...r, outcome, ...(fatal?.task ? { failedTask: fatal.task } : {}), ...(fatal ? { message: fatal.message } : {}) };
    });
    return { hosts, complete: this.#sawRecap };
  }

  /** Flush a last line without a newline. */
  end(): PlaybookResult {
    if (this.#partial) this.line(this.#partial);
    this.#partial = '';
    return this.result();
  }
}

export function parsePlaybookOutput(output: string): PlaybookResult {
  const p = new PlaybookOutput();
  p.write(output);
  return p.end();
}
