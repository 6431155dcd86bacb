import { chmod, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { ValidationError } from '@stackyard/errors';
import type { Container } from '@stackyard/proto/deployment/v1/deployment';
import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { ContainerRuntime, HostRunResult, OutputLine, RuntimeOperation, RuntimeRunResult, SiteInputs } from '../../application/ports';
import type { PlannedContainer } from '../../domain/catalogue';
import { hostRuns, KollaHostError, kollaArgv, redactor, type KollaAction } from '../../domain/kolla/outcome';
import { generatePasswords, SSH_KEYS, type KollaPasswords, type PasswordValue, type RandomSource, type SshKeyPair } from '../../domain/kolla/passwords';
import { PlaybookOutput } from '../../domain/kolla/recap';
import type { Executor } from './executor';
import { cryptoRandom, rsaKeyPair, rsaKeyPairAsync } from './secrets';

export const INVENTORY_PATH = 'inventory/overcloud/hosts';
export const HOST_VARS_DIR = 'inventory/overcloud/host_vars';
export const PASSWORDS_FILE = 'passwords.yml';

export interface KollaAnsibleOptions {
  /** The kolla-ansible executable (`KOLLA_ANSIBLE_BIN`). */
  readonly bin: string;
  /** Where each site's config dir `<workDir>/<site>` is written (`KOLLA_WORK_DIR`). */
  readonly workDir: string;
  readonly executor: Executor;
  readonly random?: RandomSource;
  readonly sshKeyPair?: () => SshKeyPair;
  /** Kayobe's `kolla_ansible_custom_passwords` (always win). */
  readonly customPasswords?: Readonly<Record<string, PasswordValue>>;
  /** Every output line of every run (already redacted), e.g. to the service log. */
  readonly onLine?: (ctx: { siteId: string; action: KollaAction }, line: OutputLine) => void;
}

const SAFE = /^[a-z0-9][a-z0-9_-]*$/i;
const HOST = /^[a-z0-9][a-z0-9._-]*$/i;

const hasPrivateKey = (v: unknown) => typeof v === 'object' && v !== null && typeof (v as { private_key?: unknown }).private_key === 'string' && (v as { private_key: string }).private_key !== '';

function secretsOf(p: KollaPasswords): string[] {
  const out: string[] = [];
  for (const k of p.keys()) {
    const v = p.get(k);
    if (typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object') out.push(v.private_key, ...v.private_key.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----')));
  }
  return out;
}

/**
 * The `kolla-ansible` runtime: writes a site's generated inputs and passwords to its config dir, runs
 * `kolla-ansible <action> -i <inventory> --configdir <dir> [--limit …]` through an Executor (local or
 * ssh), streams the output (passwords masked) into the recap parser and reports per-host results.
 * Runs of one site are serialised: kolla-ansible must not run twice at once on the same hosts.
 */
export class KollaAnsibleRuntime implements ContainerRuntime {
  readonly name = 'kolla-ansible';
  readonly usesInputs = true;
  readonly #sites = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: KollaAnsibleOptions) {}

  /** The config dir of a site. */
  configDir(siteId: string): string {
    return join(this.opts.workDir, siteId);
  }

  async deploy(host: HostRef, containers: readonly PlannedContainer[], _addresses: readonly string[], inputs?: SiteInputs): Promise<Container[]> {
    if (!inputs) throw new ValidationError('inputs', 'the kolla-ansible runtime needs the site inputs');
    const r = await this.run({ action: 'deploy', inputs, limit: [host.name], containers: { [host.name]: containers } });
    const h = r.hosts.find((x) => x.host === host.name);
    if (!h) throw new KollaHostError('KollaRunIncomplete', host.name, undefined, 'no result for the host');
    if (h.error) throw h.error;
    return [...h.containers];
  }

  /**
   * Not supported: checking would mean `kolla-ansible check --limit <host>` (a whole Ansible run per node
   * every interval, serialised with the site's deploys) or `docker inspect` over ssh, and neither can be
   * exercised here. The health watch skips this runtime with one warning.
   */
  async health(): Promise<'unsupported'> {
    return 'unsupported';
  }

  run(op: RuntimeOperation): Promise<RuntimeRunResult> {
    // Refuse before anything is written or run.
    if (op.action === 'destroy' && op.confirm !== true) {
      return Promise.reject(new ValidationError('confirm', 'destroy removes every Kolla container and volume of the hosts: it needs an explicit confirmation'));
    }
    const siteId = op.inputs.siteId;
    if (!SAFE.test(siteId)) return Promise.reject(new ValidationError('site_id', `not a safe directory name: ${JSON.stringify(siteId)}`));
    for (const h of [...op.inputs.hosts, ...(op.limit ?? [])]) {
      if (!HOST.test(h)) return Promise.reject(new ValidationError('hosts', `not a valid host name: ${JSON.stringify(h)}`));
    }
    const prev = this.#sites.get(siteId) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.#run(op));
    this.#sites.set(siteId, next);
    void next.finally(() => {
      if (this.#sites.get(siteId) === next) this.#sites.delete(siteId);
    }).catch(() => undefined);
    return next;
  }

  async #run(op: RuntimeOperation): Promise<RuntimeRunResult> {
    const siteId = op.inputs.siteId;
    const dir = this.configDir(siteId);
    await this.#writeInputs(dir, op.inputs);
    const passwords = await this.#passwords(dir);
    const redact = redactor(secretsOf(passwords));
    const parser = new PlaybookOutput();
    const argv = kollaArgv(this.opts.bin, op.action, { inventory: join(dir, INVENTORY_PATH), configDir: dir, ...(op.limit ? { limit: op.limit } : {}), confirmed: op.confirm === true });
    const exit = await this.opts.executor.run(argv, {
      cwd: dir,
      onLine: (stream, raw) => {
        const line: OutputLine = { stream, line: redact(raw) };
        // The recap and `fatal:` lines are on stdout; stderr carries warnings and tracebacks.
        if (stream === 'stdout') parser.line(line.line);
        op.onLine?.(line);
        this.opts.onLine?.({ siteId, action: op.action }, line);
      },
    });
    const targeted = op.limit?.length ? op.limit : op.inputs.hosts;
    const hosts = hostRuns(parser.end(), targeted, exit).map((r): HostRunResult => {
      if (r.outcome !== 'ok') return { host: r.host, outcome: r.outcome, containers: [], error: r.error };
      const planned = op.action === 'destroy' ? [] : (op.containers[r.host] ?? []);
      return { host: r.host, outcome: 'ok', containers: planned.map((c) => ({ service: c.service, name: c.name, healthy: true })) };
    });
    return { action: op.action, hosts };
  }

  /** globals.yml, the inventory and host_vars; host_vars of hosts no longer in the inputs are removed. */
  async #writeInputs(dir: string, inputs: SiteInputs): Promise<void> {
    await mkdir(join(dir, HOST_VARS_DIR), { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const wanted = new Set<string>();
    for (const f of inputs.files) {
      if (f.path.startsWith('/') || f.path.split('/').includes('..') || f.path === PASSWORDS_FILE) throw new ValidationError('inputs', `refusing to write ${JSON.stringify(f.path)}`);
      const p = join(dir, f.path);
      wanted.add(p);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, f.content);
    }
    for (const name of await readdir(join(dir, HOST_VARS_DIR))) {
      const p = join(dir, HOST_VARS_DIR, name);
      if (!wanted.has(p)) await rm(p, { force: true, recursive: true });
    }
  }

  /** passwords.yml: kept values, custom values, the rest generated; written with mode 0600. */
  async #passwords(dir: string): Promise<KollaPasswords> {
    const file = join(dir, PASSWORDS_FILE);
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return '';
      throw e;
    });
    const existing = ((text ? parse(text) : {}) as Record<string, unknown> | null) ?? {};
    // Key pairs for the SSH keys still empty, made off the event loop before the (synchronous) merge.
    const missing = SSH_KEYS.filter((k) => !(k in (this.opts.customPasswords ?? {})) && !hasPrivateKey(existing[k]));
    const pairs = this.opts.sshKeyPair ? [] : await Promise.all(missing.map(() => rsaKeyPairAsync()));
    const passwords = generatePasswords({
      random: this.opts.random ?? cryptoRandom,
      sshKeyPair: this.opts.sshKeyPair ?? (() => pairs.shift() ?? rsaKeyPair()),
      existing,
      ...(this.opts.customPasswords ? { custom: this.opts.customPasswords } : {}),
    });
    const rendered = passwords.render();
    if (rendered !== text) {
      const tmp = `${file}.tmp`;
      await writeFile(tmp, rendered, { mode: 0o600 });
      await chmod(tmp, 0o600);
      await rename(tmp, file);
    }
    await chmod(file, 0o600);
    return passwords;
  }
}
