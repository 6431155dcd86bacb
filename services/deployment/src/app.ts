import { startService, type RunningService } from '@stackyard/service';
import type { Logger } from '@stackyard/telemetry';
import { DeploymentService } from './application/deployment';
import { HealthWatch } from './application/health-watch';
import { SiteOperations } from './application/operations';
import type { ContainerRuntime, HostConfigurationRepository, HostPreparer, OutputLine } from './application/ports';
import type { KollaSettings } from './application/site-inputs';
import { HostConfigurations } from './application/host-configurations';
import { HostPrep, validateHostPrepSettings } from './application/host-prep';
import { deploymentGrpc } from './adapters/grpc/handlers';
import { LabHostPreparer } from './adapters/host-prep/lab-preparer';
import { hostPrepSettings } from './adapters/host-prep/settings';
import { SshHostPreparer } from './adapters/host-prep/ssh-preparer';
import { LocalExecutor, SshExecutor } from './adapters/kolla-ansible/executor';
import { KollaAnsibleRuntime } from './adapters/kolla-ansible/runtime';
import { LabRuntime } from './adapters/lab/lab-runtime';
import { MongoHostConfigurationRepository, MongoNodeDeploymentRepository, MongoSiteControllerRepository, MongoSiteDeploymentRepository, MongoSiteRolloutRepository } from './adapters/mongo/repository';
import { deploymentConsumers } from './adapters/nats/consumers';
import { hostDeletedConsumer } from './adapters/nats/host-deleted.consumer';
import { HostDeletedHandler } from './application/host-deleted';
import type { DeploymentConfig } from './config';
import type { KollaAction } from './domain/kolla/outcome';
import { parseQuorumPolicy } from './domain/quorum';

/** The ContainerRuntime chosen by `DEPLOY_RUNTIME`. kolla-ansible output goes to the log (passwords masked). */
export function runtimeFor(config: DeploymentConfig, log: Logger): ContainerRuntime {
  if (config.DEPLOY_RUNTIME === 'lab') return new LabRuntime(config.LAB_CONTAINER_LATENCY_MS, config.LAB_FAIL_HOSTS, config.LAB_UNHEALTHY_HOSTS);
  const executor = config.KOLLA_EXECUTOR === 'ssh' ? new SshExecutor({ host: config.KOLLA_SSH_HOST }) : new LocalExecutor();
  const out = log.child({ runtime: 'kolla-ansible', executor: executor.name });
  return new KollaAnsibleRuntime({
    bin: config.KOLLA_ANSIBLE_BIN,
    workDir: config.KOLLA_WORK_DIR,
    executor,
    onLine: (ctx: { siteId: string; action: KollaAction }, l: OutputLine) => out.info({ site: ctx.siteId, action: ctx.action, stream: l.stream }, l.line),
  });
}

/**
 * Host preparation chosen by `DEPLOY_HOST_PREP` (undefined: `none`), its settings read and checked at
 * start; `configurations`: the imported host configurations it layers under HOST_PREP_FILE.
 */
export function hostPrepFor(config: DeploymentConfig, log: Logger, configurations?: HostConfigurationRepository): HostPrep | undefined {
  if (config.DEPLOY_HOST_PREP === 'none') return undefined;
  const settings = validateHostPrepSettings(hostPrepSettings(config));
  const preparer =
    config.DEPLOY_HOST_PREP === 'lab'
      ? new LabHostPreparer(config.LAB_HOST_PREP_FAIL_HOSTS)
      : new SshHostPreparer({
          user: config.DEPLOY_HOST_PREP_SSH_USER,
          keyFile: config.DEPLOY_HOST_PREP_SSH_KEY_FILE,
          port: config.DEPLOY_HOST_PREP_SSH_PORT,
          knownHosts: config.DEPLOY_HOST_PREP_SSH_KNOWN_HOSTS,
          connectTimeoutS: 20,
          commandTimeoutMs: 600_000,
          sudo: config.DEPLOY_HOST_PREP_SSH_SUDO,
          root: config.DEPLOY_HOST_PREP_ROOT,
          log: log.child({ component: 'host-prep' }),
        });
  return new HostPrep(settings, preparer, configurations);
}

export function kollaSettings(config: DeploymentConfig): KollaSettings {
  return {
    openstackRelease: config.KOLLA_OPENSTACK_RELEASE,
    baseDistro: config.KOLLA_BASE_DISTRO,
    baseDistroVersion: config.KOLLA_BASE_DISTRO_VERSION,
    ...(config.KOLLA_INTERNAL_VIP_ADDRESS ? { internalVipAddress: config.KOLLA_INTERNAL_VIP_ADDRESS } : {}),
    ...(config.KOLLA_EXTERNAL_VIP_ADDRESS ? { externalVipAddress: config.KOLLA_EXTERNAL_VIP_ADDRESS } : {}),
  };
}

/** The running service, with its runtime (tests drive the lab runtime's health through it) and host preparer (undefined: none). */
export type RunningDeployment = RunningService & { readonly runtime: ContainerRuntime; readonly hostPreparer: HostPreparer | undefined };

export async function startDeployment(config: DeploymentConfig, opts: { log?: Logger } = {}): Promise<RunningDeployment> {
  let runtime: ContainerRuntime | undefined;
  let hostPreparer: HostPreparer | undefined;
  const svc = await startService(
    'deployment',
    config,
    (kit) => {
      const nodes = new MongoNodeDeploymentRepository(kit.store('node_deployments', 'node deployment', MongoNodeDeploymentRepository.storeOptions));
      const sites = new MongoSiteDeploymentRepository(kit.store('site_deployments', 'site deployment'));
      const rt = runtimeFor(config, kit.log);
      runtime = rt;
      const ops = new SiteOperations(nodes, sites, rt, kollaSettings(config));
      const controllers = new MongoSiteControllerRepository(kit.store('site_controllers', 'site controller', MongoSiteControllerRepository.storeOptions));
      const policy = parseQuorumPolicy(config.DEPLOY_QUORUM);
      const configurationRepo = new MongoHostConfigurationRepository(kit.store('host_configurations', 'host configuration'));
      const prep = hostPrepFor(config, kit.log, configurationRepo);
      hostPreparer = prep?.preparer;
      // Control-plane batching and SiteServicesDeployed: the site's rollout and its registered hosts with roles.
      const rollouts = new MongoSiteRolloutRepository(kit.store('site_rollouts', 'site rollout'));
      const hosts = new MongoSiteControllerRepository(kit.store('site_hosts', 'site host', MongoSiteControllerRepository.storeOptions));
      const svc = new DeploymentService(nodes, rt, ops, { controllers, policy, rollouts, hosts }, prep);
      kit.log.info({ runtime: rt.name, hostPrep: prep?.preparer.name ?? 'none', quorum: config.DEPLOY_QUORUM, healthCheckIntervalMs: config.HEALTH_CHECK_INTERVAL_MS }, 'container runtime');
      const watch = new HealthWatch(nodes, rt, { concurrency: config.HEALTH_CHECK_CONCURRENCY, log: kit.log.child({ component: 'health-watch' }) });
      watch.start(config.HEALTH_CHECK_INTERVAL_MS);
      return {
        grpc: [deploymentGrpc(svc, ops, kit.log)],
        consumers: [...deploymentConsumers(svc, config.MAX_NODES_IN_FLIGHT, prep ? new HostConfigurations(configurationRepo) : undefined), hostDeletedConsumer(new HostDeletedHandler(nodes))],
        beforeStop: () => watch.stop(),
      };
    },
    opts,
  );
  return Object.assign(svc, { runtime: runtime!, hostPreparer });
}
