import type { HostRef } from '@stackyard/proto/inventory/v1/inventory';
import { placement, type PlannedContainer } from '../domain/catalogue';
import type { TextFile } from '../domain/diff';
import { renderGlobals } from '../domain/kolla/globals';
import { renderHostVars } from '../domain/kolla/host-vars';
import { renderOvercloudInventory } from '../domain/kolla/inventory';
import type { Address, SiteInputs } from './ports';

/** Site-wide Kolla settings from configuration (reference/kayobe.md §5.3). */
export interface KollaSettings {
  readonly openstackRelease: string;
  readonly baseDistro: string;
  readonly baseDistroVersion: string;
  readonly internalVipAddress?: string;
  readonly externalVipAddress?: string;
  /** The network whose address is a host's `ansible_host` (Kayobe's admin network); default `internal`. */
  readonly adminNetwork?: string;
}

export interface SiteHost {
  readonly host: HostRef;
  readonly addresses: readonly Address[];
}

/**
 * The generated inputs of a site's overcloud: `globals.yml`, the inventory and a host_vars file per
 * host (`ansible_host`: its address on the admin network, else its first address). Hosts in no mapped
 * Kayobe group are not overcloud hosts and are left out. Byte-stable for the same hosts in any order.
 */
export function siteInputs(siteId: string, hosts: readonly SiteHost[], settings: KollaSettings, release?: string): SiteInputs {
  const byName = new Map<string, SiteHost>();
  for (const h of hosts) byName.set(h.host.name, h);
  const overcloud = [...byName.values()].filter((h) => placement(h.host.groups).length > 0).sort((a, b) => (a.host.name < b.host.name ? -1 : 1));
  const files: TextFile[] = [
    {
      path: 'globals.yml',
      content: renderGlobals({
        baseDistro: settings.baseDistro,
        baseDistroVersion: settings.baseDistroVersion,
        openstackRelease: release || settings.openstackRelease,
        ...(settings.internalVipAddress ? { internalVipAddress: settings.internalVipAddress } : {}),
        ...(settings.externalVipAddress ? { externalVipAddress: settings.externalVipAddress } : {}),
      }),
    },
    { path: 'inventory/overcloud/hosts', content: renderOvercloudInventory(overcloud.map((h) => ({ name: h.host.name, groups: h.host.groups }))) },
  ];
  const admin = settings.adminNetwork ?? 'internal';
  for (const h of overcloud) {
    const addr = h.addresses.find((a) => a.network === admin)?.address ?? h.addresses[0]?.address;
    files.push({ path: `inventory/overcloud/host_vars/${h.host.name}`, content: renderHostVars(addr ? { ansible_host: addr } : {}) });
  }
  return { siteId, files, hosts: overcloud.map((h) => h.host.name) };
}

/** Planned containers per overcloud host name. */
export function plannedBySite(hosts: readonly SiteHost[]): Record<string, PlannedContainer[]> {
  return Object.fromEntries(hosts.map((h) => [h.host.name, placement(h.host.groups)]));
}
