import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ValidationError } from '@stackyard/errors';
import { z } from '@stackyard/config';
import type { HostPrepSettings, HostPrepVars } from '../../application/host-prep';
import type { DeploymentConfig } from '../../config';

const ntpSource = z.union([
  z.string().min(1).transform((server) => ({ server })),
  z.object({ server: z.string().min(1), type: z.enum(['server', 'pool', 'peer']).optional(), options: z.array(z.string()).optional() }).strict(),
]);

const user = z
  .object({
    name: z.string().min(1),
    uid: z.number().int().optional(),
    shell: z.string().optional(),
    home: z.string().optional(),
    groups: z.array(z.string()).default([]),
    sudo: z.boolean().optional(),
    ssh_keys: z.array(z.string()).default([]),
  })
  .strict()
  .transform(({ ssh_keys, ...u }) => ({ ...u, sshKeys: ssh_keys }));

const volumeGroup = z
  .object({
    name: z.string().min(1),
    disks: z.array(z.string()),
    size_gib: z.number().positive().optional(),
    logical_volumes: z
      .array(z.object({ name: z.string().min(1), size: z.string().min(1), filesystem: z.enum(['ext4', 'xfs']).optional(), mount_point: z.string().optional() }).strict())
      .default([]),
  })
  .strict()
  .transform((v) => ({
    name: v.name,
    disks: v.disks,
    ...(v.size_gib !== undefined ? { sizeGiB: v.size_gib } : {}),
    logicalVolumes: v.logical_volumes.map((l) => ({ name: l.name, size: l.size, ...(l.filesystem ? { filesystem: l.filesystem } : {}), ...(l.mount_point ? { mountPoint: l.mount_point } : {}) })),
  }));

/** One group's variables in HOST_PREP_FILE, named after Kayobe's (`<group>_` prefix dropped). */
const groupVars = z
  .object({
    os_family: z.enum(['redhat', 'debian']).optional(),
    users: z.array(user).optional(),
    ntp_servers: z.array(ntpSource).optional(),
    ntp_rtcsync: z.boolean().optional(),
    sysctl_parameters: z.record(z.union([z.string(), z.number()])).optional(),
    lvm_data_disks: z.array(z.string()).optional(),
    lvm_groups: z.array(volumeGroup).optional(),
    /** Devices, or Kayobe's `[{device: /dev/sdc}]` and swap files `[{path: /swapfile, size_mb: 1024}]`. */
    swap: z
      .array(z.union([z.string(), z.object({ device: z.string() }).strict(), z.object({ path: z.string(), size_mb: z.number().int().positive() }).strict()]))
      .optional(),
    container_engine: z.enum(['docker', 'podman', 'none']).optional(),
    registry_mirrors: z.array(z.string()).optional(),
    insecure_registries: z.array(z.string()).optional(),
    storage_driver: z.string().optional(),
    live_restore: z.boolean().optional(),
  })
  .strict()
  .transform(
    (g): HostPrepVars => ({
      osFamily: g.os_family,
      users: g.users,
      ntpServers: g.ntp_servers,
      ntpRtcsync: g.ntp_rtcsync,
      sysctl: g.sysctl_parameters,
      lvmDataDisks: g.lvm_data_disks,
      volumeGroups: g.lvm_groups,
      swap: g.swap?.flatMap((x) => (typeof x === 'string' ? [x] : 'device' in x ? [x.device] : [])),
      swapFiles: g.swap?.flatMap((x) => (typeof x === 'object' && 'path' in x ? [{ path: x.path, sizeMb: x.size_mb }] : [])),
      containerEngine: g.container_engine,
      registryMirrors: g.registry_mirrors,
      insecureRegistries: g.insecure_registries,
      storageDriver: g.storage_driver,
      liveRestore: g.live_restore,
    }),
  );

const fileSchema = z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'a Kayobe group name'), groupVars);

/** Parses HOST_PREP_FILE's text (YAML or JSON): variables keyed by group. Every problem in one ValidationError. */
export function parseHostPrepFile(text: string, source = 'HOST_PREP_FILE'): Record<string, HostPrepVars> {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (e) {
    throw new ValidationError(source, `not YAML or JSON: ${(e as Error).message}`);
  }
  const r = fileSchema.safeParse(raw);
  if (!r.success) throw new ValidationError(source, r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; '));
  return r.data;
}

/** The defaults from the DEPLOY_HOST_PREP_* settings plus the groups of HOST_PREP_FILE (read once, at start). */
export function hostPrepSettings(config: DeploymentConfig, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): HostPrepSettings {
  const kolla = config.DEPLOY_HOST_PREP_KOLLA_USER;
  const engine = config.DEPLOY_HOST_PREP_CONTAINER_ENGINE;
  const defaults: HostPrepVars = {
    osFamily: config.DEPLOY_HOST_PREP_OS_FAMILY,
    users: kolla ? [{ name: kolla, groups: engine === 'docker' ? ['docker'] : [], sudo: true, sshKeys: config.DEPLOY_HOST_PREP_SSH_KEYS }] : [],
    ntpServers: config.DEPLOY_HOST_PREP_NTP_SERVERS.map((server) => ({ server })),
    containerEngine: engine,
    registryMirrors: config.DEPLOY_HOST_PREP_REGISTRY_MIRRORS,
  };
  let groups: Record<string, HostPrepVars> = {};
  if (config.HOST_PREP_FILE) {
    let text: string;
    try {
      text = readFile(config.HOST_PREP_FILE);
    } catch (e) {
      throw new ValidationError('HOST_PREP_FILE', `cannot read ${config.HOST_PREP_FILE}: ${(e as Error).message}`);
    }
    groups = parseHostPrepFile(text);
  }
  return { defaults, groups, kollaSshKeys: config.DEPLOY_HOST_PREP_SSH_KEYS };
}
