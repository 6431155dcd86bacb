import { InvalidTransitionError } from '@stackyard/errors';
import type { Failure, HardwareFacts, HostRef } from '@stackyard/proto/inventory/v1/inventory';

/**
 * The bare-metal node lifecycle on Ironic's provision state model (reference/kayobe.md §6.1),
 * reduced to what the saga drives today: enroll -> manageable -> inspecting -> manageable ->
 * available -> deploying -> active, with the failure states.
 *
 *   enroll --verify--> manageable --inspect--> inspecting --done--> manageable --provide--> available
 *     |                                  \--fail--> inspect failed --inspect--> inspecting
 *     \--fail--> enroll failed --retry--> enroll
 *   available --deploy--> deploying --done--> active
 *                              \--fail--> deploy failed --deploy--> deploying
 *   active --undeploy--> deleting --> cleaning --> available   (abort: deprovision)
 */
export const STATES = [
  'enroll',
  'enroll failed',
  'manageable',
  'inspecting',
  'inspect failed',
  'available',
  'deploying',
  'deploy failed',
  'active',
  'deleting',
  'cleaning',
] as const;
export type State = (typeof STATES)[number];

const TRANSITIONS: Readonly<Record<State, readonly State[]>> = {
  enroll: ['manageable', 'enroll failed'],
  'enroll failed': ['enroll'],
  manageable: ['inspecting', 'available'],
  inspecting: ['manageable', 'inspect failed'],
  'inspect failed': ['inspecting', 'manageable'],
  available: ['deploying', 'manageable'],
  deploying: ['active', 'deploy failed'],
  'deploy failed': ['deploying', 'available'],
  active: ['deleting'],
  deleting: ['cleaning'],
  cleaning: ['available'],
};

export function canTransition(from: State, to: State): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: State, to: State): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError('node', from, to);
}

export interface NodeData {
  readonly host: HostRef;
  readonly state: State;
  readonly driver: string;
  readonly bmcAddress: string;
  readonly hardwareProfile: string;
  readonly hardware: HardwareFacts | undefined;
  readonly lastFailure: Failure | undefined;
  /** Saga steps completed, in order; a step already here is never run again. */
  readonly steps: readonly Step[];
  /** Aborted and deprovisioned (compensation): later saga events are ignored. */
  readonly aborted?: boolean;
}

export type Step = 'enroll' | 'inspect' | 'deploy';

export function newNode(host: HostRef, driver: string, bmcAddress: string, hardwareProfile: string): NodeData {
  return { host, state: 'enroll', driver, bmcAddress, hardwareProfile, hardware: undefined, lastFailure: undefined, steps: [] };
}

/** Moves a node through a sequence of states, checking each transition. */
export function transition(n: NodeData, ...path: State[]): NodeData {
  let state = n.state;
  for (const to of path) {
    assertTransition(state, to);
    state = to;
  }
  return { ...n, state };
}

export function completed(n: NodeData, step: Step): boolean {
  return n.steps.includes(step);
}

/** The state a failed step leaves the node in. */
export function failedState(step: Step): State {
  return step === 'enroll' ? 'enroll failed' : step === 'inspect' ? 'inspect failed' : 'deploy failed';
}

/** The state a step works in; a failed step is recorded from there, so that it can be run again. */
function workingState(step: Step): State {
  return step === 'enroll' ? 'enroll' : step === 'inspect' ? 'inspecting' : 'deploying';
}

/**
 * Records a failed step. The node is first moved into the step's working state: a deploy starts from
 * `manageable` (right after inspection) by way of `available`, like the deploy step itself does.
 */
export function withStepFailed(n: NodeData, step: Step, failure: Failure): NodeData {
  const working = workingState(step);
  const path: State[] = n.state === working ? [] : step === 'deploy' && n.state === 'manageable' ? ['available', working] : [working];
  return { ...transition(n, ...path, failedState(step)), lastFailure: failure };
}

/** Abort compensation: an active node is undeployed (active -> deleting -> cleaning -> available). */
export function deprovisioned(n: NodeData): NodeData {
  const undeployed = n.state === 'active' ? transition(n, 'deleting', 'cleaning', 'available') : n;
  return { ...undeployed, aborted: true };
}
