import { Gauge } from 'prom-client';
import { startService, type RunningService } from '@stackyard/service';
import { KeyedSerializer } from '@stackyard/nats';
import type { Logger } from '@stackyard/telemetry';
import { MonitoringService } from './application/monitoring';
import { monitoringGrpc } from './adapters/grpc/handlers';
import { registerDashboard } from './adapters/http/dashboard';
import { MongoProgressRepository } from './adapters/mongo/repository';
import { monitoringConsumers } from './adapters/nats/consumers';
import { hostDeletedConsumer, hostUpdatedConsumer } from './adapters/nats/host-changes.consumer';
import { HostDeletedHandler } from './application/host-deleted';
import { HostUpdatedHandler } from './application/host-updated';
import type { MonitoringConfig } from './config';

export function startMonitoring(config: MonitoringConfig, opts: { log?: Logger } = {}): Promise<RunningService> {
  const shutdown = new AbortController();
  return startService(
    'monitoring',
    config,
    (kit) => {
      const progress = new MongoProgressRepository(kit.store('progress', 'node progress', MongoProgressRepository.storeOptions));
      const svc = new MonitoringService(progress);
      const perNode = new KeyedSerializer();
      registerDashboard(kit.ops.app, svc, shutdown.signal, kit.tokens);
      // Read at scrape time from the projection (so every replica reports the same): 0 for sites with none.
      new Gauge({
        name: 'stackyard_monitoring_nodes_degraded',
        help: 'Nodes whose state is degraded (ready, then unhealthy containers), per site',
        labelNames: ['site'],
        registers: [kit.ops.registry],
        async collect() {
          const bySite = new Map<string, number>();
          for (const r of await svc.list('')) bySite.set(r.data.host.siteId, (bySite.get(r.data.host.siteId) ?? 0) + (r.data.state === 'degraded' ? 1 : 0));
          this.reset();
          for (const [site, n] of bySite) this.set({ site }, n);
        },
      });
      return {
        grpc: [monitoringGrpc(svc, kit.log, shutdown.signal)],
        // One node's facts arrive from many consumers at once: applied one at a time per node in
        // this process, they do not conflict on its progress record (each conflict costs a re-run).
        consumers: [...monitoringConsumers(svc), hostDeletedConsumer(new HostDeletedHandler(progress)), hostUpdatedConsumer(new HostUpdatedHandler(progress))].map(
          (c) => ({ ...c, serializer: perNode }),
        ),
        beforeStop: () => shutdown.abort(),
      };
    },
    opts,
  );
}
