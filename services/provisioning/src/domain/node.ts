import { InvalidTransitionError } from '@stackyard/errors';
import type { Failure, HardwareFacts, HostRef } from '@stackyard/proto/inventory/v1/inventory';

/**
 * The bare-metal node lifecycle on Ironic's provision state model (reference/kayobe.md §6.1): the
 * same state names, the same events and the same allowed transitions, for the part of the model
 * Stackyard drives (no adoption, rescue or servicing).
 *
 *   enroll --manage--> verifying --done--> manageable          (verify fails: back to enroll)
 *   manageable --inspect--> inspecting [--wait--> inspect wait] --done--> manageable
 *                                   \--fail--> inspect failed --inspect|manage-->
 *   manageable --provide--> cleaning [--wait--> clean wait] --done--> available   (fail: clean failed)
 *   available --deploy--> deploying [--wait--> wait call-back --resume-->] --done--> active
 *                                   \--fail--> deploy failed --deploy|rebuild--> deploying
 *   active|deploy failed|wait call-back|error --undeploy--> deleting --clean--> cleaning --done--> available
 *   deleting --fail--> error --rebuild--> deploying
 */
export const STATES = [
  'enroll',
  'verifying',
  'manageable',
  'inspecting',
  'inspect wait',
  'inspect failed',
  'cleaning',
  'clean wait',
  'clean failed',
  'available',
  'deploying',
  'wait call-back',
  'deploy failed',
  'active',
  'deleting',
  'error',
] as const;
export type State = (typeof STATES)[number];

/** Operator verbs, named as Ironic's API names them (`baremetal node <verb>`). */
export const VERBS = ['manage', 'provide', 'inspect', 'deploy', 'rebuild', 'undeploy', 'abort', 'clean'] as const;
export type Verb = (typeof VERBS)[number];
/** What the conductor (here: the driver's progress) reports. */
export type ProgressEvent = 'done' | 'fail' | 'wait' | 'resume';
export type NodeEvent = Verb | ProgressEvent;

const MACHINE: Readonly<Record<State, Partial<Record<NodeEvent, State>>>> = {
  enroll: { manage: 'verifying' },
  verifying: { done: 'manageable', fail: 'enroll' },
  manageable: { inspect: 'inspecting', provide: 'cleaning', clean: 'cleaning' },
  inspecting: { done: 'manageable', wait: 'inspect wait', fail: 'inspect failed' },
  'inspect wait': { done: 'manageable', resume: 'inspecting', fail: 'inspect failed', abort: 'inspect failed' },
  'inspect failed': { manage: 'manageable', inspect: 'inspecting' },
  cleaning: { done: 'available', wait: 'clean wait', fail: 'clean failed' },
  'clean wait': { resume: 'cleaning', fail: 'clean failed', abort: 'clean failed' },
  'clean failed': { manage: 'manageable' },
  available: { manage: 'manageable', deploy: 'deploying' },
  deploying: { done: 'active', wait: 'wait call-back', fail: 'deploy failed' },
  'wait call-back': { resume: 'deploying', done: 'active', fail: 'deploy failed', abort: 'deploy failed', undeploy: 'deleting' },
  'deploy failed': { deploy: 'deploying', rebuild: 'deploying', undeploy: 'deleting' },
  active: { rebuild: 'deploying', undeploy: 'deleting' },
  deleting: { clean: 'cleaning', fail: 'error' },
  error: { rebuild: 'deploying', undeploy: 'deleting' },
};

/** Ironic's stable states: a node rests in these; any other state means work is under way or failed. */
export const STABLE_STATES: readonly State[] = ['enroll', 'manageable', 'available', 'active', 'error'];
export const FAILURE_STATES: readonly State[] = ['inspect failed', 'clean failed', 'deploy failed', 'error'];

/** The state `event` leads to from `from`, or undefined when Ironic does not allow it. */
export function next(from: State, event: NodeEvent): State | undefined {
  return MACHINE[from][event];
}

/** The events allowed in a state (what `baremetal node show` would let an operator do next). */
export function allowedEvents(from: State): NodeEvent[] {
  return Object.keys(MACHINE[from]) as NodeEvent[];
}

export function canTransition(from: State, to: State): boolean {
  return Object.values(MACHINE[from]).includes(to);
}

/** The admin address the network service allocated before deploy (Kayobe's admin_oc network). */
export interface AdminNetwork {
  readonly network: string;
  readonly address: string;
  readonly prefixLength: number;
  readonly gateway: string;
  readonly mtu: number;
  readonly vlan: number;
  readonly nameservers: readonly string[];
}

export interface NodeData {
  readonly host: HostRef;
  readonly state: State;
  readonly driver: string;
  readonly bmcAddress: string;
  /** Reference to the BMC credentials (resolved by the CredentialStore, never stored in clear). */
  readonly credentialRef?: string;
  readonly hardwareProfile: string;
  readonly hardware: HardwareFacts | undefined;
  readonly lastFailure: Failure | undefined;
  /** Saga steps completed, in order; a step already here is never run again. */
  readonly steps: readonly Step[];
  /** Aborted and deprovisioned (compensation): later saga events are ignored. */
  readonly aborted?: boolean;
  /** The inventory deleted the host (HostDeleted): no longer tracked (not listed, NOT_FOUND); a new HostRegistered starts afresh. */
  readonly deleted?: boolean;
  /** Admin address for the config drive, once the network service allocated it. */
  readonly admin?: AdminNetwork;
  /** Last power state the driver reported. */
  readonly power?: 'on' | 'off' | 'unknown';
  /** An operator action requested and not finished yet (one at a time per node). */
  readonly pendingAction?: { readonly verb: Verb | 'power on' | 'power off' | 'reboot'; readonly requestId: string };
  /** The last operator action that finished, and its failure if it failed. */
  readonly lastAction?: { readonly verb: string; readonly requestId: string; readonly failure?: Failure };
}

export type Step = 'enroll' | 'inspect' | 'deploy';

export function newNode(host: HostRef, driver: string, bmcAddress: string, hardwareProfile: string, credentialRef = ''): NodeData {
  return {
    host,
    state: 'enroll',
    driver,
    bmcAddress,
    ...(credentialRef ? { credentialRef } : {}),
    hardwareProfile,
    hardware: undefined,
    lastFailure: undefined,
    steps: [],
  };
}

/** Applies events in order, each checked against Ironic's state machine. */
export function apply(n: NodeData, ...events: NodeEvent[]): NodeData {
  let state = n.state;
  for (const e of events) {
    const to = next(state, e);
    if (!to) throw new InvalidTransitionError('node', state, `${e} (allowed: ${allowedEvents(state).join(', ') || 'none'})`);
    state = to;
  }
  return { ...n, state };
}

export function completed(n: NodeData, step: Step): boolean {
  return n.steps.includes(step);
}

/** The events that carry a node from its state to the start of a saga step's work. */
export function stepStart(step: Step, from: State): NodeEvent[] {
  switch (step) {
    case 'enroll':
      return from === 'enroll' ? ['manage'] : [];
    case 'inspect':
      return from === 'manageable' || from === 'inspect failed' ? ['inspect'] : from === 'available' ? ['manage', 'inspect'] : [];
    case 'deploy':
      if (from === 'manageable') return ['provide', 'done', 'deploy'];
      if (from === 'available' || from === 'deploy failed') return ['deploy'];
      if (from === 'clean failed') return ['manage', 'provide', 'done', 'deploy'];
      return [];
  }
}

/** The working state of a saga step: where it ends with `done` or `fail`. */
export function stepWorkingState(step: Step): State {
  return step === 'enroll' ? 'verifying' : step === 'inspect' ? 'inspecting' : 'deploying';
}

/** Moves a node to a step's working state (checked), the point from which it succeeds or fails. */
export function startStep(n: NodeData, step: Step): NodeData {
  if (n.state === stepWorkingState(step)) return n;
  const path = stepStart(step, n.state);
  if (path.length === 0) throw new InvalidTransitionError('node', n.state, `${step} (the ${step} step cannot start from here)`);
  return apply(n, ...path);
}

/** A step finished: the node moves on and the step is recorded as done. */
export function finishStep(n: NodeData, step: Step): NodeData {
  return { ...apply(startStep(n, step), 'done'), steps: [...n.steps, step], lastFailure: undefined };
}

/**
 * The state a failed step leaves the node in: Ironic's failure state for inspection and deploy,
 * and for a failed verification Ironic puts the node back in `enroll` with its last error.
 */
export function failedState(step: Step): State {
  return step === 'enroll' ? 'enroll' : step === 'inspect' ? 'inspect failed' : 'deploy failed';
}

/** Whether the node rests after a failure of this step (what an operator retry acts on). */
export function failedAt(n: NodeData, step: Step): boolean {
  return n.state === failedState(step) && n.lastFailure?.step === step;
}

/** Records a failed step: from its working state the node takes Ironic's `fail` event. */
export function withStepFailed(n: NodeData, step: Step, failure: Failure): NodeData {
  return { ...apply(startStep(n, step), 'fail'), lastFailure: failure };
}

/**
 * Abort compensation: a deployed (or half-deployed) node is undeployed and cleaned back to
 * `available` (Kayobe's `overcloud deprovision`), then the saga ignores it.
 */
export function deprovisioned(n: NodeData): NodeData {
  const undeploy: NodeEvent[] = next(n.state, 'undeploy') ? ['undeploy', 'clean', 'done'] : [];
  return { ...apply(n, ...undeploy), aborted: true, power: 'off' };
}
