import { createHash } from 'node:crypto';
import { AlreadyExistsError, ValidationError } from '@stackyard/errors';
import type { Host } from '@stackyard/proto/inventory/v1/inventory';
import { newHost } from '../domain/host';
import { importKayobeFiles } from '../domain/kayobe/config';
import {
  buildImportRecord,
  DEFAULT_REGISTER_GROUPS,
  DEFAULT_SITE,
  importIdOf,
  registrationOf,
  validateImportOptions,
  type ImportedHostRecord,
  type ImportRecord,
} from '../domain/kayobe/import-record';
import { sameRegistration, type InventoryService } from './inventory';
import type { ImportRepository, KayobeConfigSource } from './ports';

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
  /** Per host (same order as record.hosts): the stored host and whether its saga started. */
  readonly hosts: readonly { readonly host: Host | undefined; readonly registered: boolean }[];
  readonly complete: boolean;
}

/**
 * ImportKayobeConfig (README "Kayobe import"). Without transactions, an import is:
 *  1. read and check the whole configuration: any error throws, nothing is written;
 *  2. insert ONE import document holding the whole normalized result: the atomic commit point;
 *  3. materialize it host by host through InventoryService (record, or register = HostRegistered),
 *     each step idempotent;
 *  4. mark the document `materialized`.
 * A crash after 2 leaves a committed import; running it again (same request id, or same content)
 * finds the document and finishes step 3 without duplicating hosts or events.
 */
export class KayobeImportService {
  constructor(
    private readonly inventory: InventoryService,
    private readonly imports: ImportRepository,
    private readonly source: KayobeConfigSource,
  ) {}

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
    const files = await this.source.read(req.configPath, environment);
    const imp = importKayobeFiles(files, { environment, configPath: req.configPath });
    const contentHash = createHash('sha256')
      .update(JSON.stringify({ files: [...files].sort((a, b) => (a.path < b.path ? -1 : 1)), environment: req.environment, configPath: req.configPath, options }))
      .digest('hex');
    const id = importIdOf(options.siteId, req.requestId, contentHash);
    const planned = buildImportRecord(imp, { ...options, id, requestId: req.requestId, contentHash, configPath: req.configPath, environment: req.environment });
    await this.checkConflicts(planned);
    if (req.dryRun) {
      const hosts = await Promise.all(planned.hosts.map(async (h) => {
        const existing = await this.inventory.findHost(h.hostId);
        return { host: existing ? { ...existing.data, version: existing.version } : undefined, registered: existing ? existing.registered !== false : false };
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
    const hosts = [];
    for (const h of record.hosts) hosts.push(await this.materialize(record, h));
    if (record.state !== 'materialized') await this.imports.update({ ...record, state: 'materialized' }, version);
    return { record: { ...record, state: 'materialized' }, dryRun: false, hosts, complete: true };
  }

  private async materialize(record: ImportRecord, h: ImportedHostRecord): Promise<{ host: Host; registered: boolean }> {
    const input = registrationOf(record, h);
    if (h.register) {
      const r = await this.inventory.register(input);
      return { host: r.host, registered: true };
    }
    return this.inventory.recordHost(input);
  }

  /** A host that exists with other content is not changed by an import: reject the whole import. */
  private async checkConflicts(r: ImportRecord): Promise<void> {
    for (const h of r.hosts) {
      const existing = await this.inventory.findHost(h.hostId);
      if (existing && !sameRegistration(existing.data, newHost(h.hostId, registrationOf(r, h)))) {
        throw new ValidationError(h.source, `host "${h.name}" already exists as ${h.hostId} with other groups, BMC or profile; an import does not change hosts`);
      }
    }
  }
}
