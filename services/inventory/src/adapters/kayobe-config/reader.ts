/**
 * Reads a Kayobe configuration directory (`etc/kayobe`) from disk and hands the file contents to the
 * pure importer (domain/kayobe). Only what the importer uses is read: top-level `*.yml|yaml|json`,
 * `inventory/**` and, for the selected environment, `environments/<env>/` (same shape plus
 * `.kayobe-environment`). `kolla/`, hooks and other environments are not read.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve as resolvePath, sep } from 'node:path';
import { ValidationError } from '@stackyard/errors';
import type { ConfigPathPolicy, KayobeConfigSource } from '../../application/ports';
import { importKayobeFiles, type ConfigFile, type ImportOptions, type KayobeImport } from '../../domain/kayobe/config';

/** Refuses a file or directory whose real path leaves `jail` (a symbolic link out of the import root). */
async function confine(jail: string | undefined, p: string): Promise<void> {
  if (!jail) return;
  const real = await realpath(p);
  if (real !== jail && !real.startsWith(jail + sep)) throw new ValidationError('config_path', `${p} links outside the import root`);
}

async function walk(root: string, dir: string, out: ConfigFile[], jail?: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isSymbolicLink()) await confine(jail, p);
    const isDir = e.isDirectory() || (e.isSymbolicLink() && (await stat(p)).isDirectory());
    if (isDir) await walk(root, p, out, jail);
    else out.push({ path: relative(root, p).split(sep).join('/'), text: await readFile(p, 'utf8') });
  }
}

async function topLevel(root: string, dir: string, out: ConfigFile[], jail?: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    if (!/\.(ya?ml|json)$/.test(e.name) && e.name !== '.kayobe-environment') continue;
    const p = join(dir, e.name);
    if (e.isSymbolicLink()) await confine(jail, p);
    if ((await stat(p)).isFile()) out.push({ path: relative(root, p).split(sep).join('/'), text: await readFile(p, 'utf8') });
  }
}

/** Reads the files of a configuration directory that an import needs. */
export async function readKayobeConfigDir(dir: string, environment?: string, jail?: string): Promise<ConfigFile[]> {
  const files: ConfigFile[] = [];
  await topLevel(dir, dir, files, jail);
  await confine(jail, join(dir, 'inventory')).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  });
  await walk(dir, join(dir, 'inventory'), files, jail);
  if (environment) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(environment) || environment.includes('..')) {
      throw new ValidationError('environment', `"${environment}" is not an environment name`);
    }
    const envDir = join(dir, 'environments', environment);
    const exists = await stat(envDir).then((s) => s.isDirectory(), () => false);
    if (exists) {
      await confine(jail, envDir);
      await topLevel(dir, envDir, files, jail);
      await walk(dir, join(envDir, 'inventory'), files, jail);
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
  /** With a root (INVENTORY_IMPORT_ROOT), a file that a symbolic link places outside it is refused. */
  constructor(private readonly root?: string) {}

  async read(dir: string, environment: string | undefined): Promise<ConfigFile[]> {
    const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
    if (!isDir) throw new ValidationError('config_path', `${dir} is not a directory on the inventory host (the path is read by the inventory service, not sent by the client)`);
    try {
      const root = this.root ? await realpath(this.root) : undefined;
      return await readKayobeConfigDir(dir, environment, root);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
        throw new ValidationError('config_path', `cannot read ${dir}: ${(e as Error).message}`);
      }
      throw e;
    }
  }
}

/** Is `p` the root or inside it (both real paths)? */
function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * INVENTORY_IMPORT_ROOT: `config_path` must name a directory inside the root once `..` and symlinks
 * are resolved; a path with a `..` segment is refused outright. No root: any absolute path.
 */
export class RootedConfigPaths implements ConfigPathPolicy {
  constructor(private readonly root: string | undefined) {}

  async resolve(path: string): Promise<string> {
    if (!this.root) return path;
    if (path.split(/[\\/]+/).includes('..')) throw new ValidationError('config_path', `"${path}" must not contain ".." segments`);
    const root = await realpath(this.root).catch(() => {
      throw new ValidationError('config_path', `the import root ${this.root} (INVENTORY_IMPORT_ROOT) does not exist on the inventory host`);
    });
    if (!within(root, resolvePath(path))) throw new ValidationError('config_path', `${path} is outside the import root ${this.root}`);
    const real = await realpath(path).catch(() => {
      throw new ValidationError('config_path', `${path} is not a directory on the inventory host`);
    });
    if (!within(root, real)) throw new ValidationError('config_path', `${path} leads outside the import root ${this.root} (through a symbolic link)`);
    return real;
  }
}
