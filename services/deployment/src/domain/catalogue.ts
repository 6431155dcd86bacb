/**
 * A first slice of the Kolla-Ansible service catalogue (reference/kayobe.md §5.1): for each Kayobe
 * group, the Kolla services its hosts run, in deploy order, and their containers.
 */
export interface KollaService {
  readonly name: string;
  readonly containers: readonly string[];
}

const svc = (name: string, ...containers: string[]): KollaService => ({ name, containers });

/** Deploy order matters: infrastructure first, then the APIs that need it. */
export const CATALOGUE: Readonly<Record<string, readonly KollaService[]>> = {
  controllers: [
    svc('loadbalancer', 'haproxy', 'keepalived'),
    svc('mariadb', 'mariadb'),
    svc('rabbitmq', 'rabbitmq'),
    svc('memcached', 'memcached'),
    svc('keystone', 'keystone', 'keystone_fernet', 'keystone_ssh'),
    svc('glance', 'glance_api'),
    svc('placement', 'placement_api'),
    svc('nova', 'nova_api', 'nova_scheduler', 'nova_conductor', 'nova_novncproxy'),
    svc('neutron', 'neutron_server'),
    svc('heat', 'heat_api', 'heat_engine'),
    svc('horizon', 'horizon'),
  ],
  network: [svc('openvswitch', 'openvswitch_db', 'openvswitch_vswitchd'), svc('neutron', 'neutron_openvswitch_agent', 'neutron_l3_agent', 'neutron_dhcp_agent', 'neutron_metadata_agent')],
  compute: [svc('openvswitch', 'openvswitch_db', 'openvswitch_vswitchd'), svc('nova', 'nova_libvirt', 'nova_compute'), svc('neutron', 'neutron_openvswitch_agent')],
  storage: [svc('cinder', 'cinder_volume', 'cinder_backup'), svc('iscsi', 'iscsid', 'tgtd')],
  monitoring: [svc('prometheus', 'prometheus_server', 'prometheus_alertmanager'), svc('grafana', 'grafana')],
};

/** Every host runs these (Kolla's common role). */
export const COMMON: readonly KollaService[] = [svc('common', 'fluentd', 'kolla_toolbox', 'cron')];

export interface PlannedContainer {
  readonly service: string;
  readonly name: string;
}

/** The containers a host with these groups runs, deduplicated, in deploy order. */
export function placement(groups: readonly string[]): PlannedContainer[] {
  const out: PlannedContainer[] = [];
  const seen = new Set<string>();
  const add = (s: KollaService) => {
    for (const c of s.containers) {
      if (seen.has(c)) continue;
      seen.add(c);
      out.push({ service: s.name, name: c });
    }
  };
  COMMON.forEach(add);
  for (const g of groups) (CATALOGUE[g] ?? []).forEach(add);
  return out;
}
