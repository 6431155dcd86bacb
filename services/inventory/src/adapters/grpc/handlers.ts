import { unary } from '@stackyard/grpc';
import type { Logger } from '@stackyard/telemetry';
import { InventoryServiceService, type ImportKayobeConfigResponse, type InventoryServiceServer } from '@stackyard/proto/inventory/v1/inventory_service';
import type { InventoryService } from '../../application/inventory';
import type { ImportResult, KayobeImportService } from '../../application/kayobe-import';

function importResponse(r: ImportResult): ImportKayobeConfigResponse {
  const rec = r.record;
  return {
    importId: rec.id,
    siteId: rec.siteId,
    dryRun: r.dryRun,
    hosts: rec.hosts.map((h, i) => ({
      name: h.name,
      hostId: h.hostId,
      groups: [...h.groups],
      directGroups: [...h.directGroups],
      networks: h.networks.map((n) => ({ name: n.name, interface: n.interface, address: n.address })),
      bmc: h.bmc ? { ...h.bmc } : undefined,
      source: h.source,
      register: h.register,
      host: r.hosts[i]?.host,
      registered: r.hosts[i]?.registered ?? false,
    })),
    networks: rec.networks.map((n) => ({
      name: n.name,
      roles: [...n.roles],
      cidr: n.cidr,
      gateway: n.gateway,
      allocationPoolStart: n.allocationPoolStart,
      allocationPoolEnd: n.allocationPoolEnd,
      vlan: n.vlan,
      mtu: n.mtu,
      groups: [...n.groups],
      interface: n.interface,
    })),
    allocations: rec.allocations.map((a) => ({ ...a })),
    warnings: rec.warnings.map((w) => ({ ...w, hosts: [...w.hosts] })),
    complete: r.complete,
  };
}

export function inventoryGrpc(svc: InventoryService, imports: KayobeImportService, log: Logger) {
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
    importKayobeConfig: unary(log, async (req) =>
      importResponse(
        await imports.importConfig({
          configPath: req.configPath,
          environment: req.environment,
          siteId: req.siteId,
          dryRun: req.dryRun,
          requestId: req.requestId,
          registerHosts: req.registerHosts,
          registerGroups: req.registerGroups,
          bmcDriver: req.bmcDriver,
        }),
      ),
    ),
  };
  return { name: 'stackyard.inventory.v1.InventoryService', definition: InventoryServiceService, impl };
}
