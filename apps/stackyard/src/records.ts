import { call, withToken, type insecure } from '@stackyard/grpc';
import type { Deployment, Group } from '@stackyard/proto/inventory/v1/inventory';
import { describeCallError, importClient } from './config-import';
import { table } from './output';

export interface RecordsOptions {
  readonly inventory: string;
  readonly token?: string | undefined;
  readonly credentials?: ReturnType<typeof insecure> | undefined;
  readonly json: boolean;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const vars = (v: Readonly<Record<string, string>>) => Object.entries(v).map(([k, x]) => `${k}=${x}`).join(', ');

export function renderGroup(g: Group): string[] {
  return [
    `group ${g.name} (site ${g.siteId}, id ${g.id}, version ${g.version})`,
    ...(g.description ? [`  description: ${g.description}`] : []),
    `  children: ${g.children.join(', ') || '-'}`,
    `  hosts:    ${g.hosts.join(', ') || '-'}`,
    `  vars:     ${vars(g.vars) || '-'}`,
  ];
}

export function renderDeployment(d: Deployment): string[] {
  const services = Object.entries(d.services).sort(([a], [b]) => (a < b ? -1 : 1));
  return [
    `deployment ${d.name} (site ${d.siteId}, id ${d.id}, version ${d.version}${d.importId ? `, from import ${d.importId}` : ''})`,
    ...(d.description ? [`  description: ${d.description}`] : []),
    `  hosts:    ${d.hostIds.join(', ') || '-'}`,
    `  groups:   ${d.groups.join(', ') || '-'}`,
    `  roles:    ${d.roles.map((r) => `${r.role}=${r.groups.join('+')}`).join(', ') || '-'}`,
    `  enabled:  ${services.filter(([, on]) => on).map(([s]) => s).join(', ') || '-'}`,
    `  disabled: ${services.filter(([, on]) => !on).map(([s]) => s).join(', ') || '-'}`,
  ];
}

/**
 * `stackyard group list --site S`, `stackyard group show ID`, `stackyard deployment show ID`: read the
 * inventory's group and deployment records. Exit 0, 1 when the call failed (NOT_FOUND included).
 */
export async function recordsCommand(kind: 'group' | 'deployment', verb: string, arg: string, o: RecordsOptions): Promise<number> {
  const client = importClient(o.inventory, o.credentials);
  const opts = o.token ? { metadata: withToken(o.token) } : {};
  try {
    if (kind === 'group' && verb === 'list') {
      const groups: Group[] = [];
      let pageToken = '';
      do {
        const r = await call(client, client.listGroups, { siteId: arg, pageSize: 500, pageToken }, opts);
        groups.push(...r.groups);
        pageToken = r.nextPageToken;
      } while (pageToken);
      if (o.json) o.out(JSON.stringify({ groups }));
      else table([['GROUP', 'CHILDREN', 'VARS', 'VERSION'], ...groups.map((g) => [g.name, g.children.join(',') || '-', String(Object.keys(g.vars).length), String(g.version)])]).forEach(o.out);
      return 0;
    }
    if (kind === 'group') {
      const g = (await call(client, client.getGroup, { id: arg }, opts)).group!;
      if (o.json) o.out(JSON.stringify(g));
      else renderGroup(g).forEach(o.out);
      return 0;
    }
    const d = (await call(client, client.getDeployment, { id: arg }, opts)).deployment!;
    if (o.json) o.out(JSON.stringify(d));
    else renderDeployment(d).forEach(o.out);
    return 0;
  } catch (e) {
    o.err(`stackyard ${kind} ${verb}: ${describeCallError(e, o.inventory)}`);
    return 1;
  } finally {
    client.close();
  }
}
