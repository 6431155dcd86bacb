import { resolve } from 'node:path';
import { call, FIELD_KEY, insecure, withToken } from '@stackyard/grpc';
import { describeRefusal } from './access';
import { table } from './output';
import { InventoryServiceClient, type ImportKayobeConfigRequest, type ImportKayobeConfigResponse } from '@stackyard/proto/inventory/v1/inventory_service';

/** What a failed grpc-js call carries (the CLI does not depend on grpc-js directly). */
interface ServiceError {
  readonly code?: number;
  readonly details?: string;
  readonly message?: string;
  readonly metadata?: { get(key: string): unknown[] };
}
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
const CODE_NAMES: Record<number, string> = { 3: 'INVALID_ARGUMENT', 4: 'DEADLINE_EXCEEDED', 5: 'NOT_FOUND', 6: 'ALREADY_EXISTS', 7: 'PERMISSION_DENIED', 14: 'UNAVAILABLE', 16: 'UNAUTHENTICATED' };

export const DEFAULT_INVENTORY = '127.0.0.1:50051';

export interface ConfigImportOptions {
  readonly dir: string;
  readonly environment: string;
  readonly site: string;
  readonly dryRun: boolean;
  readonly json: boolean;
  /** HOST:PORT of a running inventory service. */
  readonly inventory: string;
  readonly token: string | undefined;
  /** Channel credentials (TLS, mutual TLS); plaintext when absent. */
  readonly credentials?: ReturnType<typeof insecure> | undefined;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}


/** The import as text: hosts with groups and networks, networks, then warnings. */
export function renderImport(r: ImportKayobeConfigResponse): string[] {
  const lines: string[] = [];
  const verb = r.dryRun ? 'would import' : 'imported';
  lines.push(`${verb} ${r.hosts.length} hosts and ${r.networks.length} networks into site ${r.siteId} (import ${r.importId})`, '');
  const rows = [['HOST', 'GROUPS', 'NETWORKS', 'BMC', 'STATE']];
  for (const h of r.hosts) {
    const nets = h.networks.map((n) => `${n.name}${n.interface ? `@${n.interface}` : ''}${n.address ? `=${n.address}` : ''}`).join(',');
    const base = r.dryRun ? (h.host ? 'exists' : h.register ? 'to register' : 'to record') : h.registered ? 'registered' : 'recorded';
    // A re-import of a changed configuration changes hosts (HostUpdated): say so.
    const state = h.change === 'changed' ? `${base}, ${r.dryRun ? 'to change' : 'changed'}` : base;
    rows.push([h.name, h.directGroups.join(','), nets || '-', h.bmc ? `${h.bmc.driver}:${h.bmc.address}` : '-', state]);
  }
  lines.push(...table(rows), '');
  const nrows = [['NETWORK', 'CIDR', 'VLAN', 'GROUPS', 'ROLES']];
  for (const n of r.networks) nrows.push([n.name, n.cidr || '-', n.vlan ? String(n.vlan) : '-', n.groups.join(',') || '-', n.roles.join(',')]);
  if (r.networks.length) lines.push(...table(nrows), '');
  const changes = ['added', 'changed', 'unchanged'].map((c) => `${r.hosts.filter((h) => h.change === c).length} ${c}`);
  if (r.hosts.some((h) => h.change)) lines.push(`hosts: ${changes.join(', ')}`);
  lines.push(`${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}`);
  for (const w of r.warnings) {
    lines.push(`  ${w.file}${w.line ? `:${w.line}` : ''}: ${w.variable ? `${w.variable}: ` : ''}${w.message}${w.hosts.length ? ` (hosts: ${w.hosts.join(', ')})` : ''}`);
  }
  return lines;
}

/** A readable message for a failed call, with a hint when no inventory service answers. */
export function describeCallError(e: unknown, address: string, service: 'inventory' | 'monitoring' | 'provisioning' | 'network' | 'deployment' = 'inventory'): string {
  const se = e as ServiceError;
  const refused = describeRefusal(e, service, address);
  if (refused) return refused;
  if (se.code === UNAVAILABLE || se.code === DEADLINE_EXCEEDED) {
    const variable = `STACKYARD_${service.toUpperCase()}`;
    return [
      `no ${service} service answers at ${address} (${se.details || se.message}).`,
      `Start the platform with \`apps/stackyard/bin/stackyard up --keep\` (it prints the ${service} address), then pass`,
      service === 'inventory'
        ? `--${service} HOST:PORT or set ${variable}; or use \`stackyard up --kayobe-config DIR\` to import into a fresh embedded platform.`
        : `--${service} HOST:PORT or set ${variable}.`,
      'If the service uses TLS, pass --tls-ca FILE (plus --tls-cert FILE --tls-key FILE when it asks for client certificates).',
    ].join('\n');
  }
  return se.details || se.message || String(e);
}

export function importClient(address: string, credentials = insecure()): InventoryServiceClient {
  return new InventoryServiceClient(address, credentials);
}

export async function importOnce(client: InventoryServiceClient, req: Partial<ImportKayobeConfigRequest>, token?: string): Promise<ImportKayobeConfigResponse> {
  const full: ImportKayobeConfigRequest = {
    configPath: '',
    environment: '',
    siteId: '',
    dryRun: false,
    requestId: '',
    registerHosts: false,
    registerGroups: [],
    bmcDriver: '',
    ...req,
  };
  return call(client, client.importKayobeConfig, full, { deadlineMs: 120_000, ...(token ? { metadata: withToken(token) } : {}) });
}

/**
 * `stackyard config import DIR`: asks a running inventory service to import a Kayobe configuration.
 * The directory is read by the service (the CLI sends its absolute path); nothing is started here.
 * Exit 0 when imported (or a dry run passed), 1 when the configuration or the call failed.
 */
export async function configImport(o: ConfigImportOptions): Promise<number> {
  const client = importClient(o.inventory, o.credentials);
  try {
    const r = await importOnce(client, { configPath: resolve(o.dir), environment: o.environment, siteId: o.site, dryRun: o.dryRun }, o.token);
    if (o.json) o.out(JSON.stringify(r));
    else renderImport(r).forEach(o.out);
    return 0;
  } catch (e) {
    const se = e as ServiceError;
    if (o.json) o.out(JSON.stringify({ error: { code: CODE_NAMES[se.code ?? -1] ?? String(se.code), field: String(se.metadata?.get(FIELD_KEY)[0] ?? ''), message: describeCallError(e, o.inventory) } }));
    else o.err(`stackyard config import: ${describeCallError(e, o.inventory)}`);
    return 1;
  } finally {
    client.close();
  }
}
