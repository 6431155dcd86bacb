import { describe, expect, it } from 'vitest';
import { ValidationError } from '@stackyard/errors';
import { kollaHostVars, renderHostVars } from './host-vars';
import { kollaGroupsOf } from './placement';

const ROLES = { internal: 'internal', public: 'public', tunnel: 'tunnel', external: ['external'] };

describe('kollaHostVars', () => {
  it('Given a network host, then the API, tunnel, DNS, VIP and neutron external variables, and the literal host_vars file', () => {
    const vars = kollaHostVars({
      kollaGroups: kollaGroupsOf(['controllers', 'network']),
      roles: ROLES,
      networks: { internal: { interface: 'eno2.101' }, public: { interface: 'eno2.102' }, tunnel: { interface: 'eno2.103' }, external: { interface: 'breth1', bridge: true } },
      passThrough: { ansible_host: '10.0.0.11' },
    });
    expect(renderHostVars(vars)).toBe(`---
ansible_host: "10.0.0.11"
api_interface: "eno2.101"
dns_interface: "eno2.102"
kolla_external_vip_interface: "eno2.102"
network_interface: "eno2.101"
neutron_bridge_name: "breth1-ovs"
neutron_external_interface: "p-breth1-ovs"
tunnel_interface: "eno2.103"
`);
  });

  it('Given a compute host, then no external or VIP interface, and VLAN externals only with provider networks (using the VLAN parent)', () => {
    const base = { kollaGroups: kollaGroupsOf(['compute']), roles: ROLES, networks: { internal: { interface: 'eno1' }, external: { interface: 'eno2.200' } } };
    expect(kollaHostVars(base)).toEqual({ network_interface: 'eno1', api_interface: 'eno1' });
    expect(kollaHostVars({ ...base, providerNetworks: true })).toMatchObject({ neutron_external_interface: 'eno2', neutron_bridge_name: 'eno2-ovs' });
  });

  it('reports every missing required network together', () => {
    let e: unknown;
    try {
      kollaHostVars({ kollaGroups: kollaGroupsOf(['network']), roles: ROLES, networks: { public: { interface: '' } } });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as Error).message).toBe(
      "host_vars: Required network 'internal' (internal network) is not mapped to this host; Required network 'public' (public network) does not have an interface configured for this host; Required external network 'external' is not mapped to this host",
    );
  });

  it('Given physical networks on some external networks only, then it is an error; on all, they are written per interface', () => {
    const kollaGroups = kollaGroupsOf(['network']);
    const roles = { internal: 'internal', external: ['ext1', 'ext2'] };
    expect(() => kollaHostVars({ kollaGroups, roles, networks: { internal: { interface: 'eno1' }, ext1: { interface: 'eno2', physicalNetwork: 'physnet1' }, ext2: { interface: 'eno3' } } })).toThrow(
      /following do not: ext2/,
    );
    expect(kollaHostVars({ kollaGroups, roles, networks: { internal: { interface: 'eno1' }, ext1: { interface: 'eno2', physicalNetwork: 'p1' }, ext2: { interface: 'eno3', physicalNetwork: 'p2' } } })).toMatchObject({
      neutron_external_interface: 'eno2,eno3',
      neutron_bridge_name: 'eno2-ovs,eno3-ovs',
      neutron_physical_networks: 'p1,p2',
    });
  });
});
