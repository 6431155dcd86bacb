import { readFileSync } from 'node:fs';
import { parse, YAMLParseError } from 'yaml';
import { z } from '@stackyard/config';
import { ValidationError } from '@stackyard/errors';

const bmc = z.object({ address: z.string().min(1), driver: z.string().default('lab'), credential_ref: z.string().default('') });
const schema = z.object({
  site: z.object({ id: z.string().min(1), name: z.string().default('') }),
  networks: z
    .array(
      z.object({
        name: z.string().min(1),
        cidr: z.string().min(1),
        gateway: z.string().default(''),
        allocation_pool_start: z.string().default(''),
        allocation_pool_end: z.string().default(''),
        vlan: z.number().int().default(0),
        mtu: z.number().int().default(0),
        interface: z.string().default(''),
        groups: z.array(z.string()).min(1),
      }),
    )
    .default([]),
  hosts: z
    .array(
      z.object({
        name: z.string().min(1),
        groups: z.array(z.string()).min(1),
        bmc,
        profile: z.string().default('compute-std'),
        labels: z.record(z.string()).default({}),
      }),
    )
    .min(1),
});

export type SiteFile = z.infer<typeof schema>;

/** Reads a site file; errors name the file, the line (YAML errors) or the field path. */
export function readSiteFile(path: string): SiteFile {
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const line = e.linePos?.[0]?.line;
      throw new ValidationError(line ? `${path}:${line}` : path, e.message.split('\n')[0] ?? e.message);
    }
    throw new ValidationError(path, (e as Error).message);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ValidationError(`${path}: ${i.path.join('.')}`, i.message);
  }
  const names = new Set<string>();
  r.data.hosts.forEach((h, i) => {
    if (names.has(h.name)) throw new ValidationError(`${path}: hosts.${i}.name`, `duplicate host "${h.name}"`);
    names.add(h.name);
  });
  return r.data;
}
