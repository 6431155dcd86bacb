/**
 * Reads a Kayobe configuration directory (`etc/kayobe`) from disk and hands the file contents to the
 * pure importer (domain/kayobe). Only what the importer uses is read: top-level `*.yml|yaml|json`,
 * `inventory/**` and, for the selected environment, `environments/<env>/` (same shape plus
 * `.kayobe-environment`). `kolla/`, hooks and other environments are not read.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ValidationError } from '@stackyard/errors';
import type { KayobeConfigSource } from '../../application/ports';
import { importKayobeFiles, type ConfigFile, type ImportOptions, type KayobeImport } from '../../domain/kayobe/config';

async function walk(root: string, dir: string, out: ConfigFile[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    const isDir = e.isDirectory() || (e.isSymbolicLink() && (await stat(p)).isDirectory());
    if (isDir) await walk(root, p, out);
    else out.push({ path: relative(root, p).split(sep).join('/'), text: await readFile(p, 'utf8') });
  }
}

async function topLevel(root: string, dir: string, out: ConfigFile[]): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    if (!/\.(ya?ml|json)$/.test(e.name) && e.name !== '.kayobe-environment') continue;
    const p = join(dir, e.name);
    if ((await stat(p)).isFile()) out.push({ path: relative(root, p).split(sep).join('/'), text: await readFile(p, 'utf8') });
  }
}

/** Reads the files of a configuration directory that an import needs. */
export async function readKayobeConfigDir(dir: string, environment?: string): Promise<ConfigFile[]> {
  const files: ConfigFile[] = [];
  await topLevel(dir, dir, files);
  await walk(dir, join(dir, 'inventory'), files);
  if (environment) {
    const envDir = join(dir, 'environments', environment);
    const exists = await stat(envDir).then((s) => s.isDirectory(), () => false);
    if (exists) {
      await topLevel(dir, envDir, files);
      await walk(dir, join(envDir, 'inventory'), files);
    }
  }
  return files;
}

export interface DirImportOptions extends Omit<ImportOptions, 'extraVars'> {
  /** Extra variable files on disk (`-e @file`), read as is; reported by their path. */
  readonly extraVarsFiles?: readonly string[];
}

/** Imports a Kayobe configuration directory. Throws KayobeConfigError when it has errors. */
export async function importKayobeConfig(dir: string, options: DirImportOptions = {}): Promise<KayobeImport> {
  const files = await readKayobeConfigDir(dir, options.environment);
  const extraVars = await Promise.all((options.extraVarsFiles ?? []).map(async (p) => ({ path: p, text: await readFile(p, 'utf8') })));
  return importKayobeFiles(files, { ...options, extraVars });
}

/**
 * The configuration source of ImportKayobeConfig: a directory on the inventory service's own
 * machine. A missing or unreadable directory is a ValidationError on `config_path`.
 */
export class KayobeConfigDirSource implements KayobeConfigSource {
  async read(dir: string, environment: string | undefined): Promise<ConfigFile[]> {
    const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
    if (!isDir) throw new ValidationError('config_path', `${dir} is not a directory on the inventory host (the path is read by the inventory service, not sent by the client)`);
    try {
      return await readKayobeConfigDir(dir, environment);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
        throw new ValidationError('config_path', `cannot read ${dir}: ${(e as Error).message}`);
      }
      throw e;
    }
  }
}
