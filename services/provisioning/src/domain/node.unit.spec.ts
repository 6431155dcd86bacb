import { describe, expect, it } from 'vitest';
import { InvalidTransitionError } from '@stackyard/errors';
import {
  allowedEvents,
  apply,
  canTransition,
  completed,
  deprovisioned,
  failedAt,
  finishStep,
  newNode,
  next,
  startStep,
  STATES,
  withStepFailed,
  type NodeData,
  type NodeEvent,
  type State,
} from './node';

const REF = { hostId: 'dc1-ctl-01', siteId: 'dc1', name: 'ctl-01', groups: ['controllers'] };
const nodeIn = (state: State): NodeData => ({ ...newNode(REF, 'lab', '10.9.0.11', 'controller-std'), state });
const FAILURE = { step: 'deploy', reason: 'DeployFailed', message: 'image checksum mismatch', retryable: false };

describe("Ironic's provision state machine (reference/kayobe.md §6.1)", () => {
  // Every transition §6.1 lists for the states Stackyard drives.
  it.each<[State, NodeEvent, State]>([
    ['enroll', 'manage', 'verifying'],
    ['verifying', 'done', 'manageable'],
    ['verifying', 'fail', 'enroll'],
    ['manageable', 'provide', 'cleaning'],
    ['manageable', 'inspect', 'inspecting'],
    ['manageable', 'clean', 'cleaning'],
    ['cleaning', 'done', 'available'],
    ['cleaning', 'wait', 'clean wait'],
    ['clean wait', 'resume', 'cleaning'],
    ['cleaning', 'fail', 'clean failed'],
    ['clean wait', 'abort', 'clean failed'],
    ['clean failed', 'manage', 'manageable'],
    ['available', 'manage', 'manageable'],
    ['inspecting', 'done', 'manageable'],
    ['inspecting', 'wait', 'inspect wait'],
    ['inspect wait', 'done', 'manageable'],
    ['inspect wait', 'resume', 'inspecting'],
    ['inspect wait', 'abort', 'inspect failed'],
    ['inspecting', 'fail', 'inspect failed'],
    ['inspect failed', 'manage', 'manageable'],
    ['inspect failed', 'inspect', 'inspecting'],
    ['available', 'deploy', 'deploying'],
    ['deploying', 'wait', 'wait call-back'],
    ['wait call-back', 'resume', 'deploying'],
    ['deploying', 'done', 'active'],
    ['deploying', 'fail', 'deploy failed'],
    ['wait call-back', 'fail', 'deploy failed'],
    ['wait call-back', 'undeploy', 'deleting'],
    ['deploy failed', 'deploy', 'deploying'],
    ['deploy failed', 'rebuild', 'deploying'],
    ['deploy failed', 'undeploy', 'deleting'],
    ['active', 'rebuild', 'deploying'],
    ['active', 'undeploy', 'deleting'],
    ['deleting', 'clean', 'cleaning'],
    ['deleting', 'fail', 'error'],
    ['error', 'rebuild', 'deploying'],
    ['error', 'undeploy', 'deleting'],
  ])('%s --%s--> %s', (from, event, to) => {
    expect(next(from, event)).toBe(to);
    expect(apply(nodeIn(from), event).state).toBe(to);
    expect(canTransition(from, to)).toBe(true);
  });

  it.each<[State, NodeEvent]>([
    ['enroll', 'deploy'],
    ['enroll', 'inspect'],
    ['enroll', 'provide'],
    ['manageable', 'deploy'],
    ['available', 'inspect'],
    ['active', 'deploy'],
    ['active', 'inspect'],
    ['active', 'manage'],
    ['inspecting', 'deploy'],
    ['deploying', 'undeploy'],
    ['deploy failed', 'inspect'],
    ['cleaning', 'deploy'],
    ['error', 'manage'],
  ])('rejects %s --%s--> with InvalidTransition (gRPC FAILED_PRECONDITION), listing what is allowed', (from, event) => {
    expect(next(from, event)).toBeUndefined();
    const e = (() => {
      try {
        apply(nodeIn(from), event);
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(InvalidTransitionError);
    expect((e as InvalidTransitionError).reason).toBe('InvalidTransition');
    expect((e as Error).message).toContain(from);
    expect((e as Error).message).toContain(`allowed: ${allowedEvents(from).join(', ')}`);
  });

  it('checks every hop of a path and leaves the node untouched when one fails', () => {
    const n = nodeIn('manageable');
    expect(() => apply(n, 'provide', 'done', 'inspect')).toThrow(InvalidTransitionError);
    expect(n.state).toBe('manageable');
    expect(apply(n, 'provide', 'done', 'deploy', 'done').state).toBe('active');
  });

  it('every state has at least one way out and every target is a known state', () => {
    for (const s of STATES) {
      expect(allowedEvents(s).length).toBeGreaterThan(0);
      for (const e of allowedEvents(s)) expect(STATES).toContain(next(s, e));
    }
  });
});

describe('saga steps on the state machine', () => {
  it('enroll verifies: enroll -> verifying -> manageable', () => {
    expect(startStep(nodeIn('enroll'), 'enroll').state).toBe('verifying');
    const done = finishStep(nodeIn('enroll'), 'enroll');
    expect(done.state).toBe('manageable');
    expect(done.steps).toEqual(['enroll']);
  });

  it('inspect runs from manageable, inspect failed or available', () => {
    expect(startStep(nodeIn('manageable'), 'inspect').state).toBe('inspecting');
    expect(startStep(nodeIn('inspect failed'), 'inspect').state).toBe('inspecting');
    expect(startStep(nodeIn('available'), 'inspect').state).toBe('inspecting');
    expect(finishStep(nodeIn('manageable'), 'inspect').state).toBe('manageable');
  });

  it('deploy provides first when the node is manageable, like Kayobe (manage, provide, deploy)', () => {
    expect(startStep(nodeIn('manageable'), 'deploy').state).toBe('deploying');
    expect(startStep(nodeIn('deploy failed'), 'deploy').state).toBe('deploying');
    expect(finishStep(nodeIn('available'), 'deploy').state).toBe('active');
  });

  it('a step cannot start from a state that does not lead to it', () => {
    expect(() => startStep(nodeIn('active'), 'deploy')).toThrow(InvalidTransitionError);
    expect(() => startStep(nodeIn('enroll'), 'inspect')).toThrow(InvalidTransitionError);
  });

  it.each<['enroll' | 'inspect' | 'deploy', State, State]>([
    ['enroll', 'enroll', 'enroll'],
    ['inspect', 'manageable', 'inspect failed'],
    ['deploy', 'manageable', 'deploy failed'],
    ['deploy', 'deploy failed', 'deploy failed'],
  ])('a failed %s from %s leaves the node in %s with its failure', (step, from, to) => {
    const f = withStepFailed(nodeIn(from), step, { ...FAILURE, step });
    expect(f.state).toBe(to);
    expect(f.lastFailure).toEqual({ ...FAILURE, step });
    expect(failedAt(f, step)).toBe(true);
    expect(completed(f, step)).toBe(false);
  });

  it('a node in enroll without a failure has not failed its enroll step', () => {
    expect(failedAt(nodeIn('enroll'), 'enroll')).toBe(false);
  });

  it('deprovision undeploys an active or failed deploy back to available, powered off, aborted', () => {
    for (const s of ['active', 'deploy failed', 'error', 'wait call-back'] as State[]) {
      expect(deprovisioned(nodeIn(s))).toMatchObject({ state: 'available', aborted: true, power: 'off' });
    }
    expect(deprovisioned(nodeIn('manageable'))).toMatchObject({ state: 'manageable', aborted: true });
  });
});
