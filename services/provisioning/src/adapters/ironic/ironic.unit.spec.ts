import { describe, expect, it } from 'vitest';
import { networkData, prefixToNetmask } from './config-drive';
import { factsFromProperties, redfishTarget, uuidV5 } from './ironic-driver';

describe('Ironic driver helpers', () => {
  it('IRU-01 turns prefix lengths into IPv4 and IPv6 netmasks', () => {
    expect(prefixToNetmask(24, false)).toBe('255.255.255.0');
    expect(prefixToNetmask(20, false)).toBe('255.255.240.0');
    expect(prefixToNetmask(0, false)).toBe('0.0.0.0');
    expect(prefixToNetmask(64, true)).toBe('ffff:ffff:ffff:ffff:0:0:0:0');
    expect(() => prefixToNetmask(33, false)).toThrow(RangeError);
  });

  it('IRU-02 builds network_data.json: DHCP without an address, IPv6 with its default route, no VLAN link untagged', () => {
    expect(networkData({ macAddress: '52:54:00:AA:BB:CC', nameservers: [] })).toEqual({
      links: [{ id: 'port0', type: 'phy', ethernet_mac_address: '52:54:00:aa:bb:cc', mtu: 1500 }],
      networks: [{ id: 'network0', type: 'ipv4_dhcp', link: 'port0', network_id: 'network0' }],
      services: [],
    });
    const v6 = networkData({ macAddress: '52:54:00:aa:bb:cc', address: '2001:db8::11', prefixLength: 64, gateway: '2001:db8::1', nameservers: ['2001:db8::53'] });
    expect(v6.networks).toEqual([
      {
        id: 'network0',
        type: 'ipv6',
        link: 'port0',
        ip_address: '2001:db8::11',
        netmask: 'ffff:ffff:ffff:ffff:0:0:0:0',
        routes: [{ network: '::', netmask: '::', gateway: '2001:db8::1' }],
        network_id: 'network0',
      },
    ]);
    expect(v6.services).toEqual([{ type: 'dns', address: '2001:db8::53' }]);
  });

  it('IRU-03 splits a BMC address into redfish_address and redfish_system_id', () => {
    expect(redfishTarget('10.9.0.11')).toEqual({ address: 'https://10.9.0.11' });
    expect(redfishTarget('redfish://10.9.0.11/redfish/v1/Systems/1')).toEqual({ address: 'https://10.9.0.11', systemId: '/redfish/v1/Systems/1' });
    expect(redfishTarget('redfish+http://bmc:8000/redfish/v1/Systems/abc/')).toEqual({ address: 'http://bmc:8000', systemId: '/redfish/v1/Systems/abc' });
  });

  it('IRU-04 derives RFC 4122 v5 UUIDs (the RFC example) and stable node UUIDs from host ids', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    expect(uuidV5('dc1-ctl-01')).toBe(uuidV5('dc1-ctl-01'));
    expect(uuidV5('dc1-ctl-01')).not.toBe(uuidV5('dc2-ctl-01'));
  });

  it('IRU-05 reads node properties given as strings (as older inspectors store them)', () => {
    expect(factsFromProperties({ cpus: '8', memory_mb: '16384', local_gb: '0', cpu_arch: 'aarch64' }, [])).toEqual({
      cpuCount: 8,
      cpuModel: 'aarch64',
      memoryMib: 16384,
      disks: [],
      nics: [],
    });
  });
});
