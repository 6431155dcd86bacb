import { baseConfigSchema, z } from '@stackyard/config';
import { parseQuorumPolicy } from './domain/quorum';

const csv = z
  .string()
  .default('')
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

export const configSchema = baseConfigSchema
  .extend({
    MAX_NODES_IN_FLIGHT: z.coerce.number().int().positive().default(16),
    LAB_CONTAINER_LATENCY_MS: z.coerce.number().int().min(0).default(5),
    LAB_FAIL_HOSTS: csv,
    /** Lab runtime: hosts (`<host>`, or `<host>:<container>`) whose containers the health check reports unhealthy. */
    LAB_UNHEALTHY_HOSTS: csv,
    /** How often the health watch checks the deployed nodes' containers; 0 disables it. */
    HEALTH_CHECK_INTERVAL_MS: z.coerce.number().int().min(0).default(30_000),
    /** Nodes the health watch checks at once. */
    HEALTH_CHECK_CONCURRENCY: z.coerce.number().int().positive().default(8),
    /** Which ContainerRuntime runs the containers: simulated (`lab`) or `kolla-ansible`. */
    DEPLOY_RUNTIME: z.enum(['lab', 'kolla-ansible']).default('lab'),
    KOLLA_ANSIBLE_BIN: z.string().min(1).default('kolla-ansible'),
    /** Each site's config dir is `<KOLLA_WORK_DIR>/<site>` (globals.yml, passwords.yml, inventory). */
    KOLLA_WORK_DIR: z.string().default(''),
    KOLLA_EXECUTOR: z.enum(['local', 'ssh']).default('local'),
    /** `user@host` of the deploy host for the ssh executor. */
    KOLLA_SSH_HOST: z.string().default(''),
    KOLLA_OPENSTACK_RELEASE: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a release name such as 2025.1').default('2025.1'),
    KOLLA_BASE_DISTRO: z.string().min(1).default('rocky'),
    KOLLA_BASE_DISTRO_VERSION: z.string().min(1).default('9'),
    KOLLA_INTERNAL_VIP_ADDRESS: z.string().ip().optional(),
    KOLLA_EXTERNAL_VIP_ADDRESS: z.string().ip().optional(),
    /** Host preparation before the services deploy: `lab` (simulated), `ssh` (the system ssh client) or `none` (skipped). */
    DEPLOY_HOST_PREP: z.enum(['lab', 'ssh', 'none']).default('lab'),
    /** JSON or YAML file of host preparation variables keyed by Kayobe group (`all` first); see the README. */
    HOST_PREP_FILE: z.string().default(''),
    /** Defaults for every group (the file's groups override them). */
    DEPLOY_HOST_PREP_OS_FAMILY: z.enum(['redhat', 'debian']).default('redhat'),
    /** The kolla user (docker group, passwordless sudo); empty: no user managed by default. */
    DEPLOY_HOST_PREP_KOLLA_USER: z.string().default('kolla'),
    /** OpenSSH public keys authorised for the kolla user (comma separated). */
    DEPLOY_HOST_PREP_SSH_KEYS: csv,
    /** chrony servers (`server` lines); empty: chrony not managed. */
    DEPLOY_HOST_PREP_NTP_SERVERS: csv,
    DEPLOY_HOST_PREP_CONTAINER_ENGINE: z.enum(['docker', 'podman', 'none']).default('docker'),
    DEPLOY_HOST_PREP_REGISTRY_MIRRORS: csv,
    /** ssh host preparer: login, key file, port, known-hosts policy, sudo, root of the files. */
    DEPLOY_HOST_PREP_SSH_USER: z.string().min(1).default('root'),
    DEPLOY_HOST_PREP_SSH_KEY_FILE: z.string().default(''),
    DEPLOY_HOST_PREP_SSH_PORT: z.coerce.number().int().min(1).max(65535).default(22),
    DEPLOY_HOST_PREP_SSH_KNOWN_HOSTS: z.string().min(1).default('accept-new'),
    DEPLOY_HOST_PREP_SSH_SUDO: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    DEPLOY_HOST_PREP_ROOT: z.string().startsWith('/').default('/'),
    /** Lab host preparer: `<host>` always fails, `<host>:<n>` fails its first n attempts. */
    LAB_HOST_PREP_FAIL_HOSTS: csv,
    /**
     * Quorum gating of the services step: non-control-plane nodes wait until this many of their site's
     * controllers are deployed. `majority` (default), `all`, a number, or `none` (no gating).
     */
    DEPLOY_QUORUM: z
      .string()
      .default('majority')
      .superRefine((v, ctx) => {
        try {
          parseQuorumPolicy(v);
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: (e as Error).message });
        }
      }),
  })
  .superRefine((c, ctx) => {
    if (c.DEPLOY_HOST_PREP === 'ssh' && !c.DEPLOY_HOST_PREP_SSH_KEY_FILE) ctx.addIssue({ code: 'custom', path: ['DEPLOY_HOST_PREP_SSH_KEY_FILE'], message: 'required when DEPLOY_HOST_PREP=ssh' });
    if (c.DEPLOY_RUNTIME !== 'kolla-ansible') return;
    if (!c.KOLLA_WORK_DIR) ctx.addIssue({ code: 'custom', path: ['KOLLA_WORK_DIR'], message: 'required when DEPLOY_RUNTIME=kolla-ansible' });
    else if (!c.KOLLA_WORK_DIR.startsWith('/')) ctx.addIssue({ code: 'custom', path: ['KOLLA_WORK_DIR'], message: 'must be an absolute path' });
    if (c.KOLLA_EXECUTOR === 'ssh' && !c.KOLLA_SSH_HOST) ctx.addIssue({ code: 'custom', path: ['KOLLA_SSH_HOST'], message: 'required when KOLLA_EXECUTOR=ssh' });
    if (!c.KOLLA_INTERNAL_VIP_ADDRESS) ctx.addIssue({ code: 'custom', path: ['KOLLA_INTERNAL_VIP_ADDRESS'], message: 'required when DEPLOY_RUNTIME=kolla-ansible (the load balancer is enabled)' });
  });
export type DeploymentConfig = z.infer<typeof configSchema>;
