import type { Envelope } from '@stackyard/events';
import type { Container } from '@stackyard/proto/deployment/v1/deployment';
import type { Failure, HostRef } from '@stackyard/proto/inventory/v1/inventory';
import type { PlannedContainer } from '../domain/catalogue';

export type Write = { readonly outcome: 'written'; readonly version: number } | { readonly outcome: 'duplicate' };

export interface NodeDeploymentData {
  readonly host: HostRef;
  readonly state: 'deployed' | 'failed';
  readonly containers: readonly Container[];
  readonly lastFailure: Failure | undefined;
}

export interface NodeDeploymentRepository {
  get(hostId: string): Promise<{ data: NodeDeploymentData; version: number } | null>;
  save(d: NodeDeploymentData, version: number | undefined, events: readonly Envelope[], appliedKey: string): Promise<Write>;
}

/** Runs containers on a host (`kolla-ansible` or `lab`) and reports their health. Idempotent. */
export interface ContainerRuntime {
  readonly name: string;
  deploy(host: HostRef, containers: readonly PlannedContainer[], addresses: readonly string[]): Promise<Container[]>;
}
