/**
 * Network rendering benchmark: N hosts built from a reference Kayobe configuration (its hosts
 * imported by the inventory service's importer, then copied with their own names and addresses),
 * rendered by each renderer of the network service's domain: systemd-networkd files, the nmstate
 * state (as YAML), NetworkManager keyfiles and the Kolla-Ansible host variables, then all four per
 * host. Prints hosts per second per renderer (best of the rounds). Pure CPU, one process, no I/O.
 * Not a test: it prints figures.
 *
 *   node --conditions=@stackyard/source --import tsx bench/render.ts --hosts 1000
 */
import { parseArgs } from 'node:util';
import { referenceConfigs, type ReferenceHost } from '../scripts/kayobe-reference-hosts';
import { formatIp, parseIp } from '../services/network/src/domain/ipv4';
import type { KayobeHost, KayobeNetworkAttrs } from '../services/network/src/domain/kayobe/attributes';
import type { KollaNetworkRoles } from '../services/network/src/domain/kayobe/kolla';
import { networkdFiles } from '../services/network/src/domain/kayobe/networkd';
import { nmKeyfiles } from '../services/network/src/domain/kayobe/nm-keyfile';
import { nmstateConfig, nmstateFiles } from '../services/network/src/domain/kayobe/nmstate';
import { kollaHostVarsFor } from '../services/network/src/domain/roles';
import { FigureSheet, machineLine } from './lib';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '5' },
    config: { type: 'string', default: 'stackhpc+a-universe-from-nothing' },
    json: { type: 'string' },
  },
});
const N = Number(values.hosts);
const ROUNDS = Number(values.rounds);

/** Host i: a copy of a template host named `<template>-<i>`, with its own address on each network. */
function copyHost(t: ReferenceHost, i: number): ReferenceHost {
  const name = `${t.host.inventoryHostname}-${i}`;
  const networks: Record<string, KayobeNetworkAttrs> = {};
  for (const [net, a] of Object.entries(t.host.networks)) {
    const own = a.ips?.[t.host.inventoryHostname];
    // A /16 around the template's address, so 1,000 hosts each get their own.
    const base = own ? parseIp(own)! & 0xffff0000 : undefined;
    networks[net] = { ...a, ...(base !== undefined ? { cidr: `${formatIp(base)}/16`, ips: { [name]: formatIp(base + 256 + i) } } : { ips: undefined }) };
  }
  return { ...t, host: { ...t.host, inventoryHostname: name, networks } };
}

function measure(label: string, hosts: readonly ReferenceHost[], fn: (h: ReferenceHost) => unknown): { label: string; hostsPerSecond: number; msPerHost: number } {
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r <= ROUNDS; r++) {
    const t0 = performance.now();
    for (const h of hosts) sink += fn(h) === undefined ? 0 : 1;
    const ms = performance.now() - t0;
    if (r > 0) best = Math.min(best, ms); // round 0 warms up the JIT
  }
  if (sink === 0) throw new Error('nothing rendered');
  return { label, hostsPerSecond: Math.round((hosts.length / best) * 1000), msPerHost: best / hosts.length };
}

async function main() {
  const { configs } = await referenceConfigs();
  const redhat = configs.find((c) => c.repo === values.config && c.variant === 'redhat');
  if (!redhat || redhat.hosts.length === 0) throw new Error(`no hosts in reference configuration ${values.config}`);
  // Hosts Kayobe can configure (every network has an interface).
  const templates = redhat.hosts.filter((h) => h.names.every((n) => h.host.networks[n]?.interface));
  const hosts = Array.from({ length: N }, (_, i) => copyHost(templates[i % templates.length]!, i));
  const roles = redhat.roles as unknown as KollaNetworkRoles;
  const flags = (h: ReferenceHost) => ({
    kollaEnableIronic: redhat.kollaFlags['kolla_enable_ironic'] ?? false,
    kollaEnableNeutron: redhat.kollaFlags['kolla_enable_neutron'] ?? true,
    kollaEnableNeutronProviderNetworks: redhat.kollaFlags['kolla_enable_neutron_provider_networks'] ?? false,
    groups: h.groups,
  });
  const debian = (h: KayobeHost): KayobeHost => ({ ...h, osFamily: 'Debian' });
  const renderers: [string, (h: ReferenceHost) => unknown][] = [
    ['networkd', (h) => networkdFiles(debian(h.host), h.names)],
    ['nmstate (state only)', (h) => nmstateConfig(h.host, h.names)],
    ['nmstate (state + YAML)', (h) => nmstateFiles(h.host, h.names)],
    ['nm-keyfile', (h) => nmKeyfiles(h.host, h.names)],
    ['kolla host vars', (h) => kollaHostVarsFor(h.host, h.names, roles, flags(h))],
    ['all four', (h) => [networkdFiles(debian(h.host), h.names), nmstateFiles(h.host, h.names), nmKeyfiles(h.host, h.names), kollaHostVarsFor(h.host, h.names, roles, flags(h))]],
  ];
  const results = renderers.map(([label, fn]) => measure(label, hosts, fn));
  const files = { networkd: 0, nmstate: 0, keyfile: 0 };
  for (const h of hosts) {
    files.networkd += networkdFiles(debian(h.host), h.names).length;
    files.nmstate += nmstateFiles(h.host, h.names).length;
    files.keyfile += nmKeyfiles(h.host, h.names).length;
  }
  process.stdout.write(
    `${N} hosts from ${values.config} (${templates.map((t) => t.host.inventoryHostname).join(', ')}), best of ${ROUNDS} rounds\nmachine: ${machineLine()}\n` +
      `files: networkd ${files.networkd}, nmstate ${files.nmstate}, keyfiles ${files.keyfile}\n\n` +
      `| renderer | hosts/s | ms per host |\n|---|---|---|\n` +
      results.map((r) => `| ${r.label} | ${r.hostsPerSecond.toLocaleString('en')} | ${r.msPerHost.toFixed(3)} |`).join('\n') +
      '\n',
  );
  const sheet = new FigureSheet('render');
  for (const r of results) sheet.add(`${r.label} hosts/s`, r.hostsPerSecond, 'hosts/s', { better: 'higher', key: r.label === 'all four' });
  sheet.write(values.json, true);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
