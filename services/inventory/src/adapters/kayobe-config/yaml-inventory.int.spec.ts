/**
 * openstack/kayobe-config-dev read from disk, once as it is (INI inventory) and once with its host
 * files replaced by the same inventory in YAML: the imports are the same.
 */
import { describe, expect, it } from 'vitest';
import { importKayobeFiles, type KayobeImport } from '../../domain/kayobe/config';
import { readKayobeConfigDir } from './reader';

const DEV = '/work/shared/reference/kayobe-configs/openstack+kayobe-config-dev/etc/kayobe';

/** inventory/hosts and inventory/infra-vms of kayobe-config-dev, as a YAML inventory. */
const HOSTS_YAML = `# The same inventory as inventory/hosts and inventory/infra-vms, in Ansible's YAML format.
all:
  hosts:
    localhost:
      ansible_connection: local
  children:
    ansible-control:
      hosts:
        ansible0:
    seed-hypervisor:
      hosts:
        seed-hypervisor:
    seed:
      hosts:
        seed:
    controllers:
      hosts:
        controller0:
    compute:
      children:
        controllers:
    monitoring:
      children:
        controllers:
    infra-vms:
      hosts:
        infra-vm-1:
    baremetal-compute: {}
    mgmt-switches: {}
    ctl-switches: {}
    hs-switches: {}
`;

const view = (imp: KayobeImport) => ({
  controlHosts: imp.controlHosts,
  hosts: Object.fromEntries(imp.hosts.map((h) => [h.name, { groups: h.groups, direct: h.directGroups, vars: h.vars, unresolved: h.unresolved, networks: h.networks }])),
  groups: imp.groups.map((g) => ({ ...g, hosts: [...g.hosts].sort() })).sort((a, b) => (a.name < b.name ? -1 : 1)),
  networks: imp.networks,
  allocations: imp.allocations,
});

describe('kayobe-config-dev with a YAML inventory', () => {
  it('imports the same hosts, groups, variables, networks and allocations as with its INI inventory', async () => {
    const files = await readKayobeConfigDir(DEV);
    const ini = importKayobeFiles(files);
    const yamlFiles = [...files.filter((f) => f.path !== 'inventory/hosts' && f.path !== 'inventory/infra-vms'), { path: 'inventory/hosts.yml', text: HOSTS_YAML }];
    const yaml = importKayobeFiles(yamlFiles);

    expect(view(yaml)).toEqual(view(ini));
    expect(yaml.hosts.map((h) => h.name).sort()).toEqual(['ansible0', 'controller0', 'infra-vm-1', 'seed', 'seed-hypervisor']);
    expect(yaml.hosts.find((h) => h.name === 'controller0')?.source).toEqual({ file: 'inventory/hosts.yml', line: 18 });
  });
});
