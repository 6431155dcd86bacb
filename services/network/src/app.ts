import { startService, type RunningService } from '@stackyard/service';
import type { Logger } from '@stackyard/telemetry';
import { NetworkService } from './application/network';
import { networkGrpc } from './adapters/grpc/handlers';
import { LabApplier } from './adapters/lab/lab-applier';
import { MongoAllocationRepository, MongoHostConfigRepository, MongoNetworkRepository } from './adapters/mongo/repositories';
import { networkConsumers } from './adapters/nats/consumers';
import { SshApplier } from './adapters/ssh/ssh-applier';
import type { NetworkApplier } from './application/ports';
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

export function startNetwork(config: NetworkConfig, opts: { log?: Logger } = {}): Promise<RunningService> {
  return startService(
    'network',
    config,
    async (kit) => {
      const allocations = new MongoAllocationRepository(kit.db);
      await allocations.ensureIndexes();
      const svc = new NetworkService(
        new MongoNetworkRepository(kit.store('networks', 'network')),
        allocations,
        new MongoHostConfigRepository(kit.store('host_configs', 'host network config')),
        applierFor(config, kit.log.child({ component: 'ssh-applier' })),
        { filePrefix: config.NETWORKD_FILE_PREFIX, kollaStrict: config.KOLLA_HOST_VARS_STRICT, engine: config.NETWORK_ENGINE },
      );
      return { grpc: [networkGrpc(svc, kit.log)], consumers: networkConsumers(svc, config.MAX_HOSTS_IN_FLIGHT) };
    },
    opts,
  );
}
