import { Gauge } from 'prom-client';
import { startService, type RunningService } from '@stackyard/service';
import type { Logger } from '@stackyard/telemetry';
import { ProvisioningService } from './application/provisioning';
import { WorkLimiter } from './application/limits';
import type { BareMetalDriver } from './application/ports';
import { FileCredentialStore } from './adapters/credentials/file-credential-store';
import { provisioningGrpc } from './adapters/grpc/handlers';
import { IronicDriver } from './adapters/ironic/ironic-driver';
import { LabDriver } from './adapters/lab/lab-driver';
import { RedfishDriver } from './adapters/redfish/redfish-driver';
import { MongoNodeRepository } from './adapters/mongo/node-repository';
import { provisioningConsumers } from './adapters/nats/consumers';
import { hostDeletedConsumer } from './adapters/nats/host-deleted.consumer';
import { HostDeletedHandler } from './application/host-deleted';
import type { ProvisioningConfig } from './config';

/** The drivers this replica offers, by the name hosts give in `bmc.driver`. */
export function driversFor(config: ProvisioningConfig): Map<string, BareMetalDriver> {
  const lab = new LabDriver({ latencyMs: config.LAB_LATENCY_MS, faultRate: config.LAB_FAULT_RATE, failSteps: config.LAB_FAIL_STEPS, seed: config.LAB_SEED });
  const redfish = new RedfishDriver({
    scheme: config.REDFISH_SCHEME,
    verifyTls: config.REDFISH_CA_FILE ?? config.REDFISH_VERIFY_TLS,
    pollIntervalMs: config.REDFISH_POLL_INTERVAL_MS,
    requestTimeoutMs: config.REDFISH_REQUEST_TIMEOUT_MS,
    deployTimeoutMs: config.DEPLOY_TIMEOUT_MS,
    powerTimeoutMs: config.POWER_TIMEOUT_MS,
  });
  const drivers: BareMetalDriver[] = [lab, redfish];
  if (config.IRONIC_URL) {
    drivers.push(
      new IronicDriver({
        url: config.IRONIC_URL,
        hardwareType: config.IRONIC_HARDWARE_TYPE,
        pollIntervalMs: config.IRONIC_POLL_INTERVAL_MS,
        lockedRetries: config.IRONIC_LOCKED_RETRIES,
        lockedRetryIntervalMs: config.IRONIC_LOCKED_RETRY_INTERVAL_MS,
        requestTimeoutMs: config.IRONIC_REQUEST_TIMEOUT_MS,
      }),
    );
  }
  return new Map(drivers.map((d) => [d.name, d]));
}

export function startProvisioning(config: ProvisioningConfig, opts: { log?: Logger; drivers?: Map<string, BareMetalDriver> } = {}): Promise<RunningService> {
  return startService(
    'provisioning',
    config,
    (kit) => {
      const limiter = new WorkLimiter({
        perKind: { inspect: config.MAX_INSPECTIONS_IN_FLIGHT, deploy: config.MAX_DEPLOYS_IN_FLIGHT },
        perSite: config.MAX_IN_FLIGHT_PER_SITE,
        perBmc: config.MAX_IN_FLIGHT_PER_BMC,
      });
      // Read at scrape time: what holds and what waits for each limit.
      new Gauge({
        name: 'stackyard_provisioning_work_in_flight',
        help: 'Driver work holding a limit (deploy, inspect, site:<id>, bmc:<address>)',
        labelNames: ['limit'],
        registers: [kit.ops.registry],
        collect() {
          this.reset();
          for (const l of limiter.snapshot()) this.set({ limit: l.name }, l.inFlight);
        },
      });
      new Gauge({
        name: 'stackyard_provisioning_work_queued',
        help: 'Driver work waiting for a limit',
        labelNames: ['limit'],
        registers: [kit.ops.registry],
        collect() {
          this.reset();
          for (const l of limiter.snapshot()) this.set({ limit: l.name }, l.queued.length);
        },
      });
      const nodes = new MongoNodeRepository(kit.store('nodes', 'node', MongoNodeRepository.storeOptions));
      const svc = new ProvisioningService(nodes, opts.drivers ?? driversFor(config), {
        image: config.PROVISION_IMAGE,
        imageBaseUrl: config.PROVISION_IMAGE_BASE_URL,
        credentials: config.BMC_CREDENTIALS_FILE ? new FileCredentialStore(config.BMC_CREDENTIALS_FILE, config.BMC_CREDENTIALS_KEY_FILE) : undefined,
        limiter,
        timeouts: {
          enroll: config.ENROLL_TIMEOUT_MS,
          inspect: config.INSPECT_TIMEOUT_MS,
          deploy: config.DEPLOY_TIMEOUT_MS,
          deprovision: config.DEPROVISION_TIMEOUT_MS,
          power: config.POWER_TIMEOUT_MS,
        },
      });
      return {
        grpc: [provisioningGrpc(svc, kit.log)],
        consumers: [
          ...provisioningConsumers(svc, {
            enroll: config.MAX_ENROLLS_IN_FLIGHT,
            inspect: config.MAX_INSPECTIONS_IN_FLIGHT,
            deploy: config.MAX_DEPLOYS_IN_FLIGHT,
          }),
          hostDeletedConsumer(new HostDeletedHandler(nodes)),
        ],
      };
    },
    opts,
  );
}
