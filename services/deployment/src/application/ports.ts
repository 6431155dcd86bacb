import type { StepFailedError } from '@stackyard/errors';
import type { Envelope } from '@stackyard/events';
import type { Container } from '@stackyard/proto/deployment/v1/deployment';
import type { Failure, HostConfiguration, HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { PlannedContainer } from '../domain/catalogue';
import type { TextFile } from '../domain/diff';
import type { HostPrepPlan, HostState } from '../domain/host-prep';
import type { KollaAction } from '../domain/kolla/outcome';

export type Write = { readonly outcome: 'written'; readonly version: number } | { readonly outcome: 'duplicate' };

export interface Address {
  readonly network: string;
  readonly address: string;
}

/** Why a node waits for its site's control plane (quorum gating), as stored and published. */
export interface DeploymentWait {
  readonly reason: 'ControlPlaneQuorum' | 'ControlPlaneFailed' | 'ControlPlaneAssembling';
  readonly message: string;
  readonly controllersDeployed: number;
  readonly controllersRequired: number;
  readonly controllersTotal: number;
}

export interface NodeDeploymentData {
  readonly host: HostRef;
  /**
   * `waiting`: network configured, the containers wait for the site's control plane (`waiting` says why).
   * `released`: the gate opened; NodeDeploymentReleased (consumed by this service) deploys the node.
   * `deploying` is written only for runtimes that use site inputs, so concurrent deploys see each other.
   * `removed`: the node was aborted; its services are gone and later facts are ignored.
   * `prepared`: host preparation done (HostPrepared); the services deploy (gate, containers) is next.
   */
  readonly state: 'prepared' | 'waiting' | 'released' | 'deploying' | 'deployed' | 'failed' | 'removed';
  readonly waiting?: DeploymentWait;
  readonly containers: readonly Container[];
  readonly lastFailure: Failure | undefined;
  /** The node's allocations from NetworkConfigured (absent on records written before they were kept). */
  readonly addresses?: readonly Address[];
  /** The health watch's last seen change (absent: healthy as deployed). */
  readonly health?: NodeHealth;
  /** The last successful host preparation (absent: not prepared yet, or it failed: see lastFailure). */
  readonly hostPrep?: HostPrepRecord;
  /**
   * `removed` because the inventory deleted the host (HostDeleted), not by an abort: a later
   * NetworkConfigured (the host registered again) deploys it afresh.
   */
  readonly deleted?: boolean;
}

/** The outcome of a successful host preparation, as published in HostPrepared. */
export interface HostPrepRecord {
  /** What the run changed: `file <path>` or a command's reason, in the order applied. */
  readonly changed: readonly string[];
  readonly unchangedCount: number;
  /** ISO time the preparation finished. */
  readonly at: string;
}

/** Where a host preparation runs: the host and the address to reach it at (internal, else its first). */
export interface HostPrepTarget {
  readonly host: HostRef;
  readonly address: string | undefined;
}

/**
 * Applies host preparation plans (`lab`: simulated, state kept in memory; `ssh`: the system ssh
 * client). Failures are StepFailedErrors (retryable when the host could not be reached).
 */
export interface HostPreparer {
  readonly name: string;
  /**
   * What is on the host now: users, groups, volume groups, mounts, swap, the contents of `paths` that
   * exist and which of `packages` are installed.
   */
  inspect(target: HostPrepTarget, paths: readonly string[], packages?: readonly string[]): Promise<HostState>;
  /** Applies the plan's steps in order (files written atomically with their mode and owner). */
  apply(target: HostPrepTarget, plan: HostPrepPlan): Promise<void>;
}

/** A deployed node's container health as the health watch last recorded it (NodeHealthChanged). */
export interface NodeHealth {
  readonly healthy: boolean;
  readonly unhealthyContainers: readonly Container[];
  /** ISO time of the check that saw the change. */
  readonly checkedAt: string;
}

export interface NodeDeploymentRepository {
  get(hostId: string): Promise<{ data: NodeDeploymentData; version: number } | null>;
  save(d: NodeDeploymentData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write>;
  /** Every node deployment of a site (deployed or failed), by host name. */
  listBySite(siteId: string): Promise<NodeDeploymentData[]>;
  /**
   * Whether some node of the site is in neither `deployed` nor `removed` (a cheap check before listing
   * the site). May answer false when unsure (the caller then lists the site); absent: always listed.
   */
  anyUnfinished?(siteId: string): Promise<boolean>;
  /**
   * Node deployments of a site written at or after `since` (by their writer's clock), for views
   * kept up to date by changes; absent: such views list the site each time.
   */
  changedSince?(siteId: string, since: Date): Promise<NodeDeploymentData[]>;
  /** Every node in state `deployed` (all sites) with its version, for the health watch. */
  listDeployed(): Promise<{ data: NodeDeploymentData; version: number }[]>;
}

/** The controllers each site registered (HostRegistered of hosts in Kolla's `control` group), for quorum gating. */
export interface SiteControllerRepository {
  /** Records a registered controller; `duplicate` if it was recorded before. */
  record(host: HostRef, appliedKey: string): Promise<'applied' | 'duplicate'>;
  listBySite(siteId: string): Promise<HostRef[]>;
}

/**
 * Per site: the control plane released as one batch (quorum gating) and the last published
 * SiteServicesDeployed generation. One aggregate per site id (`site_rollouts`), written version-checked:
 * with several replicas or redeliveries one write wins and its event is the only one.
 */
export interface SiteRolloutData {
  readonly siteId: string;
  /** The controllers released together (ControlPlaneReleased); null until the gate opened. */
  readonly controlPlane: { readonly members: readonly HostRef[]; readonly releasedAt: string } | null;
  /** The last published SiteServicesDeployed generation (0: none yet). */
  readonly generation: number;
  /** Host ids deployed in that generation. */
  readonly deployedHostIds: readonly string[];
}

export interface SiteRolloutRepository {
  get(siteId: string): Promise<{ data: SiteRolloutData; version: number } | null>;
  /** Version-checked (ConcurrencyError / AlreadyExistsError when another writer won), with its events (outbox). */
  save(d: SiteRolloutData, version: number | undefined, events: readonly Envelope[]): Promise<Write>;
}

/**
 * The generated Kolla-Ansible inputs of a site, paths relative to the config dir: `globals.yml`,
 * `inventory/overcloud/hosts`, `inventory/overcloud/host_vars/<host>`. Never passwords: the runtime
 * keeps `passwords.yml` itself (generated once, kept, mode 0600) so it is never stored or diffed.
 */
export interface SiteInputs {
  readonly siteId: string;
  readonly files: readonly TextFile[];
  /** Overcloud host names in the inventory, sorted. */
  readonly hosts: readonly string[];
}

export interface OutputLine {
  readonly stream: 'stdout' | 'stderr';
  /** With every password masked. */
  readonly line: string;
}

/** A site-wide kolla-ansible action (or the lab's simulation of one). */
export interface RuntimeOperation {
  readonly action: KollaAction;
  readonly inputs: SiteInputs;
  /** Host names to limit the run to (`--limit`); all the inventory's hosts when absent. */
  readonly limit?: readonly string[];
  /** Planned containers per host name: reported healthy for the hosts that come out ok. */
  readonly containers: Readonly<Record<string, readonly PlannedContainer[]>>;
  /** `destroy` only: the caller's explicit confirmation. Without it destroy is refused before anything runs. */
  readonly confirm?: boolean;
  readonly onLine?: (line: OutputLine) => void;
}

export interface HostRunResult {
  readonly host: string;
  readonly outcome: 'ok' | 'failed' | 'unreachable' | 'incomplete';
  /** Healthy containers for ok hosts (none after destroy). */
  readonly containers: readonly Container[];
  readonly error?: StepFailedError;
}

export interface RuntimeRunResult {
  readonly action: KollaAction;
  readonly hosts: readonly HostRunResult[];
}

/** Runs containers on hosts (`kolla-ansible` or `lab`) and reports their health. Idempotent. */
export interface ContainerRuntime {
  readonly name: string;
  /** Whether the runtime consumes generated Kolla inputs (then the step generates them). */
  readonly usesInputs: boolean;
  /** One node: its containers. Throws a StepFailedError when the node did not come up. */
  deploy(host: HostRef, containers: readonly PlannedContainer[], addresses: readonly string[], inputs?: SiteInputs): Promise<Container[]>;
  /** A site-wide action; host failures are results, not exceptions. */
  run(op: RuntimeOperation): Promise<RuntimeRunResult>;
  /**
   * The current health of a deployed node's containers (the same containers, `healthy` as checked now),
   * or `unsupported` when the runtime cannot check (the health watch then skips it).
   */
  health(host: HostRef, containers: readonly Container[]): Promise<Container[] | 'unsupported'>;
}

export interface AppliedInputs {
  readonly files: readonly TextFile[];
  readonly action: KollaAction;
  readonly at: string;
}

export interface OperationHostResult {
  readonly host: string;
  readonly outcome: HostRunResult['outcome'];
  readonly failure?: Failure;
}

export interface OperationResult {
  readonly siteId: string;
  readonly action: KollaAction;
  readonly release: string;
  readonly succeeded: boolean;
  readonly hosts: readonly OperationHostResult[];
}

/** Per-site deployment state: the last applied inputs, the release, and the last operation (for request_id). */
export interface SiteDeploymentData {
  readonly siteId: string;
  /** The release set by the last successful Upgrade; the configured default until then. */
  readonly release: string | null;
  readonly applied: AppliedInputs | null;
  readonly lastOperation: { readonly requestId: string; readonly result: OperationResult } | null;
}

export interface SiteDeploymentRepository {
  get(siteId: string): Promise<{ data: SiteDeploymentData; version: number } | null>;
  save(d: SiteDeploymentData, version: number | undefined): Promise<Write>;
}

/**
 * The host configuration an imported Kayobe configuration gave each registered host (inventory's
 * `Host.configuration`, from HostRegistered and HostUpdated): `configuration` undefined for a host
 * registered without one. Kept per host id with the inventory version it came from.
 */
export interface HostConfigurationRecord {
  readonly hostId: string;
  readonly siteId: string;
  /** The inventory host's version this record reflects (older events are ignored). */
  readonly hostVersion: number;
  readonly configuration?: HostConfiguration;
}

export interface HostConfigurationRepository {
  get(hostId: string): Promise<{ data: HostConfigurationRecord; version: number } | null>;
  save(r: HostConfigurationRecord, version: number | undefined, appliedKey: string): Promise<Write>;
}
