import { describe, expect, it } from 'vitest';
import { DEFAULT_LAYOUT } from './catalogue';
import { controllerGate, controlPlaneRole, gate, parseQuorumPolicy, quorum, requiredControllers, type ControllerView } from './quorum';

const ctl = (name: string, state: ControllerView['state'] = 'pending', reason?: string): ControllerView => ({ name, state, ...(reason ? { reason } : {}) });
const three = (...states: ControllerView['state'][]) => states.map((s, i) => ctl(`ctl-0${i + 1}`, s, s === 'failed' ? 'ContainerStartFailed' : undefined));

describe('requiredControllers', () => {
  it('is a strict majority by default', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => requiredControllers(n))).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });

  it('can be all, at least N (capped at the number of controllers), or none', () => {
    expect(requiredControllers(3, { kind: 'all' })).toBe(3);
    expect(requiredControllers(5, { kind: 'at-least', count: 1 })).toBe(1);
    expect(requiredControllers(2, { kind: 'at-least', count: 3 })).toBe(2);
    expect(requiredControllers(3, { kind: 'none' })).toBe(0);
  });

  it('parses the policy from configuration text', () => {
    expect(parseQuorumPolicy('majority')).toEqual({ kind: 'majority' });
    expect(parseQuorumPolicy('')).toEqual({ kind: 'majority' });
    expect(parseQuorumPolicy(' ALL ')).toEqual({ kind: 'all' });
    expect(parseQuorumPolicy('none')).toEqual({ kind: 'none' });
    expect(parseQuorumPolicy('2')).toEqual({ kind: 'at-least', count: 2 });
    expect(() => parseQuorumPolicy('0')).toThrow(/positive number/);
    expect(() => parseQuorumPolicy('most')).toThrow(RangeError);
  });
});

describe('quorum', () => {
  it('Given 3 controllers, then 2 deployed is quorum and 1 is not', () => {
    expect(quorum(1, 3)).toEqual({ total: 3, ready: 1, required: 2, reached: false });
    expect(quorum(2, 3)).toEqual({ total: 3, ready: 2, required: 2, reached: true });
  });

  it('Given no controllers at all, then there is no quorum (the gate does not wait for one)', () => {
    expect(quorum(0, 0).reached).toBe(false);
  });
});

describe('controlPlaneRole (Kayobe groups through the Kolla top-level map)', () => {
  it('counts controllers, lets network hosts through, gates the others', () => {
    expect(controlPlaneRole(['controllers'])).toBe('controller');
    expect(controlPlaneRole(['controllers', 'network', 'monitoring'])).toBe('controller');
    expect(controlPlaneRole(['compute', 'controllers'])).toBe('controller');
    expect(controlPlaneRole(['network'])).toBe('control-plane');
    expect(controlPlaneRole(['compute'])).toBe('member');
    expect(controlPlaneRole(['storage'])).toBe('member');
    expect(controlPlaneRole(['monitoring'])).toBe('member');
    expect(controlPlaneRole([])).toBe('none');
    expect(controlPlaneRole(['seed'])).toBe('none');
  });

  it('follows a custom top-level map', () => {
    const layout = { ...DEFAULT_LAYOUT, topLevel: { ...DEFAULT_LAYOUT.topLevel, control: { groups: ['controllers', 'ctl-extra'] } } };
    expect(controlPlaneRole(['ctl-extra'], layout)).toBe('controller');
  });
});

describe('gate', () => {
  it('Given a controller or a network host, then it deploys at once, whatever the site', () => {
    expect(gate(['controllers'], three('pending', 'pending', 'pending'))).toEqual({ action: 'deploy', why: 'control-plane' });
    expect(gate(['network'], three('failed', 'failed', 'failed'))).toEqual({ action: 'deploy', why: 'control-plane' });
  });

  it('Given a host with no overcloud group, then it deploys (nothing) at once', () => {
    expect(gate([], three('pending', 'pending', 'pending'))).toEqual({ action: 'deploy', why: 'no-containers' });
  });

  it('Given a site with no controllers, then compute nodes deploy at once', () => {
    expect(gate(['compute'], [])).toEqual({ action: 'deploy', why: 'no-controllers' });
  });

  it('Given the policy none, then compute nodes deploy at once', () => {
    expect(gate(['compute'], three('pending', 'pending', 'pending'), { kind: 'none' })).toEqual({ action: 'deploy', why: 'not-gated' });
  });

  it('Given fewer controllers deployed than a majority, then a compute node waits for the control plane', () => {
    expect(gate(['compute'], three('pending', 'pending', 'pending'))).toEqual({
      action: 'wait',
      reason: 'ControlPlaneQuorum',
      message: 'waiting for the control plane: 2 of 3 controllers must be deployed, 0 are',
      quorum: { total: 3, ready: 0, required: 2, reached: false },
    });
    expect(gate(['storage'], three('deployed', 'pending', 'pending'))).toMatchObject({
      action: 'wait',
      reason: 'ControlPlaneQuorum',
      message: 'waiting for the control plane: 2 of 3 controllers must be deployed, 1 is',
    });
  });

  it('Given a majority of the controllers deployed, then compute nodes deploy', () => {
    expect(gate(['compute'], three('deployed', 'pending', 'deployed'))).toEqual({ action: 'deploy', why: 'quorum', quorum: { total: 3, ready: 2, required: 2, reached: true } });
    expect(gate(['compute'], three('deployed', 'failed', 'deployed'))).toMatchObject({ action: 'deploy', why: 'quorum' });
  });

  it('Given one controller failed but quorum still reachable, then it waits and names the failure', () => {
    expect(gate(['compute'], three('deployed', 'failed', 'pending'))).toMatchObject({
      action: 'wait',
      reason: 'ControlPlaneQuorum',
      message: 'waiting for the control plane: 2 of 3 controllers must be deployed, 1 is; failed: ctl-02 (ContainerStartFailed)',
    });
  });

  it('Given so many controllers failed that quorum cannot be reached, then it waits with ControlPlaneFailed', () => {
    expect(gate(['compute'], three('failed', 'deployed', 'failed'))).toEqual({
      action: 'wait',
      reason: 'ControlPlaneFailed',
      message: 'control plane cannot reach quorum: 2 of 3 controllers must be deployed, 1 is; failed: ctl-01 (ContainerStartFailed), ctl-03 (ContainerStartFailed); retry a failed controller',
      quorum: { total: 3, ready: 1, required: 2, reached: false },
    });
    expect(gate(['compute'], [ctl('ctl-01', 'failed')])).toMatchObject({ reason: 'ControlPlaneFailed', message: expect.stringContaining('1 of 1 controller must be deployed, 0 are; failed: ctl-01 (failed)') });
  });

  it('Given the all policy, then every controller must be deployed; with a number, that many', () => {
    expect(gate(['compute'], three('deployed', 'deployed', 'pending'), { kind: 'all' })).toMatchObject({ action: 'wait', reason: 'ControlPlaneQuorum' });
    expect(gate(['compute'], three('deployed', 'deployed', 'failed'), { kind: 'all' })).toMatchObject({ action: 'wait', reason: 'ControlPlaneFailed' });
    expect(gate(['compute'], three('deployed', 'deployed', 'deployed'), { kind: 'all' })).toMatchObject({ action: 'deploy', why: 'quorum' });
    expect(gate(['compute'], three('deployed', 'pending', 'pending'), { kind: 'at-least', count: 1 })).toMatchObject({ action: 'deploy', why: 'quorum' });
  });
});

describe('controllerGate: the control plane released as one batch', () => {
  it('Given fewer ready controllers than the policy needs, then wait, naming the count', () => {
    expect(controllerGate('ctl-01', three('ready', 'pending', 'pending'), null)).toEqual({
      action: 'wait',
      reason: 'ControlPlaneAssembling',
      message: 'waiting for the controllers: 2 of 3 controllers must be ready to deploy the control plane together, 1 is',
      quorum: { total: 3, ready: 1, required: 2, reached: false },
    });
  });

  it('Given a majority ready, then release every ready controller together', () => {
    expect(controllerGate('ctl-02', three('ready', 'ready', 'pending'), null)).toMatchObject({ action: 'release', members: ['ctl-01', 'ctl-02'] });
    expect(controllerGate('ctl-02', three('ready', 'ready', 'pending'), null, { kind: 'all' })).toMatchObject({ action: 'wait', reason: 'ControlPlaneAssembling' });
  });

  it('Given too many failed controllers, then ControlPlaneFailed', () => {
    expect(controllerGate('ctl-01', three('ready', 'failed', 'failed'), null)).toMatchObject({ action: 'wait', reason: 'ControlPlaneFailed', message: expect.stringContaining('failed: ctl-02 (ContainerStartFailed), ctl-03 (ContainerStartFailed)') });
  });

  it('Given the batch released, then a member is the batch’s and any other controller joins alone; none: alone', () => {
    expect(controllerGate('ctl-01', [], ['ctl-01', 'ctl-02'])).toEqual({ action: 'in-batch' });
    expect(controllerGate('ctl-03', [], ['ctl-01', 'ctl-02'])).toEqual({ action: 'deploy', why: 'joins' });
    expect(controllerGate('ctl-03', three('deployed', 'pending', 'ready'), null)).toEqual({ action: 'deploy', why: 'joins' });
    expect(controllerGate('ctl-01', three('ready', 'pending', 'pending'), null, { kind: 'none' })).toEqual({ action: 'deploy', why: 'not-gated' });
  });
});
