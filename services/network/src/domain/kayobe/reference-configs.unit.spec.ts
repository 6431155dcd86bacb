/**
 * Every host of every reference Kayobe configuration (reference/kayobe-configs) rendered by each
 * engine: nmstate and NetworkManager keyfiles (RedHat facts) and systemd-networkd (Debian facts).
 * Hosts come from services/network/test/fixtures/kayobe-reference-hosts.json, which
 * scripts/kayobe-reference-hosts.ts writes with the inventory service's importer (the network
 * service does not import the inventory service); the first test checks that the snapshot still
 * matches the files.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KayobeHost } from './attributes';
import { KayobeConfigError } from './errors';
import { networkdFiles } from './networkd';
import { nmKeyfiles } from './nm-keyfile';
import { nmstateConfig, renderNmstateYaml } from './nmstate';

interface Fixture {
  readonly reference: string;
  readonly sources: Readonly<Record<string, string>>;
  readonly configs: readonly {
    readonly repo: string;
    readonly variant: 'redhat' | 'debian';
    readonly hosts: readonly { readonly host: KayobeHost; readonly names: readonly string[]; readonly groups: readonly string[] }[];
  }[];
}

const FIXTURE: Fixture = JSON.parse(readFileSync(join(__dirname, '../../../test/fixtures/kayobe-reference-hosts.json'), 'utf8')) as Fixture;
const HAVE_REFERENCE = existsSync(FIXTURE.reference);
const REGENERATE = 'node --conditions=@stackyard/source --import tsx scripts/kayobe-reference-hosts.ts';

/** The files the importer reads: top-level variable files and everything under inventory/. */
function configFiles(root: string): string[] {
  const top = readdirSync(root).filter((f) => (/\.(ya?ml|json)$/.test(f) || f === '.kayobe-environment') && statSync(join(root, f)).isFile());
  const inv = existsSync(join(root, 'inventory'))
    ? (readdirSync(join(root, 'inventory'), { recursive: true }) as string[]).map((f) => `inventory/${f}`).filter((f) => statSync(join(root, f)).isFile())
    : [];
  return [...top, ...inv];
}

/** Kayobe's failure for a host whose network has no interface (the OVS veth lookup validates it). */
const noInterface = (net: string, host: string) => `Network interface for network '${net}' on host '${host}' not found`;

function outcome(render: () => unknown): string {
  try {
    render();
    return 'ok';
  } catch (e) {
    if (e instanceof KayobeConfigError) return e.kayobeMessage;
    throw e;
  }
}

describe.skipIf(!HAVE_REFERENCE)('reference Kayobe configurations', () => {
  it(`the host snapshot matches the reference files (else run: ${REGENERATE})`, () => {
    const repos = [...new Set(FIXTURE.configs.map((c) => c.repo))];
    const current: Record<string, string> = {};
    for (const repo of repos) {
      const root = join(FIXTURE.reference, repo, 'etc/kayobe');
      for (const f of configFiles(root)) current[`${repo}/etc/kayobe/${f}`] = createHash('sha256').update(readFileSync(join(root, f), 'utf8')).digest('hex');
    }
    expect(current).toEqual(FIXTURE.sources);
  });

  it('has every host: kayobe-config-dev 5, a-universe-from-nothing 4; the openstack/kayobe example configurations declare none', () => {
    expect(FIXTURE.configs.map((c) => [c.repo, c.variant, c.hosts.map((h) => h.host.inventoryHostname)])).toEqual([
      ['openstack+kayobe', 'redhat', []],
      ['openstack+kayobe', 'debian', []],
      ['openstack+kayobe-config', 'redhat', []],
      ['openstack+kayobe-config', 'debian', []],
      ['openstack+kayobe-config-dev', 'redhat', ['ansible0', 'seed-hypervisor', 'seed', 'controller0', 'infra-vm-1']],
      ['openstack+kayobe-config-dev', 'debian', ['ansible0', 'seed-hypervisor', 'seed', 'controller0', 'infra-vm-1']],
      ['stackhpc+a-universe-from-nothing', 'redhat', ['seed-hypervisor', 'seed', 'controller0', 'compute0']],
      ['stackhpc+a-universe-from-nothing', 'debian', ['seed-hypervisor', 'seed', 'controller0', 'compute0']],
    ]);
  });

  for (const config of FIXTURE.configs.filter((c) => c.hosts.length > 0)) {
    it(`${config.repo} (${config.variant}): every host renders with nmstate (YAML read back), keyfiles and networkd, or fails as Kayobe does`, () => {
      const results = config.hosts.map(({ host, names }) => {
        const rh: KayobeHost = { ...host, osFamily: 'RedHat' };
        const deb: KayobeHost = { ...host, osFamily: 'Debian' };
        const yamlReadsBack = () => {
          const state = nmstateConfig(rh, names);
          expect(parse(renderNmstateYaml(state))).toEqual(JSON.parse(JSON.stringify(state)));
        };
        return [host.inventoryHostname, outcome(yamlReadsBack), outcome(() => nmKeyfiles(rh, names)), outcome(() => networkdFiles(deb, names))];
      });
      // infra-vm-1 has no aio_interface (group_vars/infra-vms/network-interfaces sets none): Kayobe's
      // network play fails its validation, and every engine's filters fail on the OVS veth lookup.
      const expected = config.hosts.map(({ host }) =>
        host.inventoryHostname === 'infra-vm-1' ? ['infra-vm-1', ...Array(3).fill(noInterface('aio', 'infra-vm-1'))] : [host.inventoryHostname, 'ok', 'ok', 'ok'],
      );
      expect(results).toEqual(expected);
    });
  }

  it('a-universe-from-nothing controller0 (Rocky): breth0 over eth0 with MTU 1442, the OVS veth pair, STP off, default route via the seed hypervisor', () => {
    const c = FIXTURE.configs.find((x) => x.repo === 'stackhpc+a-universe-from-nothing' && x.variant === 'redhat')!;
    const { host, names } = c.hosts.find((h) => h.host.inventoryHostname === 'controller0')!;
    expect(nmstateConfig(host, names)).toEqual({
      interfaces: [
        { name: 'eth0', state: 'up', type: 'ethernet', mtu: 1442 },
        { name: 'p-breth0-phy', state: 'up', type: 'veth', veth: { peer: 'p-breth0-ovs' }, mtu: 1442, ipv4: { enabled: false }, ipv6: { enabled: false } },
        { name: 'p-breth0-ovs', state: 'up', type: 'veth', veth: { peer: 'p-breth0-phy' }, mtu: 1442, ipv4: { enabled: false }, ipv6: { enabled: false } },
        {
          name: 'breth0',
          state: 'up',
          mtu: 1442,
          ipv4: { enabled: true, dhcp: false, address: [{ ip: '192.168.33.3', 'prefix-length': 24 }] },
          type: 'linux-bridge',
          bridge: { port: [{ name: 'eth0' }, { name: 'p-breth0-phy' }], options: { stp: { enabled: false } } },
        },
      ],
      routes: { config: [{ destination: '0.0.0.0/0', 'next-hop-address': '192.168.33.4', 'next-hop-interface': 'breth0' }] },
      'route-rules': { config: [] },
    });
    expect(nmKeyfiles(host, names).map((f) => f.path.replace('/etc/NetworkManager/system-connections/', ''))).toEqual([
      'eth0.nmconnection',
      'p-breth0-phy.nmconnection',
      'p-breth0-ovs.nmconnection',
      'breth0.nmconnection',
    ]);
  });
});
