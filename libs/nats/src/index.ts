export {
  connectBus,
  ensureStreams,
  ensureTopologyStreams,
  topologyFromConfig,
  topologyStreamConfig,
  assertReplicas,
  isTransientJetStreamError,
  retryTransient,
  DUPLICATE_WINDOW_MS,
  SITE_CONTEXTS,
  TOPOLOGY_MARK,
  type Bus,
  type EnsureStreamsOptions,
  type StreamTopology,
} from './connection';
export { publisherFor } from './publisher';
export {
  EventConsumer,
  KeyedSerializer,
  backoffMs,
  type ConsumerSpec,
  type ConsumerMetrics,
  type HandleOutcome,
  type HandlerContext,
} from './consumer';
export {
  permissionsFor,
  natsUsersConfig,
  contextsOn,
  leafLinkPermissions,
  leafLinkUsersConfig,
  leafLinkUser,
  assertDomain,
  configSecret,
  type ConfigSecret,
  type SubjectPermissions,
} from './permissions';
export { natsServerConfig, natsPasswordEnv, HUB_LEAF_URL_ENV, type StackyardServer } from './server-config';
