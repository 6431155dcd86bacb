import { AlreadyExistsError, ConcurrencyError, NotFoundError, ValidationError } from '@stackyard/errors';
import { diffFiles } from '../domain/diff';
import type { KollaAction } from '../domain/kolla/outcome';
import type { ContainerRuntime, NodeDeploymentRepository, OperationResult, OutputLine, SiteDeploymentData, SiteDeploymentRepository, SiteInputs } from './ports';
import { plannedBySite, siteInputs, type KollaSettings, type SiteHost } from './site-inputs';

const SITE = /^[a-z0-9][a-z0-9_-]*$/;
const RELEASE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface ConfigDiff {
  readonly siteId: string;
  /** Unified diff of the last applied inputs (`applied/…`) against newly generated ones (`generated/…`). */
  readonly diff: string;
  readonly changedFiles: readonly string[];
  /** When the applied inputs were applied (ISO 8601), '' when nothing was applied yet. */
  readonly appliedAt: string;
}

/**
 * Site-wide operations on a site's overcloud (reference/kayobe.md §1.2: `kayobe overcloud service
 * reconfigure | upgrade | destroy`, and the config diff Kayobe users ask for, §9). The site's hosts are
 * the nodes this service has deployed or tried to (their network is configured); inputs are generated
 * from them, run through the configured runtime, and recorded as applied when every host came out ok.
 */
export class SiteOperations {
  constructor(
    private readonly nodes: NodeDeploymentRepository,
    private readonly sites: SiteDeploymentRepository,
    private readonly runtime: ContainerRuntime,
    private readonly settings: KollaSettings,
    private readonly opts: { clock?: () => Date; onLine?: (ctx: { siteId: string; action: KollaAction }, l: OutputLine) => void } = {},
  ) {}

  private now(): string {
    return (this.opts.clock?.() ?? new Date()).toISOString();
  }

  private static siteId(siteId: string): string {
    if (!siteId) throw new ValidationError('site_id', 'required');
    if (!SITE.test(siteId)) throw new ValidationError('site_id', 'lowercase letters, digits, - and _');
    return siteId;
  }

  private async hosts(siteId: string, extra?: SiteHost): Promise<SiteHost[]> {
    const nodes = (await this.nodes.listBySite(siteId)).filter((n) => n.host.hostId !== extra?.host.hostId && n.state !== 'removed');
    const hosts = nodes.map((n) => ({ host: n.host, addresses: n.addresses ?? [] }));
    if (extra) hosts.push(extra);
    if (!hosts.length) throw new NotFoundError('site deployment', siteId);
    return hosts;
  }

  /** The site's inputs as they would be generated now, with `extra` (a node being deployed) included. */
  async inputsFor(siteId: string, extra?: SiteHost): Promise<SiteInputs> {
    const site = await this.sites.get(siteId);
    return siteInputs(siteId, await this.hosts(siteId, extra), this.settings, site?.data.release ?? undefined);
  }

  async diffConfig(siteId: string): Promise<ConfigDiff> {
    SiteOperations.siteId(siteId);
    const site = await this.sites.get(siteId);
    const generated = siteInputs(siteId, await this.hosts(siteId), this.settings, site?.data.release ?? undefined);
    const d = diffFiles(site?.data.applied?.files ?? [], generated.files);
    return { siteId, diff: d.diff, changedFiles: d.changed, appliedAt: site?.data.applied?.at ?? '' };
  }

  async reconfigure(siteId: string, requestId = ''): Promise<OperationResult> {
    return this.operate(SiteOperations.siteId(siteId), 'reconfigure', { requestId });
  }

  async upgrade(siteId: string, release: string, requestId = ''): Promise<OperationResult> {
    SiteOperations.siteId(siteId);
    if (!release) throw new ValidationError('release', 'required');
    if (!RELEASE.test(release)) throw new ValidationError('release', 'a release name such as 2025.1');
    return this.operate(siteId, 'upgrade', { requestId, release });
  }

  /** Removes every Kolla container and volume of the site. `confirm` must be the site id, typed out. */
  async destroy(siteId: string, confirm: string, requestId = ''): Promise<OperationResult> {
    SiteOperations.siteId(siteId);
    if (confirm !== siteId) throw new ValidationError('confirm', `must equal the site id "${siteId}" to destroy its containers and volumes`);
    return this.operate(siteId, 'destroy', { requestId, confirm: true });
  }

  /** After the saga deployed a node with these inputs: they are what the site now runs. Retries on conflicts. */
  async recordApplied(inputs: SiteInputs, action: KollaAction): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const site = await this.sites.get(inputs.siteId);
      const data: SiteDeploymentData = { siteId: inputs.siteId, release: site?.data.release ?? null, lastOperation: site?.data.lastOperation ?? null, applied: { files: inputs.files, action, at: this.now() } };
      try {
        await this.sites.save(data, site?.version);
        return;
      } catch (e) {
        if (!(e instanceof ConcurrencyError) && !(e instanceof AlreadyExistsError)) throw e;
        if (attempt >= 5) throw e;
      }
    }
  }

  private async operate(siteId: string, action: KollaAction, o: { requestId: string; release?: string; confirm?: boolean }): Promise<OperationResult> {
    const site = await this.sites.get(siteId);
    // A retried request (same request_id) gets the first result; nothing runs twice.
    if (o.requestId && site?.data.lastOperation?.requestId === o.requestId && site.data.lastOperation.result.action === action) return site.data.lastOperation.result;
    const release = o.release ?? site?.data.release ?? this.settings.openstackRelease;
    const hosts = await this.hosts(siteId);
    const inputs = siteInputs(siteId, hosts, this.settings, release);
    const onLine = this.opts.onLine;
    const run = await this.runtime.run({
      action,
      inputs,
      containers: plannedBySite(hosts),
      ...(o.confirm ? { confirm: true } : {}),
      ...(onLine ? { onLine: (l: OutputLine) => onLine({ siteId, action }, l) } : {}),
    });
    const succeeded = run.hosts.every((h) => h.outcome === 'ok');
    const result: OperationResult = {
      siteId,
      action,
      release,
      succeeded,
      hosts: run.hosts.map((h) => ({
        host: h.host,
        outcome: h.outcome,
        ...(h.error ? { failure: { step: action, reason: h.error.reason, message: h.error.message, retryable: h.error.retryable } } : {}),
      })),
    };
    const data: SiteDeploymentData = {
      siteId,
      release: succeeded && action === 'upgrade' ? release : (site?.data.release ?? null),
      applied: !succeeded ? (site?.data.applied ?? null) : action === 'destroy' ? null : { files: inputs.files, action, at: this.now() },
      lastOperation: { requestId: o.requestId, result },
    };
    await this.sites.save(data, site?.version);
    return result;
  }
}
