import { readFileSync } from 'node:fs';
import { call, FIELD_KEY, insecure, withToken } from '@stackyard/grpc';
import {
  NetworkServiceClient,
  SwitchApplyOutcome,
  type ConfigurePhysicalNetworkRequest,
  type ConfigurePhysicalNetworkResponse,
} from '@stackyard/proto/network/v1/network_service';
import { describeCallError } from './config-import';
import { table } from './output';

/** `stackyard physical network configure`: Kayobe's verb, asked of a running network service. */
export interface PhysicalNetworkOptions {
  readonly site: string;
  /** The switch inventory file (`switches: {<name>: {...}}`), read here and sent to the service. */
  readonly switchesFile: string;
  readonly group: string;
  readonly display: boolean;
  readonly enableDiscovery: boolean;
  readonly disableDiscovery: boolean;
  readonly interfaceLimit: string | undefined;
  readonly interfaceDescriptionLimit: string | undefined;
  readonly json: boolean;
  /** HOST:PORT of a running network service. */
  readonly network: string;
  readonly token: string | undefined;
  /** Channel credentials (TLS, mutual TLS); plaintext when absent. */
  readonly credentials?: ReturnType<typeof insecure> | undefined;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

interface ServiceError {
  readonly code?: number;
  readonly details?: string;
  readonly message?: string;
  readonly metadata?: { get(key: string): unknown[] };
}
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
const CODE_NAMES: Record<number, string> = { 3: 'INVALID_ARGUMENT', 4: 'DEADLINE_EXCEEDED', 5: 'NOT_FOUND', 7: 'PERMISSION_DENIED', 14: 'UNAVAILABLE', 16: 'UNAUTHENTICATED' };

export const OUTCOME_NAMES: Readonly<Record<SwitchApplyOutcome, string>> = {
  [SwitchApplyOutcome.SWITCH_APPLY_OUTCOME_UNSPECIFIED]: 'display',
  [SwitchApplyOutcome.SWITCH_APPLY_OUTCOME_CHANGED]: 'changed',
  [SwitchApplyOutcome.SWITCH_APPLY_OUTCOME_UNCHANGED]: 'unchanged',
  [SwitchApplyOutcome.SWITCH_APPLY_OUTCOME_APPLIED]: 'applied',
  [SwitchApplyOutcome.SWITCH_APPLY_OUTCOME_FAILED]: 'failed',
  [SwitchApplyOutcome.UNRECOGNIZED]: 'unknown',
};

/** The applied outcome as text: one row per switch, then each interface with its VLANs, then notes. */
export function renderApply(r: ConfigurePhysicalNetworkResponse): string[] {
  const lines: string[] = [];
  const rows = [['SWITCH', 'TYPE', 'GROUP', 'INTERFACES', 'OUTCOME', 'MESSAGE']];
  for (const s of r.switches) rows.push([s.name, s.switchType, s.group || '-', String(s.interfaces.length), OUTCOME_NAMES[s.outcome], s.message.split('\n')[0] ?? '']);
  lines.push(...table(rows));
  const ports = [['SWITCH', 'INTERFACE', 'DESCRIPTION', 'HOST', 'NATIVE', 'TAGGED']];
  for (const s of r.switches) {
    for (const i of s.interfaces) {
      ports.push([s.name, i.name, i.description || '-', i.host ? `${i.host}/${i.hostNic}` : '-', i.nativeVlan ? String(i.nativeVlan) : '-', i.taggedVlans.join(',') || '-']);
    }
  }
  if (ports.length > 1) lines.push('', ...table(ports));
  const changed = r.switches.filter((s) => s.outcome === SwitchApplyOutcome.SWITCH_APPLY_OUTCOME_CHANGED).length;
  const failed = r.switches.filter((s) => s.outcome === SwitchApplyOutcome.SWITCH_APPLY_OUTCOME_FAILED).length;
  lines.push('', `${r.switches.length} switch(es) through the ${r.executor} executor: ${changed} changed, ${failed} failed${changed === 0 && failed === 0 ? '; nothing changed' : ''}`);
  return lines;
}

function notes(r: ConfigurePhysicalNetworkResponse): string[] {
  return r.notes.map((n) => `note: ${n}`);
}

export function toJson(r: ConfigurePhysicalNetworkResponse) {
  return {
    executor: r.executor,
    switches: r.switches.map((s) => ({
      name: s.name,
      type: s.switchType,
      group: s.group,
      outcome: OUTCOME_NAMES[s.outcome],
      message: s.message,
      interfaces: s.interfaces.map((i) => ({ name: i.name, description: i.description, host: i.host, nic: i.hostNic, nativeVlan: i.nativeVlan, taggedVlans: i.taggedVlans, networks: i.networks })),
      config: s.config,
    })),
    notes: r.notes,
  };
}

/**
 * Exit codes: 0 rendered (--display) or every switch applied; 1 rejected (nothing applied) or some
 * switch failed; 3 the network service did not answer; 64 usage (also an unreadable --switches file).
 */
export async function physicalNetworkConfigure(o: PhysicalNetworkOptions): Promise<number> {
  let switchesYaml: string;
  try {
    switchesYaml = readFileSync(o.switchesFile, 'utf8');
  } catch (e) {
    o.err(`stackyard physical network configure: cannot read --switches ${o.switchesFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return 64;
  }
  const req: ConfigurePhysicalNetworkRequest = {
    siteId: o.site,
    switchesYaml,
    group: o.group,
    display: o.display,
    enableDiscovery: o.enableDiscovery,
    disableDiscovery: o.disableDiscovery,
    interfaceLimit: o.interfaceLimit,
    interfaceDescriptionLimit: o.interfaceDescriptionLimit,
  };
  const client = new NetworkServiceClient(o.network, o.credentials ?? insecure());
  try {
    // One attempt when applying: a retry after a lost answer would configure the switches twice.
    const r = await call(client, client.configurePhysicalNetwork, req, {
      attempts: o.display ? 4 : 1,
      deadlineMs: o.display ? 60_000 : 900_000,
      ...(o.token ? { metadata: withToken(o.token) } : {}),
    });
    const failed = r.switches.some((s) => s.outcome === SwitchApplyOutcome.SWITCH_APPLY_OUTCOME_FAILED);
    if (o.json) {
      o.out(JSON.stringify(o.display ? { ...toJson(r), display: r.display } : toJson(r)));
    } else {
      if (o.display) for (const l of r.display.replace(/\n$/, '').split('\n')) o.out(l);
      else for (const l of renderApply(r)) o.out(l);
      for (const l of notes(r)) o.err(l);
    }
    return failed ? 1 : 0;
  } catch (e) {
    const se = e as ServiceError;
    const field = String(se.metadata?.get(FIELD_KEY)[0] ?? '');
    if (o.json) o.out(JSON.stringify({ error: { code: CODE_NAMES[se.code ?? -1] ?? String(se.code), field, message: describeCallError(e, o.network, 'network') } }));
    else o.err(`stackyard physical network configure: ${describeCallError(e, o.network, 'network')}`);
    return se.code === UNAVAILABLE || se.code === DEADLINE_EXCEEDED ? 3 : 1;
  } finally {
    client.close();
  }
}
