import { insecure } from '@stackyard/grpc';
import { InventoryServiceClient } from '@stackyard/proto/inventory/v1/inventory_service';
import { MonitoringServiceClient } from '@stackyard/proto/monitoring/v1/monitoring_service';
import { NetworkServiceClient } from '@stackyard/proto/network/v1/network_service';

export interface Clients {
  readonly inventory: InventoryServiceClient;
  readonly network: NetworkServiceClient;
  readonly monitoring: MonitoringServiceClient;
  close(): void;
}

export function clientsFor(ports: { inventory: number; network: number; monitoring: number }, host = '127.0.0.1'): Clients {
  const inventory = new InventoryServiceClient(`${host}:${ports.inventory}`, insecure());
  const network = new NetworkServiceClient(`${host}:${ports.network}`, insecure());
  const monitoring = new MonitoringServiceClient(`${host}:${ports.monitoring}`, insecure());
  return {
    inventory,
    network,
    monitoring,
    close: () => {
      inventory.close();
      network.close();
      monitoring.close();
    },
  };
}
