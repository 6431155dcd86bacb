import { describe, expect, it } from 'vitest';
import { ValidationError } from '@stackyard/errors';
import { DeployFailed, HostPrepared, NodeDeploymentReleased, NodeDeploymentWaiting, NodeHealthChanged, ServicesDeployed } from '@stackyard/proto/deployment/v1/events';
import { DeploymentCreated, DeploymentDeleted, DeploymentUpdated, GroupCreated, GroupDeleted, GroupUpdated, HostDeleted, HostHardwareRecorded, HostRecorded, HostRegistered, HostUpdated, ImportCompleted } from '@stackyard/proto/inventory/v1/events';
import { NodeAbortRequested, NodeDegraded, NodeReady, NodeRecovered, NodeRetryRequested } from '@stackyard/proto/monitoring/v1/events';
import { ControlPlaneReleased, ServicesRemoved, SiteServicesDeployed } from '@stackyard/proto/deployment/v1/events';
import { AddressesReleased, AdminAddressAllocated } from '@stackyard/proto/network/v1/events';
import { NodeActionFinished, NodeActionRequested, NodeDeprovisioned } from '@stackyard/proto/provisioning/v1/events';
import { NetworkConfigured, NetworkFailed } from '@stackyard/proto/network/v1/events';
import { NodeEnrolled, NodeInspected, NodeProvisioned, ProvisioningFailed } from '@stackyard/proto/provisioning/v1/events';
import { Events, allEventTypes, eventTypeOf, type EventType } from './catalogue';
import { CONTENT_TYPE, H, fromWire, newEvent, toWire, type Envelope } from './envelope';

const ref = { hostId: 'dc1-ctl-01', siteId: 'dc1', name: 'ctl-01', groups: ['controllers', 'network'] };
const hardware = {
  cpuCount: 32,
  cpuModel: 'Intel Xeon Gold 6330',
  memoryMib: 262_144,
  disks: [{ name: 'sda', sizeGib: 480, rotational: false }],
  nics: [{ name: 'eno1', macAddress: '52:54:00:aa:bb:01', speedMbps: 25_000, lldpSwitch: 'dc1-tor-1', lldpPort: 'Ethernet7' }],
};
const failure = { reason: 'BmcTimeout', message: 'BMC timed out', retryable: true, step: 'inspect' };

/**
 * A complete, non-default message for every event type, keyed by ce-type (built with ts-proto's
 * fromPartial so that every field is present). A new event type without a sample fails the test below.
 */
const SAMPLES: Record<string, { service: string; data: unknown }> = {
  'stackyard.inventory.v1.HostRegistered': {
    service: 'inventory',
    data: HostRegistered.fromPartial({
      host: {
        id: 'dc1-ctl-01',
        siteId: 'dc1',
        name: 'ctl-01',
        groups: ['controllers'],
        bmc: { address: '10.9.0.11', driver: 'lab', credentialRef: 'vault:bmc/ctl-01' },
        labels: { rack: 'r12', row: '3' },
        hardwareProfile: 'controller-std',
        hardware,
        version: 4,
      },
    }),
  },
  'stackyard.inventory.v1.HostHardwareRecorded': { service: 'inventory', data: HostHardwareRecorded.fromPartial({ hostId: 'dc1-ctl-01', siteId: 'dc1', hardware }) },
  'stackyard.provisioning.v1.NodeEnrolled': { service: 'provisioning', data: NodeEnrolled.fromPartial({ host: ref, driver: 'redfish' }) },
  'stackyard.provisioning.v1.NodeInspected': { service: 'provisioning', data: NodeInspected.fromPartial({ host: ref, hardware }) },
  'stackyard.provisioning.v1.NodeProvisioned': { service: 'provisioning', data: NodeProvisioned.fromPartial({ host: ref, image: 'ubuntu-noble', nics: hardware.nics }) },
  'stackyard.provisioning.v1.ProvisioningFailed': { service: 'provisioning', data: ProvisioningFailed.fromPartial({ host: ref, failure }) },
  'stackyard.network.v1.NetworkConfigured': {
    service: 'network',
    data: NetworkConfigured.fromPartial({
      host: ref,
      allocations: [{ siteId: 'dc1', network: 'internal', hostId: 'dc1-ctl-01', address: '10.1.0.10' }],
      files: [{ path: '/etc/systemd/network/50-kayobe-eno1.network', content: '[Match]\nName=eno1\n' }],
    }),
  },
  'stackyard.network.v1.NetworkFailed': { service: 'network', data: NetworkFailed.fromPartial({ host: ref, failure }) },
  'stackyard.deployment.v1.ServicesDeployed': {
    service: 'deployment',
    data: ServicesDeployed.fromPartial({ host: ref, containers: [{ service: 'nova', name: 'nova_compute', healthy: true }, { service: 'common', name: 'cron', healthy: false }] }),
  },
  'stackyard.deployment.v1.DeployFailed': { service: 'deployment', data: DeployFailed.fromPartial({ host: ref, failure }) },
  'stackyard.deployment.v1.NodeDeploymentWaiting': {
    service: 'deployment',
    data: NodeDeploymentWaiting.fromPartial({
      host: ref,
      wait: { reason: 'ControlPlaneFailed', message: 'control plane cannot reach quorum', controllersDeployed: 1, controllersRequired: 2, controllersTotal: 3 },
    }),
  },
  'stackyard.deployment.v1.NodeDeploymentReleased': {
    service: 'deployment',
    data: NodeDeploymentReleased.fromPartial({ host: ref, controllersDeployed: 2, controllersRequired: 2, controllersTotal: 3 }),
  },
  'stackyard.deployment.v1.NodeHealthChanged': {
    service: 'deployment',
    data: NodeHealthChanged.fromPartial({ host: ref, healthy: false, unhealthyContainers: [{ service: 'nova', name: 'nova_compute', healthy: false }], checkedAtMs: 1_741_064_767_089 }),
  },
  'stackyard.deployment.v1.HostPrepared': {
    service: 'deployment',
    data: HostPrepared.fromPartial({ host: ref, changed: ['file /etc/hosts', 'create user kolla'], unchangedCount: 3 }),
  },
  'stackyard.monitoring.v1.NodeDegraded': { service: 'monitoring', data: NodeDegraded.fromPartial({ host: ref, reasons: ['nova_compute (nova) unhealthy'] }) },
  'stackyard.monitoring.v1.NodeRecovered': { service: 'monitoring', data: NodeRecovered.fromPartial({ host: ref, degradedForMs: 90_000 }) },
  'stackyard.monitoring.v1.NodeReady': { service: 'monitoring', data: NodeReady.fromPartial({ host: ref, durationMs: 1_234_567_890_123 }) },
  'stackyard.monitoring.v1.NodeAbortRequested': { service: 'monitoring', data: NodeAbortRequested.fromPartial({ host: ref, requestedBy: 'alice' }) },
  'stackyard.deployment.v1.ControlPlaneReleased': {
    service: 'deployment',
    data: ControlPlaneReleased.fromPartial({ siteId: 'dc1', controllers: [ref, { ...ref, hostId: 'dc1-ctl-02', name: 'ctl-02' }], controllersReady: 2, controllersRequired: 2, controllersTotal: 3 }),
  },
  'stackyard.deployment.v1.SiteServicesDeployed': {
    service: 'deployment',
    data: SiteServicesDeployed.fromPartial({ siteId: 'dc1', generation: 2, hosts: [ref, { hostId: 'dc1-cmp-01', siteId: 'dc1', name: 'cmp-01', groups: ['compute'] }], addedHostIds: ['dc1-cmp-01'] }),
  },
  'stackyard.deployment.v1.ServicesRemoved': { service: 'deployment', data: ServicesRemoved.fromPartial({ host: ref, removed: [{ service: 'nova', name: 'nova_compute', healthy: true }] }) },
  'stackyard.network.v1.AddressesReleased': { service: 'network', data: AddressesReleased.fromPartial({ host: ref, released: [{ siteId: 'dc1', network: 'internal', hostId: 'h', address: '10.1.0.10' }] }) },
  'stackyard.provisioning.v1.NodeDeprovisioned': { service: 'provisioning', data: NodeDeprovisioned.fromPartial({ host: ref, state: 'available' }) },
  'stackyard.monitoring.v1.NodeRetryRequested': { service: 'monitoring', data: NodeRetryRequested.fromPartial({ host: ref, step: 'inspect', attempt: 2, requestedBy: 'alice' }) },
  'stackyard.inventory.v1.HostRecorded': { service: 'inventory', data: HostRecorded.fromPartial({ host: { id: 'dc1-ctl-01', siteId: 'dc1', name: 'ctl-01', groups: ['controllers'], version: 1 }, importId: 'imp-1' }) },
  'stackyard.inventory.v1.HostUpdated': { service: 'inventory', data: HostUpdated.fromPartial({ host: { id: 'dc1-ctl-01', siteId: 'dc1', name: 'ctl-01', groups: ['controllers'], labels: { rack: 'r1' }, version: 3 }, changedFields: ['labels', 'state'] }) },
  'stackyard.inventory.v1.GroupCreated': { service: 'inventory', data: GroupCreated.fromPartial({ group: { id: 'dc1-storage', siteId: 'dc1', name: 'storage', description: 'Ceph OSD hosts', children: ['storage-ssd'], vars: { ceph_osd_count: '4' }, version: 2 } }) },
  'stackyard.inventory.v1.GroupUpdated': { service: 'inventory', data: GroupUpdated.fromPartial({ group: { id: 'dc1-storage', siteId: 'dc1', name: 'storage', description: 'Ceph OSD hosts', children: ['storage-ssd'], vars: { ceph_osd_count: '4' }, version: 2 }, changedFields: ['children', 'vars'] }) },
  'stackyard.inventory.v1.GroupDeleted': { service: 'inventory', data: GroupDeleted.fromPartial({ groupId: 'dc1-storage', siteId: 'dc1', group: { id: 'dc1-storage', siteId: 'dc1', name: 'storage', description: 'Ceph OSD hosts', children: ['storage-ssd'], vars: { ceph_osd_count: '4' }, version: 2 } }) },
  'stackyard.inventory.v1.DeploymentCreated': { service: 'inventory', data: DeploymentCreated.fromPartial({ deployment: { id: 'dc1-kayobe', siteId: 'dc1', name: 'kayobe', description: 'overcloud', hostIds: ['dc1-ctl-01'], groups: ['overcloud'], roles: [{ role: 'control', groups: ['controllers'] }], services: { nova: true, ironic: false }, version: 2, importId: 'imp-1' } }) },
  'stackyard.inventory.v1.DeploymentUpdated': { service: 'inventory', data: DeploymentUpdated.fromPartial({ deployment: { id: 'dc1-kayobe', siteId: 'dc1', name: 'kayobe', description: 'overcloud', hostIds: ['dc1-ctl-01'], groups: ['overcloud'], roles: [{ role: 'control', groups: ['controllers'] }], services: { nova: true, ironic: false }, version: 2, importId: 'imp-1' }, changedFields: ['services'] }) },
  'stackyard.inventory.v1.DeploymentDeleted': { service: 'inventory', data: DeploymentDeleted.fromPartial({ deploymentId: 'dc1-kayobe', siteId: 'dc1', deployment: { id: 'dc1-kayobe', siteId: 'dc1', name: 'kayobe', description: 'overcloud', hostIds: ['dc1-ctl-01'], groups: ['overcloud'], roles: [{ role: 'control', groups: ['controllers'] }], services: { nova: true, ironic: false }, version: 2, importId: 'imp-1' } }) },
  'stackyard.inventory.v1.HostDeleted': { service: 'inventory', data: HostDeleted.fromPartial({ hostId: 'dc1-ctl-01', siteId: 'dc1', host: { id: 'dc1-ctl-01', siteId: 'dc1', name: 'ctl-01', version: 5 } }) },
  'stackyard.inventory.v1.ImportCompleted': {
    service: 'inventory',
    data: ImportCompleted.fromPartial({ importId: 'imp-1', siteId: 'dc1', configPath: '/etc/kayobe', environment: 'prod', hostsAdded: 3, hostsChanged: 1, hostsUnchanged: 7, warningsCount: 2, hostsMissing: ['old-1'] }),
  },
  'stackyard.network.v1.AdminAddressAllocated': {
    service: 'network',
    data: AdminAddressAllocated.fromPartial({ host: ref, network: 'provision_oc', address: '10.0.0.11', prefixLength: 24, gateway: '10.0.0.1', mtu: 1500, vlan: 12, nameservers: ['10.0.0.2'], nics: hardware.nics }),
  },
  'stackyard.provisioning.v1.NodeActionRequested': { service: 'provisioning', data: NodeActionRequested.fromPartial({ host: ref, action: 'power off', requestId: '0190f0a0-0000-7000-8000-00000000000a' }) },
  'stackyard.provisioning.v1.NodeActionFinished': {
    service: 'provisioning',
    data: NodeActionFinished.fromPartial({ host: ref, action: 'deploy', requestId: '0190f0a0-0000-7000-8000-00000000000b', state: 'deploy failed', failure, power: 'off' }),
  },
};

const NOW = new Date('2025-03-04T05:06:07.089Z');

function sample(type: EventType<unknown>, cause?: Pick<Envelope, 'id' | 'correlationId'>): Envelope {
  const s = SAMPLES[type.type]!;
  return newEvent({ type, site: 'dc1', entityId: 'dc1-ctl-01', service: s.service, data: s.data, now: NOW, ...(cause ? { cause } : {}) });
}

function wireOf(env: Envelope) {
  const w = toWire(env);
  return { ...w, header: (k: string) => w.headers[k] };
}

function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

describe('event catalogue', () => {
  it('has a round-trip sample for every event type, and no sample for a type that does not exist', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(allEventTypes().map((t) => t.type).sort());
    expect(allEventTypes()).toHaveLength(Object.keys(Events).length);
  });

  it('uses the proto full name as ce-type and finds each type by it', () => {
    for (const [key, t] of Object.entries(Events)) {
      expect(t.type).toMatch(new RegExp(`^stackyard\\.${t.context}\\.v1\\.${key}$`));
      expect(eventTypeOf(t.type)).toBe(t);
    }
  });

  it('names ce-type for an unknown type', () => {
    const e = validationError(() => eventTypeOf('stackyard.inventory.v1.HostVanished'));
    expect(e.field).toBe('ce-type');
    expect(e.message).toBe('ce-type: unknown event type "stackyard.inventory.v1.HostVanished"');
  });
});

describe('newEvent', () => {
  it('builds the CloudEvents attributes, subject and a UUIDv7 id from its inputs', () => {
    const e = newEvent({ type: Events.NodeProvisioned, site: 'dc1', entityId: 'dc1-ctl-01', service: 'provisioning', data: SAMPLES[Events.NodeProvisioned.type]!.data as NodeProvisioned, now: NOW });
    expect(e).toMatchObject({
      type: 'stackyard.provisioning.v1.NodeProvisioned',
      source: '/stackyard/dc1/provisioning',
      entityId: 'dc1-ctl-01',
      time: '2025-03-04T05:06:07.089Z',
      site: 'dc1',
      subject: 'stackyard.dc1.provisioning.node.dc1-ctl-01.provisioned',
      causationId: undefined,
    });
    expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // UUIDv7 starts with the millisecond timestamp
    expect(parseInt(e.id.replace(/-/g, '').slice(0, 12), 16)).toBe(NOW.getTime());
    // the first event of a chain correlates with itself
    expect(e.correlationId).toBe(e.id);
  });

  it('inherits the correlation id of its cause and takes the cause id as causation id', () => {
    const e = sample(Events.NodeEnrolled, { id: 'cause-1', correlationId: 'corr-9' });
    expect(e.correlationId).toBe('corr-9');
    expect(e.causationId).toBe('cause-1');
  });

  it('keeps a given id', () => {
    const e = newEvent({ type: Events.NodeReady, site: 'dc1', entityId: 'h', service: 'monitoring', data: NodeReady.fromPartial({}), id: 'fixed-id' });
    expect(e.id).toBe('fixed-id');
    expect(e.correlationId).toBe('fixed-id');
  });

  it.each<[string, { site?: string; entityId?: string; service?: string }, string]>([
    ['a service with uppercase', { service: 'Provisioning' }, 'service'],
    ['a site with a dot', { site: 'dc.1' }, 'site'],
    ['an entity id with a dot', { entityId: 'dc1.ctl' }, 'id'],
    ['an entity id with a wildcard', { entityId: 'dc1-*' }, 'id'],
  ])('rejects %s, naming the field', (_what, patch, field) => {
    const e = validationError(() =>
      newEvent({ type: Events.NodeReady, site: 'dc1', entityId: 'h1', service: 'monitoring', data: NodeReady.fromPartial({}), ...patch }),
    );
    expect(e.field).toBe(field);
  });
});

describe('toWire / fromWire', () => {
  it.each(allEventTypes().map((t) => [t.type, t] as const))('round-trips %s through headers and protobuf bytes', (_name, type) => {
    const env = sample(type, { id: 'cause-1', correlationId: 'corr-1' });
    const w = wireOf(env);

    expect(w.subject).toBe(env.subject);
    expect(w.payload.length).toBeGreaterThan(0);
    const back = fromWire(w.subject, w.header, w.payload);

    expect(back).toEqual(env);
  });

  it('writes the CloudEvents binary-mode headers', () => {
    const env = sample(Events.NodeInspected, { id: 'cause-1', correlationId: 'corr-1' });
    expect(toWire(env).headers).toEqual({
      'ce-specversion': '1.0',
      'ce-id': env.id,
      'ce-type': 'stackyard.provisioning.v1.NodeInspected',
      'ce-source': '/stackyard/dc1/provisioning',
      'ce-subject': 'dc1-ctl-01',
      'ce-time': '2025-03-04T05:06:07.089Z',
      'content-type': 'application/protobuf',
      'ce-correlationid': 'corr-1',
      'ce-causationid': 'cause-1',
    });
    expect(CONTENT_TYPE).toBe('application/protobuf');
  });

  it('omits ce-causationid for an event without a cause, and reads it back as undefined', () => {
    const env = sample(Events.HostRegistered);
    const w = wireOf(env);
    expect(Object.keys(w.headers)).not.toContain(H.causationId);
    expect(fromWire(w.subject, w.header, w.payload).causationId).toBeUndefined();
  });

  it('falls back to ce-id as correlation id when the header is missing', () => {
    const env = sample(Events.NodeReady, { id: 'c', correlationId: 'corr-1' });
    const w = wireOf(env);
    const back = fromWire(w.subject, (k) => (k === H.correlationId ? undefined : w.headers[k]), w.payload);
    expect(back.correlationId).toBe(env.id);
  });

  it('takes the site from the subject', () => {
    const env = newEvent({ type: Events.NodeReady, site: 'edge-7', entityId: 'h1', service: 'monitoring', data: NodeReady.fromPartial({ host: ref }) });
    const w = wireOf(env);
    expect(fromWire(w.subject, w.header, w.payload).site).toBe('edge-7');
  });

  it.each([H.specversion, H.type, H.source, H.id, H.subject, H.time])('Given no %s header, then the error names that header', (missing) => {
    const w = wireOf(sample(Events.NodeEnrolled));
    const e = validationError(() => fromWire(w.subject, (k) => (k === missing ? undefined : w.headers[k]), w.payload));
    expect(e.field).toBe(missing);
    expect(e.message).toBe(`${missing}: missing CloudEvents header`);
  });

  it('treats an empty header as missing', () => {
    const w = wireOf(sample(Events.NodeEnrolled));
    const e = validationError(() => fromWire(w.subject, (k) => (k === H.id ? '' : w.headers[k]), w.payload));
    expect(e.field).toBe('ce-id');
  });

  it('names ce-specversion for another CloudEvents version', () => {
    const w = wireOf(sample(Events.NodeEnrolled));
    const e = validationError(() => fromWire(w.subject, (k) => (k === H.specversion ? '0.3' : w.headers[k]), w.payload));
    expect(e.field).toBe('ce-specversion');
  });

  it('names content-type for a non-protobuf payload, and accepts a missing content-type', () => {
    const w = wireOf(sample(Events.NodeEnrolled));
    const e = validationError(() => fromWire(w.subject, (k) => (k === H.contentType ? 'application/json' : w.headers[k]), w.payload));
    expect(e.field).toBe('content-type');
    expect(e.message).toContain('application/json');
    expect(fromWire(w.subject, (k) => (k === H.contentType ? undefined : w.headers[k]), w.payload).type).toBe(Events.NodeEnrolled.type);
  });

  it('names ce-type for an unknown type', () => {
    const w = wireOf(sample(Events.NodeEnrolled));
    const e = validationError(() => fromWire(w.subject, (k) => (k === H.type ? 'stackyard.provisioning.v9.NodeEnrolled' : w.headers[k]), w.payload));
    expect(e.field).toBe('ce-type');
    expect(e.message).toContain('stackyard.provisioning.v9.NodeEnrolled');
  });

  it.each([
    ['truncated bytes', new Uint8Array([0xff, 0xff, 0xff])],
    ['a length beyond the end', new Uint8Array([0x0a, 0x05, 0x01])],
    ['an invalid wire type', new Uint8Array([0x0f])],
  ])('Given a garbage payload (%s), then it is a ValidationError on payload naming the type', (_what, bytes) => {
    const w = wireOf(sample(Events.HostRegistered));
    const e = validationError(() => fromWire(w.subject, w.header, bytes));
    expect(e.field).toBe('payload');
    expect(e.message).toMatch(/^payload: cannot decode stackyard\.inventory\.v1\.HostRegistered: /);
  });

  it('refuses to encode an envelope of an unknown type', () => {
    const env = { ...sample(Events.NodeReady), type: 'stackyard.x.v1.Y' };
    expect(validationError(() => toWire(env)).field).toBe('ce-type');
  });
});
