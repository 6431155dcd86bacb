import { startService, type RunningService } from '@stackyard/service';
import type { Logger } from '@stackyard/telemetry';
import { NetworkService } from './application/network';
import { networkGrpc } from './adapters/grpc/handlers';
import { LabApplier } from './adapters/lab/lab-applier';
import { MongoAllocationRepository, MongoHostConfigRepository, MongoNetworkRepository } from './adapters/mongo/repositories';
import { networkConsumers } from './adapters/nats/consumers';
import type { NetworkConfig } from './config';

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
        new LabApplier(config.LAB_LATENCY_MS, config.LAB_FAIL_HOSTS),
        { filePrefix: config.NETWORKD_FILE_PREFIX, kollaStrict: config.KOLLA_HOST_VARS_STRICT, engine: config.NETWORK_ENGINE },
      );
      return { grpc: [networkGrpc(svc, kit.log)], consumers: networkConsumers(svc, config.MAX_HOSTS_IN_FLIGHT) };
    },
    opts,
  );
}
