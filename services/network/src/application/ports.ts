import type { Envelope } from '@stackyard/events';
import type { HostRef, Nic } from '@stackyard/proto/inventory/v1/inventory';
import type { RenderedFile } from '@stackyard/proto/network/v1/network';
import type { KollaHostVarsView } from '../domain/roles';
import type { NetworkData } from '../domain/network';
import type { SwitchType } from '../domain/switches';

export type Write = { readonly outcome: 'written'; readonly version: number } | { readonly outcome: 'duplicate' };

export interface NetworkRepository {
  get(siteId: string, name: string): Promise<{ data: NetworkData; version: number } | null>;
  /** Creates or replaces a network definition. */
  put(n: NetworkData): Promise<number>;
  list(siteId: string): Promise<NetworkData[]>;
}

export interface AllocationRecord {
  readonly siteId: string;
  readonly network: string;
  readonly hostId: string;
  readonly address: number;
  /** The host's inventory name (Kayobe's key in network-allocation.yml); absent on older records. */
  readonly hostName?: string;
}

/**
 * Address allocations. `claim` must be safe under concurrency: two callers claiming the same address
 * cannot both succeed (a unique index), and a host holds at most one address per network.
 */
export interface AllocationRepository {
  forHost(siteId: string, network: string, hostId: string): Promise<AllocationRecord | null>;
  taken(siteId: string, network: string): Promise<Set<number>>;
  /** 'claimed', 'address-taken' (try the next one) or 'host-has-one' (somebody claimed for this host). */
  claim(a: AllocationRecord): Promise<'claimed' | 'address-taken' | 'host-has-one'>;
  releaseHost(siteId: string, hostId: string): Promise<number>;
  listHost(hostId: string): Promise<AllocationRecord[]>;
  listSite(siteId: string): Promise<AllocationRecord[]>;
  /** Deletes exactly this record (the undo of a `claim` by an import that failed half-way). */
  remove(a: AllocationRecord): Promise<void>;
}

export interface HostConfigData {
  readonly host: HostRef;
  readonly allocations: readonly { network: string; address: string }[];
  readonly files: readonly RenderedFile[];
  /**
   * `reserved`: the admin address is allocated (before deploy); `configured`: every network rendered
   * and applied; `released`: the host was aborted, its addresses are free and later facts are ignored.
   */
  readonly state: 'reserved' | 'configured' | 'failed' | 'released';
  /** The host's inspected NICs, kept so that an operator retry needs no other read. */
  readonly nics?: readonly Nic[];
  /** For `failed`: which part failed (what a retry runs again). */
  readonly failedAt?: 'admin-address' | 'configure';
  /** Kolla-Ansible host variables (absent on configs written before they were derived). */
  readonly kolla?: KollaHostVarsView;
  /** The inventory deleted the host (HostDeleted, with state `released`): a new registration starts afresh. */
  readonly deleted?: boolean;
}

export interface HostConfigRepository {
  get(hostId: string): Promise<{ data: HostConfigData; version: number } | null>;
  /** Every host config of a site (any state). */
  listSite(siteId: string): Promise<HostConfigData[]>;
  save(cfg: HostConfigData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write>;
}

/** Applies rendered files to a host and verifies its addresses (`ssh` or `lab`). */
export interface NetworkApplier {
  readonly name: string;
  /**
   * `addresses`: every address the host must have once the files are applied. `adminAddress`: the
   * host's address on the admin network (Kayobe's `admin_oc_net_name`, where Ansible reaches the
   * host), absent when no admin network gives this host an address.
   */
  apply(host: HostRef, files: readonly RenderedFile[], addresses: readonly string[], adminAddress?: string): Promise<void>;
}

/** A switch the executor configures. */
export interface SwitchTarget {
  readonly siteId: string;
  readonly name: string;
  readonly type: SwitchType;
  /** Where its management CLI is reached: the inventory's `ansible_host`, else the switch name. */
  readonly address: string;
}

/**
 * `changed`/`unchanged`: applied, and the executor knows whether the switch's configuration changed;
 * `applied`: pushed and committed, the executor cannot tell. `output`: what the switch said.
 */
export interface SwitchApplyResult {
  readonly outcome: 'changed' | 'unchanged' | 'applied';
  readonly output: string;
}

/** Applies rendered switch configuration (`ssh`: the vendor's CLI over ssh; `lab`: kept in memory). */
export interface SwitchExecutor {
  readonly name: string;
  /** Rejects (StepFailedError) when the switch cannot be reached or refuses the configuration. */
  apply(target: SwitchTarget, config: string): Promise<SwitchApplyResult>;
}
