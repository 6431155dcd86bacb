import { describe, expect, it } from 'vitest';
import { InvalidTransitionError, ValidationError } from '@stackyard/errors';
import { HostState, type HardwareFacts } from '@stackyard/proto/inventory/v1/inventory';
import {
  applyUpdate,
  assertDeletable,
  hostId,
  lifecycleOf,
  newHost,
  refOf,
  sagaEnded,
  validateRegistration,
  validateUpdateRequest,
  withHardware,
  type RegisterHostInput,
  type UpdateHostInput,
} from './host';
import { validateSite } from './site';

const input: RegisterHostInput = {
  siteId: 'dc1',
  name: 'ctl-01',
  groups: ['controllers', 'network'],
  bmc: { address: '10.9.0.11', driver: 'lab', credentialRef: 'vault:bmc/ctl-01' },
  labels: { rack: 'r12' },
  hardwareProfile: 'controller-std',
};

function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

describe('validateRegistration', () => {
  it('Given a valid registration, then it returns the host id <site>-<name>', () => {
    expect(validateRegistration(input)).toBe('dc1-ctl-01');
    expect(hostId('dc2', 'cmp-07')).toBe('dc2-cmp-07');
  });

  it.each<[string, Partial<RegisterHostInput>]>([
    ['a one-character name', { name: 'a' }],
    ['a 63-character name', { name: 'a'.repeat(63) }],
    ['a custom group', { groups: ['gpu_nodes'] }],
    ['the redfish driver', { bmc: { address: 'bmc-ctl-01.example.net', driver: 'redfish', credentialRef: '' } }],
    ['the ironic driver with a port', { bmc: { address: '10.9.0.11:623', driver: 'ironic', credentialRef: '' } }],
    ['an IPv6 BMC address', { bmc: { address: '[fd00::11]:443', driver: 'redfish', credentialRef: '' } }],
    ['a credential reference naming a password secret', { bmc: { address: '10.9.0.11', driver: 'lab', credentialRef: 'vault/bmc-password' } }],
    ['no labels', { labels: {} }],
  ])('accepts %s', (_what, patch) => {
    expect(() => validateRegistration({ ...input, ...patch })).not.toThrow();
  });

  it.each<[string, Partial<RegisterHostInput>, string, RegExp?]>([
    ['an uppercase site id', { siteId: 'DC1' }, 'site_id'],
    ['an empty site id', { siteId: '' }, 'site_id'],
    ['a site id with a dot', { siteId: 'dc.1' }, 'site_id'],
    ['an uppercase name', { name: 'CTL-01' }, 'name', /RFC 1123/],
    ['a name with an underscore', { name: 'ctl_01' }, 'name'],
    ['a name starting with a dash', { name: '-ctl' }, 'name'],
    ['a name ending with a dash', { name: 'ctl-' }, 'name'],
    ['a 64-character name', { name: 'a'.repeat(64) }, 'name'],
    ['an empty name', { name: '' }, 'name'],
    ['a dotted name', { name: 'ctl-01.dc1' }, 'name'],
    ['no groups', { groups: [] }, 'groups', /at least one group/],
    ['a bad first group', { groups: ['Controllers'] }, 'groups[0]'],
    ['a bad second group', { groups: ['compute', 'has space'] }, 'groups[1]'],
    ['a duplicate group', { groups: ['compute', 'storage', 'compute'] }, 'groups[2]', /duplicate group "compute"/],
    ['no BMC', { bmc: undefined }, 'bmc', /required/],
    ['an unknown BMC driver', { bmc: { address: '10.9.0.11', driver: 'ipmi', credentialRef: '' } }, 'bmc.driver', /lab, ironic, redfish/],
    ['an empty BMC address', { bmc: { address: '', driver: 'lab', credentialRef: '' } }, 'bmc.address'],
    ['a BMC address with a space', { bmc: { address: '10.9.0 .11', driver: 'lab', credentialRef: '' } }, 'bmc.address'],
    ['a BMC URL', { bmc: { address: 'https://10.9.0.11/redfish', driver: 'redfish', credentialRef: '' } }, 'bmc.address'],
    ['an inline password', { bmc: { address: '10.9.0.11', driver: 'lab', credentialRef: 'password:hunter2' } }, 'bmc.credential_ref', /not contain one/],
    ['an inline secret', { bmc: { address: '10.9.0.11', driver: 'lab', credentialRef: 'admin:Secret123' } }, 'bmc.credential_ref'],
    ['a label key with uppercase', { labels: { Rack: 'r1' } }, 'labels.Rack'],
    ['a label key with a dot', { labels: { 'kubernetes.io/role': 'x' } }, 'labels.kubernetes.io/role'],
  ])('rejects %s, naming the field', (_what, patch, field, message) => {
    const e = validationError(() => validateRegistration({ ...input, ...patch }));
    expect(e.field).toBe(field);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
    if (message) expect(e.message).toMatch(message);
  });

  it('never echoes an inline secret back in the error', () => {
    const e = validationError(() => validateRegistration({ ...input, bmc: { address: '10.9.0.11', driver: 'lab', credentialRef: 'password:hunter2' } }));
    expect(e.message).not.toContain('hunter2');
  });
});

describe('host values', () => {
  it('newHost copies the input into a host at version 0 with no hardware yet', () => {
    const h = newHost('dc1-ctl-01', input);
    expect(h).toEqual({
      id: 'dc1-ctl-01',
      siteId: 'dc1',
      name: 'ctl-01',
      groups: ['controllers', 'network'],
      bmc: { address: '10.9.0.11', driver: 'lab', credentialRef: 'vault:bmc/ctl-01' },
      labels: { rack: 'r12' },
      hardwareProfile: 'controller-std',
      hardware: undefined,
      version: 0,
    });
    expect(h.groups).not.toBe(input.groups);
    expect(h.labels).not.toBe(input.labels);
  });

  it('refOf carries what every saga event needs about the host', () => {
    expect(refOf(newHost('dc1-ctl-01', input))).toEqual({ hostId: 'dc1-ctl-01', siteId: 'dc1', name: 'ctl-01', groups: ['controllers', 'network'] });
  });

  it('withHardware records facts without touching the original', () => {
    const h = newHost('dc1-ctl-01', input);
    const hw: HardwareFacts = { cpuCount: 8, cpuModel: 'x', memoryMib: 1024, disks: [], nics: [] };
    expect(withHardware(h, hw).hardware).toEqual(hw);
    expect(h.hardware).toBeUndefined();
  });
});

describe('validateSite', () => {
  it('defaults the display name to the id', () => {
    expect(validateSite('dc1', '')).toEqual({ id: 'dc1', displayName: 'dc1' });
    expect(validateSite('dc1', 'Data centre 1')).toEqual({ id: 'dc1', displayName: 'Data centre 1' });
  });

  it('names id and display_name', () => {
    expect(validationError(() => validateSite('DC 1', '')).field).toBe('id');
    expect(validationError(() => validateSite('dc1', 'x'.repeat(201))).field).toBe('display_name');
  });
});

describe('host lifecycle and updates', () => {
  const host = {
    id: 'dc1-ctl-01',
    siteId: 'dc1',
    name: 'ctl-01',
    groups: ['controllers'],
    bmc: { address: '10.9.0.11', driver: 'lab', credentialRef: 'vault:bmc/ctl-01' },
    labels: { rack: 'r12', 'stackyard.io/imported-from': 'dc1-imp' },
    hardwareProfile: 'controller-std',
    hardware: undefined,
    version: 0,
  };
  const upd = (patch: Partial<UpdateHostInput>): UpdateHostInput => ({
    id: 'dc1-ctl-01',
    version: 3,
    updateMask: ['labels'],
    groups: [],
    bmc: undefined,
    labels: {},
    hardwareProfile: '',
    ...patch,
  });
  const fieldOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as ValidationError).field;
    }
    throw new Error('expected a ValidationError');
  };

  it('reads states, including hosts stored before states', () => {
    expect(lifecycleOf(HostState.HOST_STATE_READY, true)).toBe('ready');
    expect(lifecycleOf(undefined, false)).toBe('recorded');
    expect(lifecycleOf(undefined, undefined)).toBe('registered');
  });

  it('a saga end: ready, or aborted (also after ready); repeated and late facts change nothing', () => {
    expect(sagaEnded('registered', 'ready')).toBe('ready');
    expect(sagaEnded('registered', 'aborted')).toBe('aborted');
    expect(sagaEnded('ready', 'aborted')).toBe('aborted');
    expect(sagaEnded('ready', 'ready')).toBeNull();
    expect(sagaEnded('aborted', 'ready')).toBeNull();
    expect(sagaEnded('recorded', 'ready')).toBeNull();
    expect(sagaEnded('deleted', 'aborted')).toBeNull();
  });

  it('deletes only hosts whose saga has not started or is over', () => {
    for (const s of ['recorded', 'ready', 'aborted'] as const) expect(() => assertDeletable(host, s)).not.toThrow();
    expect(() => assertDeletable(host, 'registered')).toThrow(InvalidTransitionError);
  });

  it.each<[Partial<UpdateHostInput>, string]>([
    [{ id: '' }, 'id'],
    [{ id: 'a.b' }, 'id'],
    [{ version: 0 }, 'version'],
    [{ updateMask: [] }, 'update_mask'],
    [{ updateMask: ['labels', 'name'] }, 'update_mask[1]'],
  ])('names the field of a malformed update (%o → %s)', (patch, f) => {
    expect(fieldOf(() => validateUpdateRequest(upd(patch)))).toBe(f);
  });

  it('replaces the masked fields only, keeps Stackyard labels and reports what changed', () => {
    const u = upd({ updateMask: ['labels', 'hardware_profile'], labels: { rack: 'r13', role: 'db' }, hardwareProfile: 'controller-std' });
    const r = applyUpdate(host, u, validateUpdateRequest(u));
    expect(r.host.labels).toEqual({ rack: 'r13', role: 'db', 'stackyard.io/imported-from': 'dc1-imp' });
    expect(r.host.groups).toEqual(['controllers']);
    expect(r.changed).toEqual(['labels']);
  });

  it.each<[Partial<UpdateHostInput>, string]>([
    [{ labels: { 'stackyard.io/imported-from': 'x' } }, 'labels.stackyard.io/imported-from'],
    [{ labels: { 'Bad Key': 'x' } }, 'labels.Bad Key'],
    [{ updateMask: ['groups'], groups: [] }, 'groups'],
    [{ updateMask: ['groups'], groups: ['compute', 'compute'] }, 'groups[1]'],
    [{ updateMask: ['bmc'], bmc: undefined }, 'bmc'],
    [{ updateMask: ['bmc'], bmc: { address: 'x y', driver: 'lab', credentialRef: '' } }, 'bmc.address'],
    [{ updateMask: ['bmc'], bmc: { address: '10.0.0.1', driver: 'ipmi', credentialRef: '' } }, 'bmc.driver'],
    [{ updateMask: ['hardware_profile'], hardwareProfile: 'x'.repeat(64) }, 'hardware_profile'],
  ])('names the field of an invalid value (%o → %s)', (patch, f) => {
    const u = upd(patch);
    expect(fieldOf(() => applyUpdate(host, u, validateUpdateRequest(u)))).toBe(f);
  });
});
