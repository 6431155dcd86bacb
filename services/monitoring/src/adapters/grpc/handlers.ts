import { serverStream, unary } from '@stackyard/grpc';
import type { Logger } from '@stackyard/telemetry';
import { NodeState, StepState, type NodeProgress } from '@stackyard/proto/monitoring/v1/monitoring';
import { MonitoringServiceService, type MonitoringServiceServer } from '@stackyard/proto/monitoring/v1/monitoring_service';
import type { MonitoringService } from '../../application/monitoring';
import { STEPS, degradedReasons, type ProgressData } from '../../domain/progress';

const STATE: Record<ProgressData['state'], NodeState> = {
  'in-progress': NodeState.NODE_STATE_IN_PROGRESS,
  ready: NodeState.NODE_STATE_READY,
  degraded: NodeState.NODE_STATE_DEGRADED,
  failed: NodeState.NODE_STATE_FAILED,
  aborting: NodeState.NODE_STATE_ABORTING,
  aborted: NodeState.NODE_STATE_ABORTED,
};

export function toProto(p: { data: ProgressData; version: number }): NodeProgress {
  const d = p.data;
  const failedStep = d.state === 'failed' ? STEPS.find((s) => d.steps[s] === undefined) : undefined;
  return {
    host: d.host,
    state: STATE[d.state],
    steps: STEPS.map((name) => ({
      name,
      state: d.steps[name] !== undefined ? StepState.STEP_STATE_DONE : name === failedStep ? StepState.STEP_STATE_FAILED : StepState.STEP_STATE_PENDING,
      atMs: d.steps[name] ?? 0,
    })),
    lastFailure: d.lastFailure,
    version: p.version,
    retries: d.retries ?? 0,
    degradedReasons: d.state === 'degraded' ? degradedReasons(d.health) : [],
    degradedSinceMs: d.state === 'degraded' ? (d.degradedSince ?? 0) : 0,
  };
}

export function monitoringGrpc(svc: MonitoringService, log: Logger, shutdown: AbortSignal) {
  const impl: MonitoringServiceServer = {
    getNodeProgress: unary(log, async (req) => ({ progress: toProto(await svc.get(req.hostId)) })),
    listNodeProgress: unary(log, async (req) => ({ nodes: (await svc.list(req.siteId)).map(toProto) })),
    retryNode: unary(log, async (req) => ({ progress: toProto(await svc.retry(req.hostId, req.requestedBy)) })),
    abortNode: unary(log, async (req) => ({ progress: toProto(await svc.abort(req.hostId, req.requestedBy)) })),
    watchSite: serverStream(log, async (req, call) => {
      const ac = new AbortController();
      const abort = () => ac.abort();
      call.on('cancelled', abort);
      call.on('close', abort);
      shutdown.addEventListener('abort', abort, { once: true });
      try {
        await svc.watch(req.siteId, ac.signal, (p) => call.write({ progress: toProto(p) }));
      } finally {
        shutdown.removeEventListener('abort', abort);
      }
    }),
  };
  return { name: 'stackyard.monitoring.v1.MonitoringService', definition: MonitoringServiceService, impl };
}
