import { describe, expect, it } from 'vitest';
import { kayobeDefaultNetworks, type SiteRoles } from './roles';

// reference/kayobe.md §2.6, with every role played by a network of its own name.
const ROLES: SiteRoles = {
  provision_oc_net_name: 'provision_oc',
  admin_oc_net_name: 'admin_oc',
  internal_net_name: 'internal',
  storage_net_name: 'storage',
  storage_mgmt_net_name: 'storage_mgmt',
  swift_storage_net_name: 'swift_storage',
  swift_storage_replication_net_name: 'swift_repl',
  provision_wl_net_name: 'provision_wl',
  cleaning_net_name: 'cleaning',
  inspection_net_name: 'inspection',
  public_net_name: 'public',
  tunnel_net_name: 'tunnel',
  external_net_names: ['external', 'external2'],
};

describe('kayobeDefaultNetworks (§2.6)', () => {
  it.each<[string, string[], object, string[]]>([
    ['seed', ['seed'], {}, ['admin_oc', 'provision_oc']],
    ['seed-hypervisor', ['seed-hypervisor'], {}, ['admin_oc', 'provision_oc']],
    ['ansible-control', ['ansible-control'], {}, ['admin_oc']],
    ['infra-vms', ['infra-vms'], {}, ['admin_oc']],
    ['a controller', ['controllers'], {}, ['admin_oc', 'provision_wl', 'inspection', 'internal', 'storage', 'swift_storage', 'cleaning']],
    ['a controller in the network group', ['controllers', 'network'], {}, ['admin_oc', 'provision_wl', 'inspection', 'internal', 'storage', 'swift_storage', 'cleaning', 'public', 'tunnel', 'external', 'external2']],
    ['a compute', ['compute'], {}, ['admin_oc', 'internal', 'storage', 'tunnel']],
    ['a compute with provider networks', ['compute'], { neutronProviderNetworks: true }, ['admin_oc', 'internal', 'storage', 'tunnel', 'external', 'external2']],
    ['a storage host', ['storage'], {}, ['admin_oc', 'internal', 'storage_mgmt', 'storage']],
    ['a swift storage host', ['storage'], { swiftStorageHost: true }, ['admin_oc', 'internal', 'storage_mgmt', 'storage', 'swift_storage', 'swift_repl']],
    ['a monitoring-only host', ['monitoring'], {}, ['admin_oc', 'internal', 'public']],
    ['a monitoring controller (monitoring wins, returns the controller list)', ['controllers', 'monitoring'], {}, ['admin_oc', 'provision_wl', 'inspection', 'internal', 'storage', 'swift_storage', 'cleaning']],
    ['a compute that is also storage (storage sorts last and wins)', ['compute', 'storage'], {}, ['admin_oc', 'internal', 'storage_mgmt', 'storage']],
    ['a host in no group with a list', ['network'], {}, []],
  ])('%s', (_what, groups, flags, want) => {
    expect(kayobeDefaultNetworks(groups, ROLES, flags)).toEqual(want);
  });

  it('drops roles nobody plays and collapses roles played by one network (the all-in-one configs)', () => {
    const aio: SiteRoles = {
      ...ROLES,
      admin_oc_net_name: 'aio',
      provision_oc_net_name: 'aio',
      internal_net_name: 'aio',
      storage_net_name: 'aio',
      swift_storage_net_name: 'aio',
      tunnel_net_name: 'aio',
      public_net_name: 'aio',
      external_net_names: ['aio'],
      provision_wl_net_name: null,
      cleaning_net_name: null,
      inspection_net_name: null,
    };
    expect(kayobeDefaultNetworks(['controllers', 'network'], aio)).toEqual(['aio']);
  });
});
