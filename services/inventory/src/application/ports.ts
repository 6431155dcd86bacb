import type { Envelope } from '@stackyard/events';
import type { Host } from '@stackyard/proto/inventory/v1/inventory';
import type { ConfigFile } from '../domain/kayobe/config';
import type { ImportRecord } from '../domain/kayobe/import-record';
import type { SiteData } from '../domain/site';

export type Write = { readonly outcome: 'written'; readonly version: number } | { readonly outcome: 'duplicate' };

export interface SiteRepository {
  get(id: string): Promise<{ data: SiteData; version: number } | null>;
  create(site: SiteData): Promise<void>;
}

export interface StoredHost {
  readonly data: Host;
  readonly version: number;
  /**
   * False for a host only recorded by a Kayobe import (no HostRegistered yet, no saga). Missing
   * means registered: every host stored before imports existed was registered.
   */
  readonly registered?: boolean;
}

export interface HostRepository {
  get(id: string): Promise<StoredHost | null>;
  /** Creates the host at version 1 (AlreadyExistsError if it exists); `registered` defaults to true. */
  create(host: Host, events: readonly Envelope[], registered?: boolean): Promise<void>;
  update(host: Host, expectedVersion: number, events: readonly Envelope[], appliedKey: string, registered?: boolean): Promise<Write>;
  list(filter: { siteId?: string; group?: string }, after: string | undefined, limit: number): Promise<Host[]>;
}

/** Import documents (one per import; its insert is the import's commit point). */
export interface ImportRepository {
  get(id: string): Promise<{ data: ImportRecord; version: number } | null>;
  /** Inserts version 1; `exists` when an import with this id was committed before. */
  create(record: ImportRecord): Promise<'written' | 'exists'>;
  /** Writes the next version; false when someone else wrote it first. */
  update(record: ImportRecord, expectedVersion: number): Promise<boolean>;
}

/** Reads a Kayobe configuration directory on this machine (ValidationError `config_path` if unreadable). */
export interface KayobeConfigSource {
  read(dir: string, environment: string | undefined): Promise<ConfigFile[]>;
}
