import { startService, type RunningService } from '@stackyard/service';
import type { Logger } from '@stackyard/telemetry';
import { InventoryService } from './application/inventory';
import { KayobeImportService } from './application/kayobe-import';
import { inventoryGrpc } from './adapters/grpc/handlers';
import { KayobeConfigDirSource } from './adapters/kayobe-config/reader';
import { MongoHostRepository, MongoImportRepository, MongoSiteRepository } from './adapters/mongo/repositories';
import { inventoryConsumers } from './adapters/nats/consumers';
import type { InventoryConfig } from './config';

/** Composition root: wires adapters to the application; listens only when started. */
export function startInventory(config: InventoryConfig, opts: { log?: Logger } = {}): Promise<RunningService> {
  return startService(
    'inventory',
    config,
    (kit) => {
      const svc = new InventoryService(
        new MongoSiteRepository(kit.store('sites', 'site')),
        new MongoHostRepository(kit.store('hosts', 'host')),
      );
      const imports = new KayobeImportService(svc, new MongoImportRepository(kit.store('imports', 'import')), new KayobeConfigDirSource());
      return { grpc: [inventoryGrpc(svc, imports, kit.log)], consumers: inventoryConsumers(svc) };
    },
    opts,
  );
}
