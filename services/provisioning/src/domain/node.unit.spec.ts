import { describe, expect, it } from 'vitest';
import { InvalidTransitionError, isStackyardError } from '@stackyard/errors';
import type { Failure, HostRef } from '@stackyard/proto/inventory/v1/inventory';
import {
  STATES,
  assertTransition,
  canTransition,
  completed,
  failedState,
  newNode,
  transition,
  withStepFailed,
  type NodeData,
  type State,
  type Step,
} from './node';

const host: HostRef = { hostId: 'dc1-ctl-01', siteId: 'dc1', name: 'ctl-01', groups: ['controllers'] };
const failure: Failure = { step: 'x', reason: 'BmcError', message: 'BMC said no', retryable: false };

function nodeIn(state: State, steps: Step[] = []): NodeData {
  return { ...newNode(host, 'lab', '10.9.0.11', 'controller-std'), state, steps };
}

/** The Ironic-like table, written out independently of the source (reference/kayobe.md §6.1). */
const ALLOWED: readonly (readonly [State, State])[] = [
  ['enroll', 'manageable'],
  ['enroll', 'enroll failed'],
  ['enroll failed', 'enroll'],
  ['manageable', 'inspecting'],
  ['manageable', 'available'],
  ['inspecting', 'manageable'],
  ['inspecting', 'inspect failed'],
  ['inspect failed', 'inspecting'],
  ['inspect failed', 'manageable'],
  ['available', 'deploying'],
  ['available', 'manageable'],
  ['deploying', 'active'],
  ['active', 'deleting'],
  ['deleting', 'cleaning'],
  ['cleaning', 'available'],
  ['deploying', 'deploy failed'],
  ['deploy failed', 'deploying'],
  ['deploy failed', 'available'],
];
const allowed = new Set(ALLOWED.map(([f, t]) => `${f}->${t}`));
const DISALLOWED: [State, State][] = STATES.flatMap((f) => STATES.filter((t) => !allowed.has(`${f}->${t}`)).map((t): [State, State] => [f, t]));

function transitionError(fn: () => unknown): InvalidTransitionError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidTransitionError);
    return e as InvalidTransitionError;
  }
  throw new Error('expected an InvalidTransitionError, nothing was thrown');
}

describe('node transition table', () => {
  it('knows the eleven Ironic-like states', () => {
    expect([...STATES].sort()).toEqual(
      ['active', 'available', 'cleaning', 'deleting', 'deploy failed', 'deploying', 'enroll', 'enroll failed', 'inspect failed', 'inspecting', 'manageable'].sort(),
    );
  });

  it.each(ALLOWED)('Given a node in "%s", when it moves to "%s", then the transition is allowed', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(from, to)).not.toThrow();
    expect(transition(nodeIn(from), to).state).toBe(to);
  });

  it('allows nothing outside the table (every other pair is refused)', () => {
    expect(DISALLOWED).toHaveLength(STATES.length * STATES.length - ALLOWED.length);
    for (const [from, to] of DISALLOWED) expect(canTransition(from, to), `${from} -> ${to}`).toBe(false);
  });

  it.each<[State, State]>([
    ['enroll', 'active'],
    ['enroll', 'inspecting'],
    ['enroll failed', 'manageable'],
    ['manageable', 'deploying'],
    ['manageable', 'active'],
    ['inspecting', 'available'],
    ['inspect failed', 'deploying'],
    ['available', 'active'],
    ['deploying', 'available'],
    ['deploy failed', 'active'],
    ['active', 'deploying'],
    ['active', 'enroll'],
    ['active', 'active'],
    ['manageable', 'manageable'],
  ])('Given a node in "%s", when it is asked to move to "%s", then InvalidTransitionError names both states', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    const e = transitionError(() => assertTransition(from, to));
    expect(e.message).toBe(`node: transition from "${from}" to "${to}" is not allowed`);
    expect(e.reason).toBe('InvalidTransition');
    expect(e.metadata).toEqual({ from, to });
    expect(isStackyardError(e)).toBe(true);
  });

  it('leaves active only by undeploying (deleting), as Ironic does', () => {
    for (const to of STATES) expect(canTransition('active', to)).toBe(to === 'deleting');
  });
});

describe('transition over a path', () => {
  it('Given a new node, when it walks enroll -> active, then it ends active with its other data untouched', () => {
    const n = newNode(host, 'redfish', '10.9.0.11', 'compute-std');
    const out = transition(n, 'manageable', 'inspecting', 'manageable', 'available', 'deploying', 'active');
    expect(out).toEqual({ ...n, state: 'active' });
    expect(n.state).toBe('enroll'); // the input is not mutated
  });

  it('walks the failure and retry loops', () => {
    const n = transition(nodeIn('enroll'), 'enroll failed', 'enroll', 'manageable', 'inspecting', 'inspect failed', 'inspecting', 'manageable');
    expect(n.state).toBe('manageable');
    expect(transition(n, 'available', 'deploying', 'deploy failed', 'deploying', 'active').state).toBe('active');
  });

  it('returns the same state for an empty path', () => {
    expect(transition(nodeIn('inspecting')).state).toBe('inspecting');
  });

  it('Given a path with one illegal hop, when it is walked, then the error names that hop and the node is unchanged', () => {
    const n = nodeIn('enroll');
    const e = transitionError(() => transition(n, 'manageable', 'deploying', 'active'));
    expect(e.message).toContain('from "manageable" to "deploying"');
    expect(n.state).toBe('enroll');
  });
});

describe('newNode', () => {
  it('starts in enroll with no steps, hardware or failure', () => {
    expect(newNode(host, 'lab', '10.9.0.11', 'controller-std')).toEqual({
      host,
      state: 'enroll',
      driver: 'lab',
      bmcAddress: '10.9.0.11',
      hardwareProfile: 'controller-std',
      hardware: undefined,
      lastFailure: undefined,
      steps: [],
    });
  });
});

describe('completed', () => {
  it('is true only for steps recorded on the node', () => {
    const n = nodeIn('manageable', ['enroll', 'inspect']);
    expect(completed(n, 'enroll')).toBe(true);
    expect(completed(n, 'inspect')).toBe(true);
    expect(completed(n, 'deploy')).toBe(false);
    expect(completed(nodeIn('enroll'), 'enroll')).toBe(false);
  });
});

describe('withStepFailed', () => {
  it.each<[Step, State]>([
    ['enroll', 'enroll failed'],
    ['inspect', 'inspect failed'],
    ['deploy', 'deploy failed'],
  ])('failedState(%s) is "%s"', (step, state) => {
    expect(failedState(step)).toBe(state);
  });

  it.each<[Step, State, State]>([
    // enroll fails on a fresh node, and again on a retry
    ['enroll', 'enroll', 'enroll failed'],
    ['enroll', 'enroll failed', 'enroll failed'],
    // inspect fails right after enrolment, while inspecting, and again on a retry
    ['inspect', 'manageable', 'inspect failed'],
    ['inspect', 'inspecting', 'inspect failed'],
    ['inspect', 'inspect failed', 'inspect failed'],
    // deploy fails right after inspection (manageable), from available, while deploying, and on a retry
    ['deploy', 'manageable', 'deploy failed'],
    ['deploy', 'available', 'deploy failed'],
    ['deploy', 'deploying', 'deploy failed'],
    ['deploy', 'deploy failed', 'deploy failed'],
  ])('Given step %s fails on a node in "%s", then the node is "%s" and carries the failure', (step, from, to) => {
    const n = nodeIn(from, ['enroll']);
    const out = withStepFailed(n, step, failure);
    expect(out.state).toBe(to);
    expect(out.lastFailure).toEqual(failure);
    expect(out.steps).toEqual(['enroll']); // a failed step is never recorded as completed
    expect(n.lastFailure).toBeUndefined(); // the input is not mutated
  });

  it('refuses to fail a step of an active node', () => {
    const e = transitionError(() => withStepFailed(nodeIn('active'), 'deploy', failure));
    expect(e.message).toContain('from "active" to "deploying"');
  });

  it('refuses to fail an enrolment of a node that is already manageable', () => {
    const e = transitionError(() => withStepFailed(nodeIn('manageable'), 'enroll', failure));
    expect(e.message).toContain('from "manageable" to "enroll"');
  });
});
