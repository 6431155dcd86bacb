import { NodeState, StepState, type NodeProgress } from '@stackyard/proto/monitoring/v1/monitoring';

/** Left-aligned columns, two spaces apart; the first row is the header. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

export const TOTAL_STEPS = 7;

/** A node's pipeline as a bar: one # per step done. */
export function bar(done: number): string {
  return `[${'#'.repeat(done)}${'.'.repeat(Math.max(0, TOTAL_STEPS - done))}]`;
}

export function doneSteps(p: NodeProgress): number {
  return p.steps.filter((s) => s.state === StepState.STEP_STATE_DONE).length;
}

export function currentStep(p: NodeProgress): string {
  const done = p.steps.filter((s) => s.state === StepState.STEP_STATE_DONE);
  return done[done.length - 1]?.name ?? 'pending';
}

export function stateName(p: NodeProgress): string {
  return p.state === NodeState.NODE_STATE_READY ? 'ready' : p.state === NodeState.NODE_STATE_FAILED ? 'failed' : p.state === NodeState.NODE_STATE_ABORTING ? 'aborting' : p.state === NodeState.NODE_STATE_ABORTED ? 'aborted' : p.state === NodeState.NODE_STATE_DEGRADED ? 'degraded' : 'in progress';
}

/** One line of progress for a node (up and watch). */
export function progressLine(p: NodeProgress, nameWidth: number, elapsedS?: number): string {
  const t = elapsedS === undefined ? '' : `${elapsedS.toFixed(1).padStart(6)}s  `;
  const state =
    p.state === NodeState.NODE_STATE_FAILED
      ? `FAILED ${p.lastFailure?.step}: ${p.lastFailure?.reason}: ${p.lastFailure?.message}`
      : currentStep(p);
  return `${t}${p.host!.name.padEnd(nameWidth)}  ${bar(doneSteps(p))}  ${state}`;
}
