import { startService, type RunningService } from '@stackyard/service';
import type { Logger } from '@stackyard/telemetry';
import { InventoryService } from './application/inventory';
import { KayobeImportService } from './application/kayobe-import';
import { inventoryGrpc } from './adapters/grpc/handlers';
import { KayobeConfigDirSource, RootedConfigPaths } from './adapters/kayobe-config/reader';
import { MongoHostRepository, MongoImportRepository, MongoSiteRepository } from './adapters/mongo/repositories';
import { JetStreamHostChangeFeed } from './adapters/nats/change-feed';
import { inventoryConsumers } from './adapters/nats/consumers';
import type { InventoryConfig } from './config';

/** Composition root: wires adapters to the application; listens only when started. */
export function startInventory(config: InventoryConfig, opts: { log?: Logger } = {}): Promise<RunningService> {
  // Ends WatchHosts streams first on stop (before the gRPC server's graceful shutdown waits for them).
  const shutdown = new AbortController();
  return startService(
    'inventory',
    config,
    (kit) => {
      const svc = new InventoryService(
        new MongoSiteRepository(kit.store('sites', 'site')),
        new MongoHostRepository(kit.store('hosts', 'host')),
        new JetStreamHostChangeFeed(kit.bus, kit.log),
      );
      const root = config.INVENTORY_IMPORT_ROOT;
      if (!root) kit.log.warn({}, 'INVENTORY_IMPORT_ROOT is not set: ImportKayobeConfig reads any directory this service can read');
      const imports = new KayobeImportService(svc, new MongoImportRepository(kit.store('imports', 'import')), new KayobeConfigDirSource(root), {
        paths: new RootedConfigPaths(root),
      });
      return {
        grpc: [inventoryGrpc(svc, imports, kit.log, shutdown.signal)],
        consumers: inventoryConsumers(svc),
        beforeStop: () => shutdown.abort(),
      };
    },
    opts,
  );
}
