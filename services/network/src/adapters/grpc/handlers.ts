import { ValidationError } from '@stackyard/errors';
import { unary } from '@stackyard/grpc';
import type { Logger } from '@stackyard/telemetry';
import { Severity, type KayobeAttributes, type KollaHostVars, type Network, type ValidationIssue } from '@stackyard/proto/network/v1/network';
import { NetworkServiceService, SwitchApplyOutcome, type NetworkServiceServer } from '@stackyard/proto/network/v1/network_service';
import type { NetworkService } from '../../application/network';
import type { PhysicalNetworkService, SwitchResult } from '../../application/physical-network';
import type { KollaHostVarsView } from '../../domain/roles';
import type { NetworkData, NetworkIssue, NetworkKayobe } from '../../domain/network';
import { formatIp } from '../../domain/ipv4';

const str = (s: string) => (s === '' ? undefined : s);
const list = <T>(xs: readonly T[]) => (xs.length === 0 ? undefined : [...xs]);
const map = <T>(m: Readonly<Record<string, T>>) => (Object.keys(m).length === 0 ? undefined : { ...m });

/** Proto `KayobeAttributes` → the domain's Kayobe attribute names; empty means unset. */
export function kayobeFromProto(k: KayobeAttributes | undefined): NetworkKayobe | undefined {
  if (!k) return undefined;
  const out: Record<string, unknown> = {
    roles: list(k.roles),
    routes: list(
      k.routes.map((r) => drop({ cidr: r.cidr, gateway: str(r.gateway), table: str(r.table), options: list(r.options), metric: r.metric, src: str(r.src), onlink: r.onlink })),
    ),
    rules: list(k.rules.map((r) => drop({ from: str(r.from), to: str(r.to), priority: r.priority, table: str(r.table) }))),
    route_tables: list(k.routeTables.map((t) => ({ id: t.id, name: t.name }))),
    physical_network: str(k.physicalNetwork),
    vip_address: str(k.vipAddress),
    fqdn: str(k.fqdn),
    no_ip: k.noIp || undefined,
    bootproto: str(k.bootproto),
    defroute: k.defroute,
    bridge_ports: k.bridge ? [...k.bridge.ports] : undefined,
    bridge_stp: k.bridge?.stp,
    bond_slaves: k.bond ? [...k.bond.slaves] : undefined,
    bond_mode: str(k.bond?.mode ?? ''),
    bond_miimon: k.bond?.miimon,
    bond_updelay: k.bond?.updelay,
    bond_downdelay: k.bond?.downdelay,
    bond_xmit_hash_policy: str(k.bond?.xmitHashPolicy ?? ''),
    bond_lacp_rate: str(k.bond?.lacpRate ?? ''),
    bond_ad_select: str(k.bond?.adSelect ?? ''),
    parent: str(k.parent),
    macaddress: str(k.macaddress),
    inspection_allocation_pool_start: str(k.inspectionAllocationPoolStart),
    inspection_allocation_pool_end: str(k.inspectionAllocationPoolEnd),
    inspection_gateway: str(k.inspectionGateway),
    inspection_dns_servers: list(k.inspectionDnsServers),
    neutron_allocation_pool_start: str(k.neutronAllocationPoolStart),
    neutron_allocation_pool_end: str(k.neutronAllocationPoolEnd),
    neutron_gateway: str(k.neutronGateway),
    neutron_dns_servers: list(k.neutronDnsServers),
    ethtool_config: k.ethtoolConfig ? drop({ ring: map(k.ethtoolConfig.ring), feature: map(k.ethtoolConfig.feature) }) : undefined,
    ingress_qos_map: list(k.ingressQosMap.map((e) => ({ from: e.from, to: e.to }))),
    egress_qos_map: list(k.egressQosMap.map((e) => ({ from: e.from, to: e.to }))),
    ethtool_opts: str(k.ethtoolOpts),
    zone: str(k.zone),
    libvirt_network_name: str(k.libvirtNetworkName),
    type: str(k.type),
  };
  const d = drop(out);
  return Object.keys(d).length === 0 ? undefined : (d as NetworkKayobe);
}

/** Domain → proto `KayobeAttributes`. */
export function kayobeToProto(k: NetworkKayobe | undefined): KayobeAttributes | undefined {
  if (!k) return undefined;
  const bool = (v: unknown) => (v === undefined || v === null ? undefined : v === true || v === 'true' || v === 'yes');
  const num = (v: unknown) => (v === undefined || v === null ? undefined : Number(v));
  const s = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  return {
    roles: [...(k.roles ?? [])],
    routes: (k.routes ?? []).map((r) => ({ cidr: r.cidr, gateway: s(r.gateway), table: s(r.table), options: [...(r.options ?? [])], metric: r.metric, src: s(r.src), onlink: r.onlink })),
    rules: (k.rules ?? []).map((r) => ({ from: s(r.from), to: s(r.to), priority: r.priority, table: s(r.table) })),
    routeTables: (k.route_tables ?? []).map((t) => ({ ...t })),
    physicalNetwork: s(k.physical_network),
    vipAddress: s(k.vip_address),
    fqdn: s(k.fqdn),
    noIp: bool(k.no_ip) ?? false,
    bootproto: s(k.bootproto),
    defroute: bool(k.defroute),
    bridge: k.bridge_ports ? { ports: [...k.bridge_ports], stp: bool(k.bridge_stp) } : undefined,
    bond: k.bond_slaves
      ? {
          slaves: [...k.bond_slaves],
          mode: s(k.bond_mode),
          miimon: num(k.bond_miimon),
          updelay: num(k.bond_updelay),
          downdelay: num(k.bond_downdelay),
          xmitHashPolicy: s(k.bond_xmit_hash_policy),
          lacpRate: s(k.bond_lacp_rate),
          adSelect: s(k.bond_ad_select),
        }
      : undefined,
    parent: s(k.parent),
    macaddress: s(k.macaddress),
    inspectionAllocationPoolStart: s(k.inspection_allocation_pool_start),
    inspectionAllocationPoolEnd: s(k.inspection_allocation_pool_end),
    inspectionGateway: s(k.inspection_gateway),
    inspectionDnsServers: [...(k.inspection_dns_servers ?? [])],
    neutronAllocationPoolStart: s(k.neutron_allocation_pool_start),
    neutronAllocationPoolEnd: s(k.neutron_allocation_pool_end),
    neutronGateway: s(k.neutron_gateway),
    neutronDnsServers: [...(k.neutron_dns_servers ?? [])],
    ethtoolConfig: k.ethtool_config ? { ring: { ...(k.ethtool_config.ring ?? {}) }, feature: { ...(k.ethtool_config.feature ?? {}) } } : undefined,
    ingressQosMap: (k.ingress_qos_map ?? []).map((e) => ({ ...e })),
    egressQosMap: (k.egress_qos_map ?? []).map((e) => ({ ...e })),
    ethtoolOpts: s(k.ethtool_opts),
    zone: s(k.zone),
    libvirtNetworkName: s(k.libvirt_network_name),
    type: s(k.type),
  };
}

function drop<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function fromProto(n: Network | undefined): NetworkData {
  if (!n) throw new ValidationError('network', 'required');
  const kayobe = kayobeFromProto(n.kayobe);
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
    ...(kayobe ? { kayobe } : {}),
  };
}

const toProto = (d: NetworkData, version: number): Network => {
  const { kayobe, ...base } = d;
  return { ...base, groups: [...d.groups], version, kayobe: kayobeToProto(kayobe) };
};

const issueToProto = (i: NetworkIssue): ValidationIssue => ({
  severity: i.severity === 'error' ? Severity.SEVERITY_ERROR : Severity.SEVERITY_WARNING,
  field: i.field,
  message: i.message,
  kayobeVariable: i.kayobeVariable,
  network: i.network,
});

const kollaToProto = (k: KollaHostVarsView | undefined): KollaHostVars | undefined => (k ? { vars: { ...k.vars }, problems: [...k.problems] } : undefined);

const OUTCOMES: Readonly<Record<SwitchResult['outcome'], SwitchApplyOutcome>> = {
  display: SwitchApplyOutcome.SWITCH_APPLY_OUTCOME_UNSPECIFIED,
  changed: SwitchApplyOutcome.SWITCH_APPLY_OUTCOME_CHANGED,
  unchanged: SwitchApplyOutcome.SWITCH_APPLY_OUTCOME_UNCHANGED,
  applied: SwitchApplyOutcome.SWITCH_APPLY_OUTCOME_APPLIED,
  failed: SwitchApplyOutcome.SWITCH_APPLY_OUTCOME_FAILED,
};

export function networkGrpc(svc: NetworkService, log: Logger, switches: PhysicalNetworkService) {
  const impl: NetworkServiceServer = {
    defineNetwork: unary(log, async (req) => {
      const r = await svc.defineNetwork(fromProto(req.network));
      return { network: toProto(r.data, r.version), warnings: r.warnings.map(issueToProto) };
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
          kolla: kollaToProto(c.data.kolla),
        },
      };
    }),
    validateSite: unary(log, async (req) => ({ issues: (await svc.validateSite(req.siteId)).map(issueToProto) })),
    exportAllocations: unary(log, async (req) => ({ yaml: await svc.exportAllocations(req.siteId) })),
    importAllocations: unary(log, async (req) => {
      const r = await svc.importAllocations(req.siteId, req.yaml);
      return {
        imported: r.imported.length,
        unchanged: r.unchanged.length,
        allocations: [...r.imported, ...r.unchanged].map((a) => ({ siteId: a.siteId, network: a.network, hostId: a.hostId, address: formatIp(a.address) })),
      };
    }),
    configurePhysicalNetwork: unary(log, async (req) => {
      const r = await switches.configure(req);
      return {
        switches: r.switches.map((s) => ({
          name: s.name,
          switchType: s.type,
          group: s.group,
          config: s.config,
          interfaces: s.interfaces.map((i) => ({
            name: i.name,
            description: i.description,
            host: i.host,
            hostNic: i.nic,
            nativeVlan: i.nativeVlan,
            taggedVlans: [...i.taggedVlans],
            networks: [...i.networks],
          })),
          outcome: OUTCOMES[s.outcome],
          message: s.message,
        })),
        display: r.display,
        notes: [...r.notes],
        executor: r.executor,
      };
    }),
  };
  return { name: 'stackyard.network.v1.NetworkService', definition: NetworkServiceService, impl };
}
