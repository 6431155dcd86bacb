import { serverStream, toServiceError, unary } from '@stackyard/grpc';
import type { Logger } from '@stackyard/telemetry';
import { ValidationError } from '@stackyard/errors';
import { Events } from '@stackyard/events';
import { HostState, type Host } from '@stackyard/proto/inventory/v1/inventory';
import type { HostDeleted, HostHardwareRecorded, HostRecorded, HostRegistered, HostUpdated } from '@stackyard/proto/inventory/v1/events';
import {
  HostChangeType,
  InventoryServiceService,
  type ImportedHost,
  type ImportKayobeConfigResponse,
  type ImportSummary,
  type InventoryServiceServer,
  type WatchHostsResponse,
} from '@stackyard/proto/inventory/v1/inventory_service';
import type { DeploymentService } from '../../application/deployments';
import type { GroupService } from '../../application/groups';
import type { InventoryService, WatchItem } from '../../application/inventory';
import type { ImportResult, KayobeImportService } from '../../application/kayobe-import';
import { HOST_STATES, type HostLifecycle } from '../../domain/host';
import type { ImportRecord } from '../../domain/kayobe/import-record';

function networksOf(rec: ImportRecord) {
  return rec.networks.map((n) => ({
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
  }));
}

function importedHosts(rec: ImportRecord, live?: ImportResult['hosts']): ImportedHost[] {
  return rec.hosts.map((h, i) => ({
    name: h.name,
    hostId: h.hostId,
    groups: [...h.groups],
    directGroups: [...h.directGroups],
    networks: h.networks.map((n) => ({ name: n.name, interface: n.interface, address: n.address })),
    bmc: h.bmc ? { ...h.bmc } : undefined,
    source: h.source,
    register: h.register,
    host: live?.[i]?.host,
    registered: live ? (live[i]?.registered ?? false) : h.register && rec.state === 'materialized',
    change: live?.[i]?.change ?? h.change,
  }));
}

function importResponse(r: ImportResult): ImportKayobeConfigResponse {
  const rec = r.record;
  return {
    importId: rec.id,
    siteId: rec.siteId,
    dryRun: r.dryRun,
    hosts: importedHosts(rec, r.hosts),
    networks: networksOf(rec),
    allocations: rec.allocations.map((a) => ({ ...a })),
    warnings: rec.warnings.map((w) => ({ ...w, hosts: [...w.hosts] })),
    complete: r.complete,
  };
}

export function importSummary(rec: ImportRecord): ImportSummary {
  const count = (c: string) => rec.outcome?.[c as 'added'] ?? rec.hosts.filter((h) => h.change === c).length;
  return {
    importId: rec.id,
    siteId: rec.siteId,
    requestId: rec.requestId,
    configPath: rec.configPath,
    environment: rec.environment,
    state: rec.state,
    contentHash: rec.contentHash,
    registerHosts: rec.options.registerHosts,
    registerGroups: [...rec.options.registerGroups],
    bmcDriver: rec.options.bmcDriver,
    hostsCount: rec.hosts.length,
    hostsAdded: count('added'),
    hostsChanged: count('changed'),
    hostsUnchanged: count('unchanged'),
    warningsCount: rec.warnings.length,
    hostsMissing: [...(rec.hostsMissing ?? [])],
    createdAt: rec.createdAt ?? '',
  };
}

const STATE_BY_PROTO = new Map<HostState, HostLifecycle>(Object.entries(HOST_STATES).map(([k, v]) => [v, k as HostLifecycle]));

/** ListHosts' `state`: unset or UNSPECIFIED means any; DELETED is never listed. */
function stateFilter(s: HostState | undefined): HostLifecycle | undefined {
  if (s === undefined || s === HostState.HOST_STATE_UNSPECIFIED) return undefined;
  const l = STATE_BY_PROTO.get(s);
  if (!l || l === 'deleted') throw new ValidationError('state', `${String(s)} is not a state hosts can be listed by`);
  return l;
}

/** One WatchHosts message from a snapshot host or an inventory event. */
export function watchMessage(item: WatchItem): WatchHostsResponse | null {
  const base = { hostId: '', host: undefined as Host | undefined, eventId: '', eventType: '', changedFields: [] as string[] };
  if (item.kind === 'snapshot') return { ...base, revision: item.revision, type: HostChangeType.HOST_CHANGE_TYPE_SNAPSHOT, hostId: item.host.id, host: item.host };
  if (item.kind === 'synced') return { ...base, revision: item.revision, type: HostChangeType.HOST_CHANGE_TYPE_SYNCED };
  const { revision, event } = item.change;
  const ev = { ...base, revision, hostId: event.entityId, eventId: event.id, eventType: event.type };
  switch (event.type) {
    case Events.HostRegistered.type:
      return { ...ev, type: HostChangeType.HOST_CHANGE_TYPE_REGISTERED, host: (event.data as HostRegistered).host };
    case Events.HostRecorded.type:
      return { ...ev, type: HostChangeType.HOST_CHANGE_TYPE_RECORDED, host: (event.data as HostRecorded).host };
    case Events.HostUpdated.type: {
      const d = event.data as HostUpdated;
      return { ...ev, type: HostChangeType.HOST_CHANGE_TYPE_UPDATED, host: d.host, changedFields: [...d.changedFields] };
    }
    case Events.HostHardwareRecorded.type:
      return { ...ev, type: HostChangeType.HOST_CHANGE_TYPE_HARDWARE_RECORDED, host: (event.data as HostHardwareRecorded).host };
    case Events.HostDeleted.type:
      return { ...ev, type: HostChangeType.HOST_CHANGE_TYPE_DELETED, host: (event.data as HostDeleted).host };
    default:
      return null;
  }
}

export function inventoryGrpc(svc: InventoryService, imports: KayobeImportService, log: Logger, shutdown: AbortSignal, groups: GroupService, deployments: DeploymentService) {
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
      svc.listHosts(
        { siteId: req.siteId || undefined, group: req.group || undefined, labelSelector: req.labelSelector, state: stateFilter(req.state) },
        req.pageSize,
        req.pageToken,
      ),
    ),
    updateHost: unary(log, async (req) => ({
      host: await svc.updateHost({
        id: req.id,
        version: req.version,
        updateMask: req.updateMask,
        groups: req.groups,
        bmc: req.bmc,
        labels: req.labels,
        hardwareProfile: req.hardwareProfile,
      }),
    })),
    deleteHost: unary(log, async (req) => ({ host: await svc.deleteHost(req.id, req.version) })),
    watchHosts: serverStream(log, async (req, call) => {
      const ac = new AbortController();
      const abort = () => ac.abort();
      call.on('cancelled', abort);
      call.on('close', abort);
      shutdown.addEventListener('abort', abort, { once: true });
      try {
        if (shutdown.aborted) return;
        await watch();
      } catch (e) {
        // Sent as the stream's status: grpc-js ends a stream with its pending status on 'error'
        // (a destroyed stream would never send it, leaving the client waiting).
        const se = toServiceError(e);
        if (se.code === 13) log.error({ err: e }, 'WatchHosts failed');
        call.emit('error', Object.assign(new Error(se.details), se));
      } finally {
        shutdown.removeEventListener('abort', abort);
      }
      async function watch() {
        await svc.watchHosts(req.siteId, req.fromRevision, ac.signal, async (item) => {
          const m = watchMessage(item);
          if (!m || ac.signal.aborted) return;
          // Back-pressure: wait for the client to drain before reading further.
          if (!call.write(m)) await new Promise<void>((resolve) => {
            const done = () => {
              ac.signal.removeEventListener('abort', done);
              call.off('drain', done);
              resolve();
            };
            call.once('drain', done);
            ac.signal.addEventListener('abort', done, { once: true });
          });
        });
      }
    }),
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
    getImport: unary(log, async (req) => {
      const rec = await imports.getImport(req.importId);
      return {
        import: importSummary(rec),
        hosts: importedHosts(rec),
        networks: networksOf(rec),
        allocations: rec.allocations.map((a) => ({ ...a })),
        warnings: rec.warnings.map((w) => ({ ...w, hosts: [...w.hosts] })),
      };
    }),
    listImports: unary(log, async (req) => {
      const r = await imports.listImports(req.siteId, req.pageSize, req.pageToken);
      return { imports: r.imports.map(importSummary), nextPageToken: r.nextPageToken };
    }),
    createGroup: unary(log, async (req) => ({
      group: await groups.createGroup({ siteId: req.siteId, name: req.name, description: req.description, children: req.children, vars: req.vars }),
    })),
    getGroup: unary(log, async (req) => ({ group: await groups.getGroup(req.id) })),
    listGroups: unary(log, async (req) => groups.listGroups(req.siteId, req.pageSize, req.pageToken)),
    updateGroup: unary(log, async (req) => ({
      group: await groups.updateGroup({
        id: req.id,
        version: req.version,
        updateMask: req.updateMask,
        description: req.description,
        children: req.children,
        vars: req.vars,
      }),
    })),
    deleteGroup: unary(log, async (req) => ({ group: await groups.deleteGroup(req.id, req.version, req.force) })),
    createDeployment: unary(log, async (req) => ({
      deployment: await deployments.createDeployment({
        siteId: req.siteId,
        name: req.name,
        description: req.description,
        hostIds: req.hostIds,
        groups: req.groups,
        roles: req.roles,
        services: req.services,
      }),
    })),
    getDeployment: unary(log, async (req) => ({ deployment: await deployments.getDeployment(req.id) })),
    listDeployments: unary(log, async (req) => deployments.listDeployments(req.siteId, req.pageSize, req.pageToken)),
    updateDeployment: unary(log, async (req) => ({
      deployment: await deployments.updateDeployment({
        id: req.id,
        version: req.version,
        updateMask: req.updateMask,
        description: req.description,
        hostIds: req.hostIds,
        groups: req.groups,
        roles: req.roles,
        services: req.services,
      }),
    })),
    deleteDeployment: unary(log, async (req) => ({ deployment: await deployments.deleteDeployment(req.id, req.version) })),
  };
  return { name: 'stackyard.inventory.v1.InventoryService', definition: InventoryServiceService, impl };
}
