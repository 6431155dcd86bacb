import type { Envelope } from '@stackyard/events';
import type { ProgressData } from '../domain/progress';

export type Write = { readonly outcome: 'written'; readonly version: number } | { readonly outcome: 'duplicate' };

export interface ProgressRepository {
  /**
   * `cached`: this replica's last known revision may answer (applying a fact only: the write that
   * follows conflicts if another replica wrote since, and the fact is redelivered).
   */
  get(hostId: string, opts?: { cached?: boolean }): Promise<{ data: ProgressData; version: number } | null>;
  save(p: ProgressData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write>;
  list(siteId: string | undefined): Promise<{ data: ProgressData; version: number }[]>;
  /** Changed since a time (for watchers); includes the boundary. */
  changedSince(siteId: string, since: Date): Promise<{ data: ProgressData; version: number; updatedAt: Date }[]>;
}
