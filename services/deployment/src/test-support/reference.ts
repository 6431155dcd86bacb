import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The reference Kayobe / Kolla-Ansible files the tests read (outside the repository). */
export const REFERENCE_CONFIGS = '/work/shared/reference/kayobe-configs';
export const HAVE_REFERENCE = existsSync(join(REFERENCE_CONFIGS, 'openstack+kolla-ansible/ansible/inventory/multinode'));
export const NO_REFERENCE = `reference configs not found under ${REFERENCE_CONFIGS}`;

export function readReference(path: string): string {
  return readFileSync(join(REFERENCE_CONFIGS, path), 'utf8');
}

export function referenceExists(path: string): boolean {
  return existsSync(join(REFERENCE_CONFIGS, path));
}

/** The kayobe-config repositories among the reference configs (those with etc/kayobe/kolla.yml). */
export const KAYOBE_CONFIGS = ['openstack+kayobe', 'openstack+kayobe-config', 'openstack+kayobe-config-dev', 'stackhpc+a-universe-from-nothing'] as const;
