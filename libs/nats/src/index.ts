export { connectBus, ensureStreams, DUPLICATE_WINDOW_MS, type Bus } from './connection';
export { publisherFor } from './publisher';
export {
  EventConsumer,
  backoffMs,
  type ConsumerSpec,
  type ConsumerMetrics,
  type HandleOutcome,
  type HandlerContext,
} from './consumer';
export { permissionsFor, natsUsersConfig, type SubjectPermissions } from './permissions';
