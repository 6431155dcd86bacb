import { existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { baseConfigSchema, z } from '@stackyard/config';
import { NETWORK_ENGINES } from './domain/render';

/** `accept-new`, `accept-new:<absolute file>` or `<absolute file>`. */
const KNOWN_HOSTS = /^(accept-new|accept-new:\/.+|\/.+)$/;
const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

export const configSchema = baseConfigSchema
  .extend({
    /** Prefix of rendered systemd-networkd file names (Kayobe uses 50-kayobe-). */
    NETWORKD_FILE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]*$/).default('50-kayobe-'),
    /**
     * true: a host whose Kolla host variables Kayobe would refuse (a required network not mapped, no
     * interface, inconsistent physnets) fails its network step (InvalidNetworkConfig). false: the
     * problems are published with the variables.
     */
    KOLLA_HOST_VARS_STRICT: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    /** How host networks are written: Kayobe's `networkd` (Debian) or `nmstate` (RedHat) engine, or NetworkManager keyfiles. */
    NETWORK_ENGINE: z.enum(NETWORK_ENGINES).default('networkd'),
    MAX_HOSTS_IN_FLIGHT: z.coerce.number().int().positive().default(32),
    LAB_LATENCY_MS: z.coerce.number().int().min(0).default(20),
    LAB_FAIL_HOSTS: z
      .string()
      .default('')
      .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean)),
    /** How rendered files reach hosts: `lab` (simulated) or `ssh` (the system OpenSSH client to each host's admin address). */
    NETWORK_APPLIER: z.enum(['lab', 'ssh']).default('lab'),
    /** ssh applier: the login user (Kayobe's kayobe_ansible_user is `stack`). */
    NETWORK_SSH_USER: z.string().regex(/^[a-z_][a-z0-9_.-]*$/i, 'a user name').default('stack'),
    /** ssh applier: private key file (required with NETWORK_APPLIER=ssh). Only its path is used; it is never read or logged. */
    NETWORK_SSH_KEY_FILE: z.string().optional(),
    NETWORK_SSH_PORT: z.coerce.number().int().min(1).max(65535).default(22),
    /** `accept-new` (ssh's default known_hosts), `accept-new:<file>`, or `<file>` (only hosts already listed there). */
    NETWORK_SSH_KNOWN_HOSTS: z.string().regex(KNOWN_HOSTS, 'accept-new, accept-new:<absolute file> or an absolute file').default('accept-new'),
    NETWORK_SSH_CONNECT_TIMEOUT_S: z.coerce.number().int().positive().default(10),
    /** Any one ssh command (write, reload, one address read) is killed after this long: HostUnreachable. */
    NETWORK_SSH_COMMAND_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
    /** Write and reload through `sudo -n`. Unset: true unless NETWORK_SSH_USER is root. */
    NETWORK_SSH_SUDO: z
      .enum(['true', 'false'])
      .optional()
      .transform((v) => (v === undefined ? undefined : v === 'true')),
    /** ssh applier: the rendered paths are written under this directory on the host (tests; `/` otherwise). */
    NETWORK_APPLY_ROOT: z.string().refine(isAbsolute, 'must be an absolute path').default('/'),
    /** ssh applier: replaces the engine's reload command; `{devices}`, `{files}`, `{connections}` are substituted. */
    NETWORK_APPLY_RELOAD_COMMAND: z.string().min(1).optional(),
    /** ssh applier: how long the host's expected addresses may take to appear after the reload. */
    NETWORK_APPLY_VERIFY_TIMEOUT_MS: z.coerce.number().int().min(0).default(60_000),
    /** How `physical network configure` reaches switches: `lab` (kept in memory) or `ssh` (the vendor CLI over the system OpenSSH client). */
    SWITCH_EXECUTOR: z.enum(['lab', 'ssh']).default('lab'),
    /** ssh switch executor: the login user on every switch (Kayobe's switch `ansible_user`). */
    SWITCH_SSH_USER: z.string().regex(/^[a-z_][a-z0-9_.-]*$/i, 'a user name').default('admin'),
    /** ssh switch executor: private key file (required with SWITCH_EXECUTOR=ssh); only its path is used. */
    SWITCH_SSH_KEY_FILE: z.string().optional(),
    SWITCH_SSH_PORT: z.coerce.number().int().min(1).max(65535).default(22),
    /** As NETWORK_SSH_KNOWN_HOSTS, for switches. */
    SWITCH_SSH_KNOWN_HOSTS: z.string().regex(KNOWN_HOSTS, 'accept-new, accept-new:<absolute file> or an absolute file').default('accept-new'),
    SWITCH_SSH_CONNECT_TIMEOUT_S: z.coerce.number().int().positive().default(10),
    /** One switch's whole session (configure, commit) is killed after this long: HostUnreachable. */
    SWITCH_SSH_COMMAND_TIMEOUT_MS: z.coerce.number().int().positive().default(300_000),
  })
  .superRefine((c, ctx) => {
    if (c.SWITCH_EXECUTOR === 'ssh') {
      if (!c.SWITCH_SSH_KEY_FILE) {
        ctx.addIssue({ code: 'custom', path: ['SWITCH_SSH_KEY_FILE'], message: 'required when SWITCH_EXECUTOR=ssh (the private key the service logs in to switches with)' });
      } else if (!isFile(c.SWITCH_SSH_KEY_FILE)) {
        ctx.addIssue({ code: 'custom', path: ['SWITCH_SSH_KEY_FILE'], message: `no such file: ${c.SWITCH_SSH_KEY_FILE} (SWITCH_EXECUTOR=ssh needs a readable private key file)` });
      }
      const skh = c.SWITCH_SSH_KNOWN_HOSTS;
      if (KNOWN_HOSTS.test(skh) && !skh.startsWith('accept-new') && !isFile(skh)) {
        ctx.addIssue({ code: 'custom', path: ['SWITCH_SSH_KNOWN_HOSTS'], message: `no such file: ${skh} (use accept-new to learn host keys on first contact)` });
      }
    }
    if (c.NETWORK_APPLIER !== 'ssh') return;
    if (!c.NETWORK_SSH_KEY_FILE) {
      ctx.addIssue({ code: 'custom', path: ['NETWORK_SSH_KEY_FILE'], message: 'required when NETWORK_APPLIER=ssh (the private key the service logs in to hosts with)' });
    } else if (!isFile(c.NETWORK_SSH_KEY_FILE)) {
      ctx.addIssue({ code: 'custom', path: ['NETWORK_SSH_KEY_FILE'], message: `no such file: ${c.NETWORK_SSH_KEY_FILE} (NETWORK_APPLIER=ssh needs a readable private key file)` });
    }
    const kh = c.NETWORK_SSH_KNOWN_HOSTS;
    if (KNOWN_HOSTS.test(kh) && !kh.startsWith('accept-new') && !isFile(kh)) {
      ctx.addIssue({ code: 'custom', path: ['NETWORK_SSH_KNOWN_HOSTS'], message: `no such file: ${kh} (use accept-new to learn host keys on first contact)` });
    }
  });
export type NetworkConfig = z.infer<typeof configSchema>;
