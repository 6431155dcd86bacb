/**
 * Writes services/network/test/fixtures/kayobe-reference-hosts.json: every host of every reference
 * Kayobe configuration (/work/shared/reference/kayobe-configs) as the network service sees a host
 * (`KayobeHost`: its `<net>_<attr>` values for the networks in its `network_interfaces`, and the
 * network variables), resolved by the inventory service's importer.
 *
 * The network service may not import the inventory service (STYLE A.3), so its tests read this
 * snapshot; it records a SHA-256 of every file the importer read, and the test fails when the
 * reference configuration no longer matches (run this script again then).
 *
 * Facts the configurations template on are given per variant: `redhat` (Rocky: os_distribution
 * rocky) and `debian` (Ubuntu: os_distribution ubuntu); both have the dummy1 interface that
 * kayobe-config-dev's bridge ports look for (a fact the importer cannot assume absent).
 *
 *   node --conditions=@stackyard/source --import tsx scripts/kayobe-reference-hosts.ts
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readKayobeConfigDir } from '../services/inventory/src/adapters/kayobe-config/reader';
import { importKayobeFiles } from '../services/inventory/src/domain/kayobe/config';
import { KAYOBE_NETWORK_ATTRIBUTES, KAYOBE_NETWORK_DEFAULTS, type KayobeHost, type KayobeNetworkAttrs } from '../services/network/src/domain/kayobe/attributes';

export const REFERENCE = '/work/shared/reference/kayobe-configs';
export const FIXTURE = join(__dirname, '../services/network/test/fixtures/kayobe-reference-hosts.json');
const REPOS = ['openstack+kayobe', 'openstack+kayobe-config', 'openstack+kayobe-config-dev', 'stackhpc+a-universe-from-nothing'];
const VARIANTS = {
  redhat: { osFamily: 'RedHat', facts: { os_distribution: 'rocky', os_family: 'RedHat', ansible_dummy1: { device: 'dummy1' } } },
  debian: { osFamily: 'Debian', facts: { os_distribution: 'ubuntu', os_family: 'Debian', ansible_dummy1: { device: 'dummy1' } } },
} as const;
const ROLE_VARS = [
  'internal_net_name',
  'storage_net_name',
  'storage_mgmt_net_name',
  'swift_storage_net_name',
  'swift_storage_replication_net_name',
  'provision_wl_net_name',
  'cleaning_net_name',
  'inspection_net_name',
  'public_net_name',
  'tunnel_net_name',
] as const;
const VAR_NAMES = Object.keys(KAYOBE_NETWORK_DEFAULTS) as (keyof typeof KAYOBE_NETWORK_DEFAULTS)[];

export interface ReferenceHost {
  readonly host: KayobeHost;
  /** `network_interfaces`. */
  readonly names: readonly string[];
  readonly groups: readonly string[];
}

export interface ReferenceConfig {
  readonly repo: string;
  readonly variant: keyof typeof VARIANTS;
  readonly roles: Readonly<Record<string, unknown>>;
  readonly kollaFlags: Readonly<Record<string, boolean>>;
  readonly hosts: readonly ReferenceHost[];
}

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v) ?? 'null');

export async function referenceConfigs(): Promise<{ configs: ReferenceConfig[]; sources: Record<string, string> }> {
  const configs: ReferenceConfig[] = [];
  const sources: Record<string, string> = {};
  for (const repo of REPOS) {
    const files = await readKayobeConfigDir(join(REFERENCE, repo, 'etc/kayobe'));
    for (const f of files) sources[`${repo}/etc/kayobe/${f.path}`] = createHash('sha256').update(f.text).digest('hex');
    for (const [variant, v] of Object.entries(VARIANTS) as [keyof typeof VARIANTS, (typeof VARIANTS)[keyof typeof VARIANTS]][]) {
      const imp = importKayobeFiles(files, { extraVars: [{ path: `${variant}-facts.yml`, text: JSON.stringify(v.facts) }] });
      const hosts = imp.hosts.map((h): ReferenceHost => {
        const networks: Record<string, KayobeNetworkAttrs> = {};
        for (const net of h.networkInterfaces) {
          const attrs: Record<string, unknown> = {};
          for (const [k, value] of Object.entries(h.vars)) {
            if (!k.startsWith(`${net}_`)) continue;
            const attr = k.slice(net.length + 1);
            if (!(KAYOBE_NETWORK_ATTRIBUTES as readonly string[]).includes(attr) && !/^(port|slave)_type_/.test(attr)) continue;
            if (h.unresolved.includes(k)) throw new Error(`${repo} (${variant}) ${h.name}: ${k} is not resolved`);
            const p = plain(value);
            if (p !== null) attrs[attr] = p;
          }
          networks[net] = attrs as KayobeNetworkAttrs;
        }
        const vars: Record<string, unknown> = { ...KAYOBE_NETWORK_DEFAULTS };
        for (const k of VAR_NAMES) {
          const p = plain(h.vars[k]);
          if (p !== null && p !== undefined) vars[k] = p;
        }
        return {
          host: { inventoryHostname: h.name, osFamily: v.osFamily, networks, vars: vars as unknown as KayobeHost['vars'] },
          names: [...h.networkInterfaces],
          groups: [...h.groups],
        };
      });
      const roles: Record<string, unknown> = { external_net_names: plain(imp.roles['external_net_names']) ?? [] };
      for (const r of ROLE_VARS) roles[r] = plain(imp.roles[r]) ?? null;
      configs.push({ repo, variant, roles, kollaFlags: imp.kollaFlags, hosts });
    }
  }
  return { configs, sources };
}

if (require.main === module) {
  void referenceConfigs().then(({ configs, sources }) => {
    mkdirSync(dirname(FIXTURE), { recursive: true });
    const doc = { generatedBy: 'scripts/kayobe-reference-hosts.ts', reference: REFERENCE, sources, configs };
    writeFileSync(FIXTURE, `${JSON.stringify(doc, null, 1)}\n`);
    process.stdout.write(`${FIXTURE}: ${configs.map((c) => `${c.repo} (${c.variant}) ${c.hosts.length} hosts`).join('; ')}\n`);
  });
}
