import type { Envelope } from '@stackyard/events';
import type { Host } from '@stackyard/proto/inventory/v1/inventory';
import type { ConfigFile } from '../domain/kayobe/config';
import type { ImportRecord } from '../domain/kayobe/import-record';
import type { DeploymentData } from '../domain/deployment';
import type { GroupData } from '../domain/group';
import type { HostLifecycle } from '../domain/host';
import type { HostFilter } from '../domain/listing';
import type { SiteData } from '../domain/site';

export type Write = { readonly outcome: 'written'; readonly version: number } | { readonly outcome: 'duplicate' };

export interface SiteRepository {
  get(id: string): Promise<{ data: SiteData; version: number } | null>;
  create(site: SiteData): Promise<void>;
}

export interface StoredHost {
  /** The host, with `state` set and `version` 0 (the version is beside it). */
  readonly data: Host;
  readonly version: number;
  /** `deleted` for a tombstone (DeleteHost): reads treat it as missing, writes continue its versions. */
  readonly state: HostLifecycle;
  /** False for a host only recorded by a Kayobe import (no HostRegistered yet, no saga). */
  readonly registered: boolean;
}

export interface HostRepository {
  /**
   * The newest revision, tombstones included. `cached`: this replica's last known revision may
   * answer (event projections only: their write conflicts if another replica wrote since).
   */
  get(id: string, opts?: { cached?: boolean }): Promise<StoredHost | null>;
  /** Creates the host at version 1 (AlreadyExistsError if it exists, even as a tombstone). */
  create(host: Host, events: readonly Envelope[], state: HostLifecycle): Promise<void>;
  /** Writes the next revision (ConcurrencyError if not at `expectedVersion`; `duplicate` if `appliedKey` was applied). */
  update(host: Host, expectedVersion: number, events: readonly Envelope[], appliedKey: string | undefined, state: HostLifecycle): Promise<Write>;
  /** Hosts matching the filter (never tombstones), by id, after `after`. */
  list(filter: HostFilter, after: string | undefined, limit: number): Promise<StoredHost[]>;
}

/**
 * The inventory's change log: its host events on JetStream (revision = stream sequence). Used by
 * WatchHosts; implemented over an ordered consumer (adapters/nats).
 */
export interface HostChange {
  readonly revision: number;
  readonly event: Envelope;
}

export interface HostChangeFeed {
  /** The stream's last sequence now (the revision a snapshot read afterwards is at least as new as). */
  lastRevision(): Promise<number>;
  /**
   * Calls `onChange` for each host event of the site with a sequence above `fromRevision`, in order,
   * until `signal` aborts; resolves then. Rejects if the feed fails.
   */
  follow(siteId: string, fromRevision: number, signal: AbortSignal, onChange: (c: HostChange) => Promise<void> | void): Promise<void>;
}

/** Import documents (one per import; its insert is the import's commit point). */
export interface ImportRepository {
  get(id: string): Promise<{ data: ImportRecord; version: number } | null>;
  /** Inserts version 1; `exists` when an import with this id was committed before. */
  create(record: ImportRecord): Promise<'written' | 'exists'>;
  /** Writes the next version with its events; false when someone else wrote it first. */
  update(record: ImportRecord, expectedVersion: number, events?: readonly Envelope[]): Promise<boolean>;
  /** Imports of a site, newest first (by `createdAt`, then id), after the import `after`. */
  list(siteId: string, after: { createdAt: string; id: string } | undefined, limit: number): Promise<ImportRecord[]>;
}

/** Reads a Kayobe configuration directory on this machine (ValidationError `config_path` if unreadable). */
export interface KayobeConfigSource {
  read(dir: string, environment: string | undefined): Promise<ConfigFile[]>;
}

/** Resolves `config_path` within the allowed root (ValidationError `config_path` outside it); returns the real path. */
export interface ConfigPathPolicy {
  resolve(path: string): Promise<string>;
}

/** A site-scoped record (groups, deployments) with its version; `deleted` for a tombstone. */
export interface StoredRecord<T> {
  readonly data: T;
  readonly version: number;
  /** A tombstone (Delete...): reads treat it as missing, writes continue its versions. */
  readonly deleted: boolean;
}

/** Records of a site, stored as revisions (aggregates `groups` and `deployments`, id `<site>-<name>`). */
export interface SiteRecordRepository<T extends { readonly id: string; readonly siteId: string }> {
  /** The newest revision, tombstones included. */
  get(id: string): Promise<StoredRecord<T> | null>;
  /** Creates version 1 (AlreadyExistsError if it exists, even as a tombstone). */
  create(record: T, events: readonly Envelope[]): Promise<void>;
  /** Writes the next revision (ConcurrencyError if not at `expectedVersion`). */
  update(record: T, expectedVersion: number, events: readonly Envelope[], deleted: boolean): Promise<Write>;
  /** A site's live records by id, after `after` (all of them without `limit`). */
  list(siteId: string, after: string | undefined, limit?: number): Promise<StoredRecord<T>[]>;
}

export type StoredGroup = StoredRecord<GroupData>;
export type GroupRepository = SiteRecordRepository<GroupData>;
export type StoredDeployment = StoredRecord<DeploymentData>;
export type DeploymentRepository = SiteRecordRepository<DeploymentData>;
