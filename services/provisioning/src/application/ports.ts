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

/**
 * The bare-metal driver port. Every call is idempotent for a node (a redelivered event may call it
 * again after a crash) and throws StepFailedError with a typed reason on failure.
 */
export interface BareMetalDriver {
  readonly name: string;
  enroll(node: NodeData): Promise<void>;
  inspect(node: NodeData): Promise<HardwareFacts>;
  deploy(node: NodeData, image: string): Promise<void>;
  /** Undeploys (if deployed) and powers the node off; idempotent. */
  deprovision(node: NodeData): Promise<void>;
}
