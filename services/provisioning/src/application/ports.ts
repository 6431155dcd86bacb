import type { Envelope } from '@stackyard/events';
import type { HardwareFacts } from '@stackyard/proto/inventory/v1/inventory';
import type { NodeData } from '../domain/node';

export type Write = { readonly outcome: 'written'; readonly version: number } | { readonly outcome: 'duplicate' };

export interface NodeRepository {
  get(id: string): Promise<{ data: NodeData; version: number } | null>;
  create(id: string, node: NodeData, events: readonly Envelope[], appliedKey: string): Promise<Write>;
  update(id: string, node: NodeData, expectedVersion: number, events: readonly Envelope[], appliedKey: string): Promise<Write>;
  list(filter: { siteId?: string; state?: string }): Promise<{ data: NodeData; version: number }[]>;
}

/** BMC credentials, resolved from a host's credential reference; never logged or returned. */
export interface BmcCredentials {
  readonly username: string;
  readonly password: string;
}

/** Resolves a credential reference (`vault:bmc/ctl-01`, `kayobe:ipmi/ctl1`...) to credentials. */
export interface CredentialStore {
  /** Undefined for an empty reference; NotFoundError-like StepFailedError for an unknown one. */
  resolve(ref: string): Promise<BmcCredentials | undefined>;
}

/** What every driver call carries besides the node. */
export interface DriverCall {
  /** The node's BMC credentials, when its host has a credential reference. */
  readonly credentials: BmcCredentials | undefined;
  /**
   * Aborted when the step's deadline passes (or the service shuts down): the driver stops polling,
   * and throws a retryable StepFailedError with reason `Timeout`.
   */
  readonly signal: AbortSignal;
}

/**
 * Network data for the deployed OS's first boot, like the config drive Bifrost builds from Kayobe's
 * host_vars (reference/kayobe.md §6.5): the NIC to configure and, when the network service has
 * allocated it, the admin address.
 */
export interface ConfigDriveNetwork {
  readonly macAddress: string;
  readonly address?: string;
  readonly prefixLength?: number;
  readonly gateway?: string;
  readonly mtu?: number;
  readonly vlan?: number;
  readonly nameservers: readonly string[];
}

export interface DeployRequest {
  /** OS image to write (an URL or a name the driver knows how to resolve). */
  readonly image: string;
  readonly network?: ConfigDriveNetwork;
}

export type PowerAction = 'on' | 'off' | 'reboot';
export type PowerState = 'on' | 'off' | 'unknown';

/**
 * The bare-metal driver port. Every call is idempotent for a node (a redelivered event may call it
 * again after a crash, so a node already enrolled, inspected or deployed is not an error) and throws
 * StepFailedError with a typed reason on failure: retryable for transient faults (BMC timeout,
 * "node locked by host", HTTP 5xx, deadline), not retryable when the node itself failed (deploy
 * failed, inspection failed, bad credentials, unknown system).
 */
export interface BareMetalDriver {
  readonly name: string;
  /** Whether calls need the node's BMC credentials (resolved from its credential reference). */
  readonly usesCredentials?: boolean;
  /** Makes the node known and verifies its BMC (Ironic: create + manage -> manageable). */
  enroll(node: NodeData, call: DriverCall): Promise<void>;
  /** Inspects the node's hardware (Ironic: inspect, then back to manageable). */
  inspect(node: NodeData, call: DriverCall): Promise<HardwareFacts>;
  /** Provides (if needed) and deploys the OS image; resolves when the node is active. */
  deploy(node: NodeData, request: DeployRequest, call: DriverCall): Promise<void>;
  /** Undeploys (if deployed) and powers the node off; a node the driver does not know is fine. */
  deprovision(node: NodeData, call: DriverCall): Promise<void>;
  /** Powers the node on or off or reboots it, and resolves when the BMC reports the target state. */
  power(node: NodeData, action: PowerAction, call: DriverCall): Promise<void>;
  powerState(node: NodeData, call: DriverCall): Promise<PowerState>;
}
