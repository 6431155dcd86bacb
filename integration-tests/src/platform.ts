import { call } from '@stackyard/grpc';
import { clientsFor, type Clients } from '@stackyard/cli';
import { startDeployment, configSchema as deploymentSchema } from '@stackyard/deployment';
import { startInventory, configSchema as inventorySchema } from '@stackyard/inventory';
import { startMonitoring, configSchema as monitoringSchema } from '@stackyard/monitoring';
import { startNetwork, configSchema as networkSchema } from '@stackyard/network';
import { startProvisioning, configSchema as provisioningSchema } from '@stackyard/provisioning';
import type { RunningService } from '@stackyard/service';
import { mongoUrl } from '@stackyard/testing';
import { DeploymentServiceClient } from '@stackyard/proto/deployment/v1/deployment_service';
import { ProvisioningServiceClient } from '@stackyard/proto/provisioning/v1/provisioning_service';
import { insecure } from '@stackyard/grpc';

export type Name = 'inventory' | 'provisioning' | 'network' | 'deployment' | 'monitoring';

/** The five services in this process, on a private NATS and the run's FerretDB, with lab drivers. */
export class Platform {
  readonly services = new Map<Name, RunningService>();
  clients!: Clients & { provisioning: ProvisioningServiceClient; deployment: DeploymentServiceClient };

  constructor(
    private readonly natsUrl: string,
    readonly dbPrefix: string,
    private readonly env: Partial<Record<Name, Record<string, string>>> = {},
  ) {}

  private config(name: Name, schema: { parse(v: unknown): unknown }) {
    return schema.parse({
      NATS_URL: this.natsUrl,
      MONGO_URL: mongoUrl(),
      MONGO_DB_PREFIX: this.dbPrefix,
      GRPC_PORT: '0',
      HTTP_PORT: '0',
      LOG_LEVEL: 'silent',
      ...(this.env[name] ?? {}),
    });
  }

  async start(name: Name): Promise<RunningService> {
    const starters = {
      inventory: () => startInventory(this.config('inventory', inventorySchema) as never),
      provisioning: () => startProvisioning(this.config('provisioning', provisioningSchema) as never),
      network: () => startNetwork(this.config('network', networkSchema) as never),
      deployment: () => startDeployment(this.config('deployment', deploymentSchema) as never),
      monitoring: () => startMonitoring(this.config('monitoring', monitoringSchema) as never),
    };
    const svc = await starters[name]();
    this.services.set(name, svc);
    return svc;
  }

  async startAll(): Promise<void> {
    for (const n of ['inventory', 'provisioning', 'network', 'deployment', 'monitoring'] as const) await this.start(n);
    const port = (n: Name) => this.services.get(n)!.grpcPort;
    this.clients = {
      ...clientsFor({ inventory: port('inventory'), network: port('network'), monitoring: port('monitoring') }),
      provisioning: new ProvisioningServiceClient(`127.0.0.1:${port('provisioning')}`, insecure()),
      deployment: new DeploymentServiceClient(`127.0.0.1:${port('deployment')}`, insecure()),
    };
  }

  async stop(name: Name): Promise<void> {
    await this.services.get(name)?.stop();
    this.services.delete(name);
  }

  async stopAll(): Promise<void> {
    if (this.clients) {
      this.clients.close();
      this.clients.provisioning.close();
      this.clients.deployment.close();
    }
    for (const n of [...this.services.keys()].reverse()) await this.stop(n);
  }

  /** One site with an admin network and a VLAN'd internal network. */
  async defineSite(siteId: string): Promise<void> {
    const c = this.clients;
    await call(c.inventory, c.inventory.createSite, { id: siteId, displayName: siteId });
    const net = (name: string, cidr: string, start: string, end: string, vlan: number, iface: string) =>
      call(c.network, c.network.defineNetwork, {
        network: { siteId, name, cidr, gateway: '', allocationPoolStart: start, allocationPoolEnd: end, vlan, mtu: vlan ? 9000 : 1500, groups: ['controllers', 'compute'], interface: iface, version: 0 },
      });
    await net('provision_oc', '10.0.0.0/24', '10.0.0.10', '10.0.0.250', 0, '{nic0}');
    await net('internal', '10.1.0.0/24', '10.1.0.10', '10.1.0.250', 101, '{nic1}');
  }

  registerHost(siteId: string, name: string, groups: string[] = ['compute'], bmc?: { address: string; driver: string; credentialRef: string }) {
    const c = this.clients;
    return call(c.inventory, c.inventory.registerHost, {
      siteId,
      name,
      groups,
      bmc: bmc ?? { address: `bmc-${name}`, driver: 'lab', credentialRef: `vault:bmc/${name}` },
      labels: {},
      hardwareProfile: groups.includes('controllers') ? 'controller-std' : 'compute-std',
      requestId: name,
    });
  }
}
