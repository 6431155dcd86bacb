import { startService, type RunningService } from '@stackyard/service';
import type { Logger } from '@stackyard/telemetry';
import { DeploymentService } from './application/deployments';
import { GroupService } from './application/groups';
import { InventoryService } from './application/inventory';
import { KayobeImportService } from './application/kayobe-import';
import { inventoryGrpc } from './adapters/grpc/handlers';
import { KayobeConfigDirSource, RootedConfigPaths } from './adapters/kayobe-config/reader';
import { MongoHostRepository, MongoImportRepository, MongoRecordRepository, MongoSiteRepository, type RecordDoc } from './adapters/mongo/repositories';
import { JetStreamHostChangeFeed } from './adapters/nats/change-feed';
import { inventoryConsumers } from './adapters/nats/consumers';
import type { InventoryConfig } from './config';
import type { DeploymentData } from './domain/deployment';
import type { GroupData } from './domain/group';

/** Composition root: wires adapters to the application; listens only when started. */
export function startInventory(config: InventoryConfig, opts: { log?: Logger } = {}): Promise<RunningService> {
  // Ends WatchHosts streams first on stop (before the gRPC server's graceful shutdown waits for them).
  const shutdown = new AbortController();
  return startService(
    'inventory',
    config,
    (kit) => {
      const sites = new MongoSiteRepository(kit.store('sites', 'site'));
      const hosts = new MongoHostRepository(kit.store('hosts', 'host', MongoHostRepository.storeOptions));
      const groupRepo = new MongoRecordRepository<GroupData>(kit.store<RecordDoc<GroupData>>('groups', 'group', MongoRecordRepository.storeOptions));
      const svc = new InventoryService(sites, hosts, new JetStreamHostChangeFeed(kit.bus, kit.log), groupRepo);
      const groups = new GroupService(sites, groupRepo, hosts);
      const deployments = new DeploymentService(sites, new MongoRecordRepository<DeploymentData>(kit.store<RecordDoc<DeploymentData>>('deployments', 'deployment', MongoRecordRepository.storeOptions)), hosts, groupRepo);
      const root = config.INVENTORY_IMPORT_ROOT;
      if (!root) kit.log.warn({}, 'INVENTORY_IMPORT_ROOT is not set: ImportKayobeConfig reads any directory this service can read');
      const imports = new KayobeImportService(svc, new MongoImportRepository(kit.store('imports', 'import', MongoImportRepository.storeOptions)), new KayobeConfigDirSource(root), {
        paths: new RootedConfigPaths(root),
        groups,
        deployments,
      });
      return {
        grpc: [inventoryGrpc(svc, imports, kit.log, shutdown.signal, groups, deployments)],
        consumers: inventoryConsumers(svc),
        beforeStop: () => shutdown.abort(),
      };
    },
    opts,
  );
}
