import { describe, expect, it } from 'vitest';
import { gate, parseQuorumPolicy, quorum, requiredControllers } from './quorum';

const CTLS = ['ctl-01', 'ctl-02', 'ctl-03'];
const site = (ready: string[], controlPlaneDeployed = false) => ({ controllers: CTLS, networkReady: new Set(ready), controlPlaneDeployed });

describe('requiredControllers', () => {
  it('is a strict majority by default', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => requiredControllers(n))).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });

  it('can be all, or at least N (capped at the number of controllers)', () => {
    expect(requiredControllers(3, { kind: 'all' })).toBe(3);
    expect(requiredControllers(5, { kind: 'at-least', count: 1 })).toBe(1);
    expect(requiredControllers(2, { kind: 'at-least', count: 3 })).toBe(2);
  });

  it('parses the policy from configuration text', () => {
    expect(parseQuorumPolicy('majority')).toEqual({ kind: 'majority' });
    expect(parseQuorumPolicy(' ALL ')).toEqual({ kind: 'all' });
    expect(parseQuorumPolicy('2')).toEqual({ kind: 'at-least', count: 2 });
    expect(() => parseQuorumPolicy('0')).toThrow(/positive number/);
    expect(() => parseQuorumPolicy('most')).toThrow(RangeError);
  });
});

describe('quorum', () => {
  it('Given 3 controllers, then 2 ready is quorum and 1 is not', () => {
    expect(quorum(1, 3)).toEqual({ total: 3, ready: 1, required: 2, reached: false });
    expect(quorum(2, 3)).toEqual({ total: 3, ready: 2, required: 2, reached: true });
  });

  it('Given no controllers at all, then there is no quorum', () => {
    expect(quorum(0, 0).reached).toBe(false);
  });
});

describe('gate', () => {
  it('Given the first controller ready, then it waits for quorum', () => {
    expect(gate('ctl-01', true, site([]))).toEqual({ action: 'wait', reason: 'ControlPlaneQuorum', quorum: { total: 3, ready: 1, required: 2, reached: false } });
  });

  it('Given a second controller ready, then the control plane is deployed on the ready controllers at once', () => {
    expect(gate('ctl-03', true, site(['ctl-01']))).toEqual({ action: 'deploy-control-plane', hosts: ['ctl-01', 'ctl-03'], quorum: { total: 3, ready: 2, required: 2, reached: true } });
  });

  it('Given a compute node before the control plane is deployed, then it waits, even with quorum', () => {
    expect(gate('cmp-01', false, site(['ctl-01', 'ctl-02']))).toMatchObject({ action: 'wait', reason: 'ControlPlaneNotDeployed' });
  });

  it('Given the control plane deployed, then compute nodes and late controllers join one by one', () => {
    expect(gate('cmp-01', false, site(['ctl-01', 'ctl-02'], true))).toEqual({ action: 'deploy-node' });
    expect(gate('ctl-03', true, site(['ctl-01', 'ctl-02'], true))).toEqual({ action: 'deploy-node' });
  });

  it('Given the all policy, then every controller must be ready', () => {
    expect(gate('ctl-02', true, site(['ctl-01']), { kind: 'all' })).toMatchObject({ action: 'wait', reason: 'ControlPlaneQuorum' });
    expect(gate('ctl-02', true, site(['ctl-01', 'ctl-03']), { kind: 'all' })).toMatchObject({ action: 'deploy-control-plane', hosts: CTLS });
  });

  it('ignores ready hosts that are not controllers when counting', () => {
    expect(gate('ctl-01', true, site(['cmp-01', 'cmp-02']))).toMatchObject({ action: 'wait', quorum: { ready: 1 } });
  });
});
