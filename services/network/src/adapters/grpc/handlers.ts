import { ValidationError } from '@stackyard/errors';
import { unary } from '@stackyard/grpc';
import type { Logger } from '@stackyard/telemetry';
import type { Network } from '@stackyard/proto/network/v1/network';
import { NetworkServiceService, type NetworkServiceServer } from '@stackyard/proto/network/v1/network_service';
import type { NetworkService } from '../../application/network';
import type { NetworkData } from '../../domain/network';

function fromProto(n: Network | undefined): NetworkData {
  if (!n) throw new ValidationError('network', 'required');
  return {
    siteId: n.siteId,
    name: n.name,
    cidr: n.cidr,
    gateway: n.gateway,
    allocationPoolStart: n.allocationPoolStart,
    allocationPoolEnd: n.allocationPoolEnd,
    vlan: n.vlan,
    mtu: n.mtu,
    groups: n.groups,
    interface: n.interface,
  };
}

const toProto = (d: NetworkData, version: number): Network => ({ ...d, groups: [...d.groups], version });

export function networkGrpc(svc: NetworkService, log: Logger) {
  const impl: NetworkServiceServer = {
    defineNetwork: unary(log, async (req) => {
      const r = await svc.defineNetwork(fromProto(req.network));
      return { network: toProto(r.data, r.version) };
    }),
    getNetwork: unary(log, async (req) => {
      const r = await svc.getNetwork(req.siteId, req.name);
      return { network: toProto(r.data, r.version) };
    }),
    listNetworks: unary(log, async (req) => ({ networks: (await svc.listNetworks(req.siteId)).map((n) => toProto(n, 0)) })),
    getHostNetworkConfig: unary(log, async (req) => {
      const c = await svc.getHostConfig(req.hostId);
      return {
        config: {
          hostId: c.data.host.hostId,
          siteId: c.data.host.siteId,
          allocations: c.data.allocations.map((a) => ({ siteId: c.data.host.siteId, hostId: c.data.host.hostId, ...a })),
          files: [...c.data.files],
          version: c.version,
        },
      };
    }),
  };
  return { name: 'stackyard.network.v1.NetworkService', definition: NetworkServiceService, impl };
}
