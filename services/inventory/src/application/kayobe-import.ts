import { createHash } from 'node:crypto';
import { AlreadyExistsError, ConcurrencyError, NotFoundError, ValidationError } from '@stackyard/errors';
import { assertId, assertToken, Events, newEvent } from '@stackyard/events';
import type { Host } from '@stackyard/proto/inventory/v1/inventory';
import { changedFields, newHost } from '../domain/host';
import { decodePageToken, encodePageToken, MAX_PAGE_SIZE, pageSizeOf } from '../domain/listing';
import { importKayobeFiles } from '../domain/kayobe/config';
import {
  buildImportRecord,
  DEFAULT_REGISTER_GROUPS,
  DEFAULT_SITE,
  importIdOf,
  missingHostWarnings,
  registrationOf,
  validateImportOptions,
  type HostChangeKind,
  type ImportedHostRecord,
  type ImportRecord,
} from '../domain/kayobe/import-record';
import type { DeploymentService } from './deployments';
import type { GroupService } from './groups';
import { apiHost, SERVICE, type InventoryService } from './inventory';
import type { ConfigPathPolicy, ImportRepository, KayobeConfigSource } from './ports';

export interface ImportRequest {
  readonly configPath: string;
  readonly environment: string;
  readonly siteId: string;
  readonly dryRun: boolean;
  readonly requestId: string;
  readonly registerHosts: boolean;
  readonly registerGroups: readonly string[];
  readonly bmcDriver: string;
}

export interface ImportResult {
  readonly record: ImportRecord;
  readonly dryRun: boolean;
  /** Per host (same order as record.hosts): the stored host, whether its saga started, and what this run did. */
  readonly hosts: readonly { readonly host: Host | undefined; readonly registered: boolean; readonly change: HostChangeKind }[];
  readonly complete: boolean;
}

/**
 * ImportKayobeConfig (README "Kayobe import"). Without transactions, an import is:
 *  1. read and check the whole configuration: any error throws, nothing is written; compare it with
 *     the inventory: hosts to add, to change, unchanged, and hosts of earlier imports of the same
 *     configuration that it no longer has (warnings; they are kept);
 *  2. insert ONE import document holding the whole normalized result: the atomic commit point;
 *  3. materialize it host by host through InventoryService (record = HostRecorded, register =
 *     HostRegistered, change = HostUpdated), each step idempotent;
 *  4. mark the document `materialized`, with ImportCompleted in its outbox.
 * A crash after 2 leaves a committed import; running it again (same request id, or same content)
 * finds the document and finishes step 3 without duplicating hosts or events.
 */
export class KayobeImportService {
  private readonly now: () => Date;
  constructor(
    private readonly inventory: InventoryService,
    private readonly imports: ImportRepository,
    private readonly source: KayobeConfigSource,
    /** `groups`: the import creates or updates the configuration's group records (before its hosts). */
    private readonly opts: { readonly paths?: ConfigPathPolicy; readonly now?: () => Date; readonly groups?: GroupService; readonly deployments?: DeploymentService } = {},
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  async importConfig(req: ImportRequest): Promise<ImportResult> {
    if (!req.configPath) throw new ValidationError('config_path', 'required: a Kayobe configuration directory (etc/kayobe) on the inventory host');
    if (!req.configPath.startsWith('/')) throw new ValidationError('config_path', `"${req.configPath}" must be an absolute path on the inventory host`);
    const options = {
      siteId: req.siteId || DEFAULT_SITE,
      registerHosts: req.registerHosts,
      registerGroups: req.registerGroups.length ? [...req.registerGroups] : [...DEFAULT_REGISTER_GROUPS],
      bmcDriver: req.bmcDriver || 'ironic',
    };
    validateImportOptions(options);
    const environment = req.environment || undefined;
    const dir = this.opts.paths ? await this.opts.paths.resolve(req.configPath) : req.configPath;
    const files = await this.source.read(dir, environment);
    const imp = importKayobeFiles(files, { environment, configPath: req.configPath });
    const contentHash = createHash('sha256')
      .update(JSON.stringify({ files: [...files].sort((a, b) => (a.path < b.path ? -1 : 1)), environment: req.environment, configPath: req.configPath, options }))
      .digest('hex');
    const id = importIdOf(options.siteId, req.requestId, contentHash);
    const built = buildImportRecord(imp, { ...options, id, requestId: req.requestId, contentHash, configPath: req.configPath, environment: req.environment });
    const planned = await this.plan(built);
    if (req.dryRun) {
      const hosts = await Promise.all(planned.hosts.map(async (h) => {
        const existing = await this.inventory.findHost(h.hostId);
        return { host: existing ? apiHost(existing) : undefined, registered: existing ? existing.registered : false, change: h.change ?? 'added' };
      }));
      return { record: planned, dryRun: true, hosts, complete: false };
    }

    // The commit point: one insert. An existing document with this id is this import run before
    // (finish it) or, with other content, a reused request id.
    let record = planned;
    let version = 1;
    if ((await this.imports.create(planned)) === 'exists') {
      const stored = await this.imports.get(id);
      if (!stored) throw new ValidationError('request_id', `import ${id} exists but cannot be read`);
      if (stored.data.contentHash !== contentHash) {
        throw new ValidationError('request_id', `request id "${req.requestId}" was used by import ${id} with other content (configuration, environment or options)`);
      }
      record = stored.data;
      version = stored.version;
    }

    try {
      await this.inventory.createSite(record.siteId, record.siteId);
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
    }
    // Group records first (children before parents), each idempotent: a re-run finishes them too.
    if (this.opts.groups) for (const g of record.groups ?? []) await this.opts.groups.applyImportedGroup(record.siteId, g.name, g.children);
    const hosts: { host: Host; registered: boolean; change: HostChangeKind }[] = [];
    for (const h of record.hosts) hosts.push(await this.materialize(record, h));
    // Then its deployment (it refers to the groups and hosts), idempotent too.
    if (this.opts.groups && this.opts.deployments && record.deployment) {
      const d = record.deployment;
      await this.opts.deployments.applyImported({ siteId: record.siteId, name: d.name, description: '', hostIds: d.hostIds, groups: d.groups, roles: d.roles.map((r) => ({ role: r.role, groups: [...r.groups] })), services: d.services, importId: record.id });
    }
    if (record.state !== 'materialized') {
      const count = (c: HostChangeKind) => hosts.filter((h) => h.change === c).length;
      const outcome = { added: count('added'), changed: count('changed'), unchanged: count('unchanged') };
      const done: ImportRecord = { ...record, state: 'materialized', hosts: record.hosts.map((h, i) => ({ ...h, change: hosts[i]!.change })), outcome };
      const completed = newEvent({
        type: Events.ImportCompleted,
        site: record.siteId,
        entityId: record.id,
        service: SERVICE,
        data: {
          importId: record.id,
          siteId: record.siteId,
          configPath: record.configPath,
          environment: record.environment,
          hostsAdded: outcome.added,
          hostsChanged: outcome.changed,
          hostsUnchanged: outcome.unchanged,
          warningsCount: record.warnings.length,
          hostsMissing: [...(record.hostsMissing ?? [])],
        },
      });
      // False: another run of this import marked it first (and emitted ImportCompleted).
      await this.imports.update(done, version, [completed]);
      record = done;
    }
    return { record, dryRun: false, hosts, complete: true };
  }

  /** GetImport: the import document (NOT_FOUND if unknown). */
  async getImport(id: string): Promise<ImportRecord> {
    if (!id) throw new ValidationError('import_id', 'required');
    assertId('import_id', id);
    const r = await this.imports.get(id);
    if (!r) throw new NotFoundError('import', id);
    return r.data;
  }

  /** ListImports: a site's imports, newest first, paged like ListHosts. */
  async listImports(siteId: string, pageSize: number, pageToken: string): Promise<{ imports: ImportRecord[]; nextPageToken: string }> {
    if (!siteId) throw new ValidationError('site_id', 'required');
    assertToken('site_id', siteId);
    const limit = pageSizeOf(pageSize);
    const key = `imports:${siteId}`;
    const token = decodePageToken(pageToken, key);
    let after: { createdAt: string; id: string } | undefined;
    if (token !== undefined) {
      const cut = token.indexOf('|');
      if (cut < 0) throw new ValidationError('page_token', 'is not a page token returned by this API');
      after = { createdAt: token.slice(0, cut), id: token.slice(cut + 1) };
    }
    const rows = await this.imports.list(siteId, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { imports: page, nextPageToken: rows.length > limit && last ? encodePageToken(`${last.createdAt ?? ''}|${last.id}`, key) : '' };
  }

  /**
   * Compares the import with the inventory: each host's planned change, and the hosts that earlier
   * imports of the same configuration (path and environment) into the site recorded and this one
   * no longer has (warnings; the hosts are kept).
   */
  private async plan(r: ImportRecord): Promise<ImportRecord> {
    const hosts = await Promise.all(r.hosts.map(async (h): Promise<ImportedHostRecord> => {
      const existing = await this.inventory.findHost(h.hostId);
      if (!existing) return { ...h, change: 'added' };
      return { ...h, change: sameImportContent(existing.data, newHost(h.hostId, registrationOf(r, h))) ? 'unchanged' : 'changed' };
    }));
    const current = new Set(r.hosts.map((h) => h.hostId));
    const earlier = new Map<string, { hostId: string; name: string; importId: string }>();
    let page = await this.listImports(r.siteId, MAX_PAGE_SIZE, '');
    for (;;) {
      for (const imp of page.imports) {
        if (imp.id === r.id || imp.configPath !== r.configPath || imp.environment !== r.environment) continue;
        for (const h of imp.hosts) if (!current.has(h.hostId) && !earlier.has(h.hostId)) earlier.set(h.hostId, { hostId: h.hostId, name: h.name, importId: imp.id });
      }
      if (!page.nextPageToken) break;
      page = await this.listImports(r.siteId, MAX_PAGE_SIZE, page.nextPageToken);
    }
    const missing = [];
    for (const m of [...earlier.values()].sort((a, b) => (a.hostId < b.hostId ? -1 : 1))) if (await this.inventory.findHost(m.hostId)) missing.push(m);
    return {
      ...r,
      hosts,
      warnings: [...r.warnings, ...missingHostWarnings(missing)],
      hostsMissing: missing.map((m) => m.hostId),
      createdAt: this.now().toISOString(),
    };
  }

  /**
   * One host: added (recorded or registered), changed (HostUpdated with the configuration's groups,
   * BMC and profile; labels are not the configuration's and are kept), or unchanged; then registered
   * if selected and not yet registered.
   */
  private async materialize(record: ImportRecord, h: ImportedHostRecord): Promise<{ host: Host; registered: boolean; change: HostChangeKind }> {
    const input = registrationOf(record, h);
    for (let attempt = 0; ; attempt++) {
      try {
        const existing = await this.inventory.findHost(h.hostId);
        if (!existing) {
          if (h.register) return { host: (await this.inventory.register(input)).host, registered: true, change: 'added' };
          const r = await this.inventory.recordHost(input, record.id);
          return { ...r, change: 'added' };
        }
        let host = apiHost(existing);
        let change: HostChangeKind = 'unchanged';
        if (!sameImportContent(existing.data, newHost(h.hostId, input))) {
          host = (await this.inventory.replaceHost({ ...input, labels: existing.data.labels }, existing.version)).host;
          change = 'changed';
        }
        if (h.register && !existing.registered) {
          const r = await this.inventory.register({ ...input, labels: host.labels });
          return { host: r.host, registered: true, change };
        }
        return { host, registered: existing.registered, change };
      } catch (e) {
        // A concurrent change of the host (its saga, an operator, another import): read it again.
        if (!(e instanceof ConcurrencyError) || attempt >= 4) throw e;
      }
    }
  }
}

/** What an import sets on a host: groups, BMC reference and hardware profile (not labels). */
export function sameImportContent(a: Host, b: Host): boolean {
  return changedFields(a, b).every((f) => f === 'labels');
}
