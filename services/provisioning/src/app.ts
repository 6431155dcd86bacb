import { startService, type RunningService } from '@stackyard/service';
import type { Logger } from '@stackyard/telemetry';
import { ProvisioningService } from './application/provisioning';
import type { BareMetalDriver } from './application/ports';
import { provisioningGrpc } from './adapters/grpc/handlers';
import { LabDriver } from './adapters/lab/lab-driver';
import { MongoNodeRepository } from './adapters/mongo/node-repository';
import { provisioningConsumers } from './adapters/nats/consumers';
import type { ProvisioningConfig } from './config';

export function startProvisioning(config: ProvisioningConfig, opts: { log?: Logger } = {}): Promise<RunningService> {
  return startService(
    'provisioning',
    config,
    (kit) => {
      const lab = new LabDriver({
        latencyMs: config.LAB_LATENCY_MS,
        faultRate: config.LAB_FAULT_RATE,
        failSteps: config.LAB_FAIL_STEPS,
        seed: config.LAB_SEED,
      });
      const drivers = new Map<string, BareMetalDriver>([[lab.name, lab]]);
      const svc = new ProvisioningService(new MongoNodeRepository(kit.store('nodes', 'node')), drivers, config.PROVISION_IMAGE);
      return {
        grpc: [provisioningGrpc(svc, kit.log)],
        consumers: provisioningConsumers(svc, {
          enroll: config.MAX_ENROLLS_IN_FLIGHT,
          inspect: config.MAX_INSPECTIONS_IN_FLIGHT,
          deploy: config.MAX_DEPLOYS_IN_FLIGHT,
        }),
      };
    },
    opts,
  );
}
