import { beforeEach, describe, expect, it } from 'vitest';
import { AlreadyExistsError, ConcurrencyError, NotFoundError, ValidationError } from '@stackyard/errors';
import { Events, type Envelope } from '@stackyard/events';
import type { DeploymentCreated, DeploymentUpdated } from '@stackyard/proto/inventory/v1/events';
import type { DeploymentData, DeploymentInput } from '../domain/deployment';
import type { ConfigFile } from '../domain/kayobe/config';
import { DeploymentService, type UpdateDeploymentInput } from './deployments';
import { GroupService } from './groups';
import { InMemoryGroups, InMemoryHosts, InMemoryImports, InMemoryRecords, InMemorySites } from './in-memory.test-support';
import { InventoryService } from './inventory';
import { KayobeImportService } from './kayobe-import';

let sites: InMemorySites;
let hosts: InMemoryHosts;
let groupRepo: InMemoryGroups;
let repo: InMemoryRecords<DeploymentData>;
let groups: GroupService;
let deployments: DeploymentService;
let inventory: InventoryService;

const dep = (patch: Partial<DeploymentInput> = {}): DeploymentInput => ({
  siteId: 'dc1',
  name: 'prod',
  description: '',
  hostIds: ['dc1-ctl-01'],
  groups: ['compute'],
  roles: [{ role: 'control', groups: ['controllers'] }],
  services: { nova: true, ironic: false },
  ...patch,
});
const upd = (patch: Partial<UpdateDeploymentInput>): UpdateDeploymentInput => ({ id: 'dc1-prod', version: 1, updateMask: ['services'], description: '', hostIds: [], groups: [], roles: [], services: {}, ...patch });

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error,
  );
}
const field = async (p: Promise<unknown>) => ((await rejection(p)) as ValidationError).field;

beforeEach(async () => {
  sites = new InMemorySites();
  hosts = new InMemoryHosts();
  groupRepo = new InMemoryGroups();
  repo = new InMemoryRecords<DeploymentData>('deployment');
  inventory = new InventoryService(sites, hosts, undefined, groupRepo);
  groups = new GroupService(sites, groupRepo, hosts);
  deployments = new DeploymentService(sites, repo, hosts, groupRepo);
  await inventory.createSite('dc1', '');
  await inventory.createSite('dc2', '');
  for (const name of ['controllers', 'compute']) await groups.createGroup({ siteId: 'dc1', name, description: '', children: [], vars: {} });
  await inventory.registerHost({ siteId: 'dc1', name: 'ctl-01', groups: ['controllers'], bmc: { address: 'b1', driver: 'lab', credentialRef: '' }, labels: {}, hardwareProfile: '' });
  await inventory.registerHost({ siteId: 'dc2', name: 'far', groups: ['compute'], bmc: { address: 'b2', driver: 'lab', credentialRef: '' }, labels: {}, hardwareProfile: '' });
});

describe('Deployment CRUD', () => {
  it('Given hosts, groups, roles and services, then version 1 with DeploymentCreated; GetDeployment and ListDeployments return it', async () => {
    const d = await deployments.createDeployment(dep());
    expect(d).toMatchObject({ id: 'dc1-prod', version: 1, hostIds: ['dc1-ctl-01'], groups: ['compute'], services: { nova: true, ironic: false }, importId: '' });
    const created = repo.eventsOfType(Events.DeploymentCreated.type) as Envelope<DeploymentCreated>[];
    expect(created.map((e) => [e.subject, e.data.deployment?.roles])).toEqual([['stackyard.dc1.inventory.deployment.dc1-prod.created', [{ role: 'control', groups: ['controllers'] }]]]);
    expect(await deployments.getDeployment('dc1-prod')).toEqual(d);
    expect((await deployments.listDeployments('dc1', 0, '')).deployments.map((x) => x.id)).toEqual(['dc1-prod']);
    expect(await rejection(deployments.createDeployment(dep()))).toBeInstanceOf(AlreadyExistsError);
  });

  it('refuses unknown hosts and groups, hosts of another site and bad names, naming the field; nothing is written', async () => {
    expect(await field(deployments.createDeployment(dep({ siteId: 'dc9' })))).toBe('site_id');
    expect(await field(deployments.createDeployment(dep({ name: 'Prod' })))).toBe('name');
    expect(await field(deployments.createDeployment(dep({ hostIds: [], groups: [] })))).toBe('host_ids');
    expect(await field(deployments.createDeployment(dep({ hostIds: ['dc1-ctl-01', 'dc1-nope'] })))).toBe('host_ids[1]');
    expect(await field(deployments.createDeployment(dep({ hostIds: ['dc2-far'] })))).toBe('host_ids[0]');
    expect(await field(deployments.createDeployment(dep({ hostIds: ['a.b'] })))).toBe('host_ids[0]');
    expect(await field(deployments.createDeployment(dep({ groups: ['storage'] })))).toBe('groups[0]');
    expect(await field(deployments.createDeployment(dep({ groups: ['compute', 'compute'] })))).toBe('groups[1]');
    expect(await field(deployments.createDeployment(dep({ roles: [{ role: 'control', groups: ['storage'] }] })))).toBe('roles[0].groups[0]');
    expect(await field(deployments.createDeployment(dep({ roles: [{ role: 'Control', groups: ['controllers'] }] })))).toBe('roles[0].role');
    expect(await field(deployments.createDeployment(dep({ roles: [{ role: 'control', groups: [] }] })))).toBe('roles[0].groups');
    expect(await field(deployments.createDeployment(dep({ services: { 'kolla.nova': true } })))).toBe('services');
    expect(await field(deployments.createDeployment(dep({ services: { Nova: true } })))).toBe('services');
    expect(await field(deployments.getDeployment(''))).toBe('id');
    expect(await rejection(deployments.getDeployment('dc1-nope'))).toBeInstanceOf(NotFoundError);
    expect(await field(deployments.listDeployments('', 0, ''))).toBe('site_id');
    expect(await field(deployments.listDeployments('dc1', 0, 'x'))).toBe('page_token');
    expect(repo.store.writes).toBe(0);
  });

  it('UpdateDeployment: masked fields at the version, DeploymentUpdated naming what changed; stale version and bad mask refused', async () => {
    await deployments.createDeployment(dep());
    const d = await deployments.updateDeployment(upd({ updateMask: ['services', 'groups'], services: { nova: true, ironic: true }, groups: ['compute', 'controllers'] }));
    expect(d).toMatchObject({ version: 2, services: { ironic: true }, groups: ['compute', 'controllers'], hostIds: ['dc1-ctl-01'] });
    expect((repo.eventsOfType(Events.DeploymentUpdated.type) as Envelope<DeploymentUpdated>[]).map((e) => e.data.changedFields)).toEqual([['groups', 'services']]);
    expect(await field(deployments.updateDeployment(upd({ version: 0 })))).toBe('version');
    expect(await field(deployments.updateDeployment(upd({ updateMask: ['name'] })))).toBe('update_mask[0]');
    expect(await field(deployments.updateDeployment(upd({ version: 2, updateMask: ['host_ids'], hostIds: ['dc1-gone'] })))).toBe('host_ids[0]');
    expect(await rejection(deployments.updateDeployment(upd({ version: 1, services: { nova: false } })))).toBeInstanceOf(ConcurrencyError);
    const before = await deployments.deleteDeployment('dc1-prod', 2);
    expect(before.version).toBe(2);
    expect(repo.eventsOfType(Events.DeploymentDeleted.type)).toHaveLength(1);
    expect(await rejection(deployments.getDeployment('dc1-prod'))).toBeInstanceOf(NotFoundError);
    expect(await field(deployments.deleteDeployment('dc1-prod', -1))).toBe('version');
  });
});

describe('Kayobe import creates the deployment', () => {
  const files = (kolla: string): ConfigFile[] => [
    { path: 'inventory/groups', text: '[controllers]\n[compute]\n[storage]\n[overcloud:children]\ncontrollers\ncompute\nstorage\n' },
    { path: 'inventory/hosts', text: '[controllers]\nctl1 ipmi_address=10.9.0.1\n[compute]\ncmp1 ipmi_address=10.9.0.2\n' },
    { path: 'kolla.yml', text: kolla },
  ];
  const req = { configPath: '/etc/kayobe', environment: '', siteId: 'dc1', dryRun: false, requestId: '', registerHosts: false, registerGroups: [], bmcDriver: 'ironic' };

  it('Given kolla.yml flags, then one deployment "kayobe" selects overcloud with the Kayobe roles and the flags; a re-import with other flags updates it', async () => {
    let current = files('kolla_enable_ironic: true\nkolla_enable_octavia: false\n');
    const importer = new KayobeImportService(inventory, new InMemoryImports(), { read: async () => current }, { groups, deployments });
    const first = await importer.importConfig(req);
    const d = await deployments.getDeployment('dc1-kayobe');
    expect(d).toMatchObject({ groups: ['overcloud'], hostIds: [], importId: first.record.id, version: 1 });
    expect(d.roles).toEqual([
      { role: 'control', groups: ['controllers'] },
      { role: 'compute', groups: ['compute'] },
      { role: 'storage', groups: ['storage'] },
    ]);
    expect(d.services).toMatchObject({ ironic: true, octavia: false });
    await importer.importConfig(req);
    expect(repo.eventsOfType(Events.DeploymentCreated.type)).toHaveLength(1);
    current = files('kolla_enable_ironic: false\n');
    await importer.importConfig(req);
    const after = await deployments.getDeployment('dc1-kayobe');
    expect(after).toMatchObject({ version: 2, importId: first.record.id, services: { ironic: false } });
    expect((repo.eventsOfType(Events.DeploymentUpdated.type) as Envelope<DeploymentUpdated>[]).map((e) => e.data.changedFields)).toEqual([['services']]);
  });
});
