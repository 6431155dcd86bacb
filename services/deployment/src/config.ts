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
    if (c.DEPLOY_RUNTIME !== 'kolla-ansible') return;
    if (!c.KOLLA_WORK_DIR) ctx.addIssue({ code: 'custom', path: ['KOLLA_WORK_DIR'], message: 'required when DEPLOY_RUNTIME=kolla-ansible' });
    else if (!c.KOLLA_WORK_DIR.startsWith('/')) ctx.addIssue({ code: 'custom', path: ['KOLLA_WORK_DIR'], message: 'must be an absolute path' });
    if (c.KOLLA_EXECUTOR === 'ssh' && !c.KOLLA_SSH_HOST) ctx.addIssue({ code: 'custom', path: ['KOLLA_SSH_HOST'], message: 'required when KOLLA_EXECUTOR=ssh' });
    if (!c.KOLLA_INTERNAL_VIP_ADDRESS) ctx.addIssue({ code: 'custom', path: ['KOLLA_INTERNAL_VIP_ADDRESS'], message: 'required when DEPLOY_RUNTIME=kolla-ansible (the load balancer is enabled)' });
  });
export type DeploymentConfig = z.infer<typeof configSchema>;
