import { startService, type RunningService } from '@stackyard/service';
import type { Logger } from '@stackyard/telemetry';
import { NetworkService } from './application/network';
import { networkGrpc } from './adapters/grpc/handlers';
import { LabApplier } from './adapters/lab/lab-applier';
import { MongoAllocationRepository, MongoHostConfigRepository, MongoNetworkRepository } from './adapters/mongo/repositories';
import { networkConsumers } from './adapters/nats/consumers';
import { hostDeletedConsumer } from './adapters/nats/host-deleted.consumer';
import { HostDeletedHandler } from './application/host-deleted';
import { SshApplier } from './adapters/ssh/ssh-applier';
import { LabSwitchExecutor } from './adapters/lab/lab-switch-executor';
import { SshSwitchExecutor } from './adapters/ssh/ssh-switch-executor';
import { PhysicalNetworkService } from './application/physical-network';
import type { NetworkApplier, SwitchExecutor } from './application/ports';
import type { NetworkConfig } from './config';
import { DEFAULT_NETWORK_ENGINE } from './domain/render';

/** NETWORK_APPLIER: `lab` (simulated hosts) or `ssh` (each host's admin address, the system OpenSSH client). */
export function applierFor(config: NetworkConfig, log?: Logger): NetworkApplier {
  if (config.NETWORK_APPLIER !== 'ssh') return new LabApplier(config.LAB_LATENCY_MS, config.LAB_FAIL_HOSTS);
  return new SshApplier({
    user: config.NETWORK_SSH_USER,
    keyFile: config.NETWORK_SSH_KEY_FILE ?? '',
    port: config.NETWORK_SSH_PORT,
    knownHosts: config.NETWORK_SSH_KNOWN_HOSTS,
    connectTimeoutS: config.NETWORK_SSH_CONNECT_TIMEOUT_S,
    commandTimeoutMs: config.NETWORK_SSH_COMMAND_TIMEOUT_MS,
    sudo: config.NETWORK_SSH_SUDO ?? config.NETWORK_SSH_USER !== 'root',
    root: config.NETWORK_APPLY_ROOT,
    engine: config.NETWORK_ENGINE ?? DEFAULT_NETWORK_ENGINE,
    filePrefix: config.NETWORKD_FILE_PREFIX,
    reloadCommand: config.NETWORK_APPLY_RELOAD_COMMAND,
    verifyTimeoutMs: config.NETWORK_APPLY_VERIFY_TIMEOUT_MS,
    log,
  });
}

/** SWITCH_EXECUTOR: `lab` (switch configs kept in memory) or `ssh` (the vendor CLI on each switch's management address). */
export function switchExecutorFor(config: NetworkConfig, log?: Logger): SwitchExecutor {
  if (config.SWITCH_EXECUTOR !== 'ssh') return new LabSwitchExecutor();
  return new SshSwitchExecutor({
    user: config.SWITCH_SSH_USER,
    keyFile: config.SWITCH_SSH_KEY_FILE ?? '',
    port: config.SWITCH_SSH_PORT,
    knownHosts: config.SWITCH_SSH_KNOWN_HOSTS,
    connectTimeoutS: config.SWITCH_SSH_CONNECT_TIMEOUT_S,
    commandTimeoutMs: config.SWITCH_SSH_COMMAND_TIMEOUT_MS,
    log,
  });
}

export function startNetwork(config: NetworkConfig, opts: { log?: Logger } = {}): Promise<RunningService> {
  return startService(
    'network',
    config,
    async (kit) => {
      const allocations = new MongoAllocationRepository(kit.db);
      await allocations.ensureIndexes();
      const networks = new MongoNetworkRepository(kit.store('networks', 'network', MongoNetworkRepository.storeOptions));
      const configs = new MongoHostConfigRepository(kit.store('host_configs', 'host network config', MongoHostConfigRepository.storeOptions));
      const svc = new NetworkService(
        networks,
        allocations,
        configs,
        applierFor(config, kit.log.child({ component: 'ssh-applier' })),
        { filePrefix: config.NETWORKD_FILE_PREFIX, kollaStrict: config.KOLLA_HOST_VARS_STRICT, engine: config.NETWORK_ENGINE },
      );
      const switches = new PhysicalNetworkService(networks, configs, switchExecutorFor(config, kit.log.child({ component: 'switch-executor' })));
      return { grpc: [networkGrpc(svc, kit.log, switches)], consumers: [...networkConsumers(svc, config.MAX_HOSTS_IN_FLIGHT), hostDeletedConsumer(new HostDeletedHandler(allocations, configs))] };
    },
    opts,
  );
}
