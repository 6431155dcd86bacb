import { unary } from '@stackyard/grpc';
import type { Logger } from '@stackyard/telemetry';
import { InventoryServiceService, type InventoryServiceServer } from '@stackyard/proto/inventory/v1/inventory_service';
import type { InventoryService } from '../../application/inventory';

export function inventoryGrpc(svc: InventoryService, log: Logger) {
  const impl: InventoryServiceServer = {
    createSite: unary(log, async (req) => {
      const s = await svc.createSite(req.id, req.displayName);
      return { site: { id: s.id, displayName: s.displayName, version: 1 } };
    }),
    getSite: unary(log, async (req) => {
      const s = await svc.getSite(req.id);
      return { site: { id: s.data.id, displayName: s.data.displayName, version: s.version } };
    }),
    registerHost: unary(log, async (req) => ({
      host: await svc.registerHost({
        siteId: req.siteId,
        name: req.name,
        groups: req.groups,
        bmc: req.bmc,
        labels: req.labels,
        hardwareProfile: req.hardwareProfile,
      }),
    })),
    getHost: unary(log, async (req) => ({ host: await svc.getHost(req.id) })),
    listHosts: unary(log, async (req) =>
      svc.listHosts({ siteId: req.siteId || undefined, group: req.group || undefined }, req.pageSize, req.pageToken),
    ),
  };
  return { name: 'stackyard.inventory.v1.InventoryService', definition: InventoryServiceService, impl };
}
