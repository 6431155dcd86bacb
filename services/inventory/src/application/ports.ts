import type { Envelope } from '@stackyard/events';
import type { Host } from '@stackyard/proto/inventory/v1/inventory';
import type { SiteData } from '../domain/site';

export type Write = { readonly outcome: 'written'; readonly version: number } | { readonly outcome: 'duplicate' };

export interface SiteRepository {
  get(id: string): Promise<{ data: SiteData; version: number } | null>;
  create(site: SiteData): Promise<void>;
}

export interface HostRepository {
  get(id: string): Promise<{ data: Host; version: number } | null>;
  create(host: Host, events: readonly Envelope[]): Promise<void>;
  update(host: Host, expectedVersion: number, events: readonly Envelope[], appliedKey: string): Promise<Write>;
  list(filter: { siteId?: string; group?: string }, after: string | undefined, limit: number): Promise<Host[]>;
}
