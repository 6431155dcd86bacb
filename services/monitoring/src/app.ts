import { startService, type RunningService } from '@stackyard/service';
import type { Logger } from '@stackyard/telemetry';
import { MonitoringService } from './application/monitoring';
import { monitoringGrpc } from './adapters/grpc/handlers';
import { registerDashboard } from './adapters/http/dashboard';
import { MongoProgressRepository } from './adapters/mongo/repository';
import { monitoringConsumers } from './adapters/nats/consumers';
import type { MonitoringConfig } from './config';

export function startMonitoring(config: MonitoringConfig, opts: { log?: Logger } = {}): Promise<RunningService> {
  const shutdown = new AbortController();
  return startService(
    'monitoring',
    config,
    (kit) => {
      const svc = new MonitoringService(new MongoProgressRepository(kit.store('progress', 'node progress')));
      registerDashboard(kit.ops.app, svc, shutdown.signal);
      return {
        grpc: [monitoringGrpc(svc, kit.log, shutdown.signal)],
        consumers: monitoringConsumers(svc),
        beforeStop: () => shutdown.abort(),
      };
    },
    opts,
  );
}
