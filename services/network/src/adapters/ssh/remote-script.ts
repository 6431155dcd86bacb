import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { RenderedFile } from '@stackyard/proto/network/v1/network';
import type { NetworkEngine } from '../../domain/render';
import { NM_CONNECTIONS_DIR } from '../../domain/kayobe/nm-keyfile';
import { NMSTATE_DIR } from '../../domain/kayobe/nmstate';
import { shellQuote } from '@stackyard/ssh';

export const NETWORKD_DIR = '/etc/systemd/network';

/** The directory each engine writes (Kayobe's roles, reference/kayobe.md §3.7). */
export const ENGINE_DIRS: Readonly<Record<NetworkEngine, string>> = {
  networkd: NETWORKD_DIR,
  nmstate: NMSTATE_DIR,
  'nm-keyfile': NM_CONNECTIONS_DIR,
};

/** Every path the applier wrote last time, on the host (under the apply root). */
export const MANIFEST = '/var/lib/stackyard/network-files';

/** Where the applier may write or remove files: the engines' directories, nothing else. */
const MANAGED_DIRS = [NETWORKD_DIR, NMSTATE_DIR, NM_CONNECTIONS_DIR];

/** NetworkManager ignores keyfiles readable by others: 0600 there, 0644 elsewhere. */
export function modeFor(path: string): '0600' | '0644' {
  return path.startsWith(`${NM_CONNECTIONS_DIR}/`) ? '0600' : '0644';
}

/** `path` under the apply root (`/` writes the real paths). */
export function rooted(root: string, path: string): string {
  return root === '/' ? path : posix.join(root, path);
}

function checkPath(path: string): void {
  if (!path.startsWith('/') || posix.normalize(path) !== path || path.endsWith('/')) throw new Error(`rendered file path ${JSON.stringify(path)} is not a normalised absolute path`);
  if (!MANAGED_DIRS.includes(posix.dirname(path))) throw new Error(`rendered file ${path} is outside ${MANAGED_DIRS.join(', ')}`);
}

/** A `case` pattern matching exactly these words. */
function casePattern(words: readonly string[]): string {
  return words.length ? words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join('|') : "''";
}

/**
 * The POSIX sh script (run by `sh -s`, as root through sudo when configured) that writes the files
 * and removes stale ones:
 * - each file goes to a temporary name in its own directory, gets its mode, then `mv -f` over the
 *   target (a rename: readers see the old or the new file, never half of one);
 * - in each directory written, a file named `<prefix>*` that is not rendered any more is removed, as
 *   Kayobe's systemd-networkd role cleans stale `50-kayobe-*` files (skipped with an empty prefix);
 * - a path listed in the manifest of the previous apply and not rendered now is removed too (keyfiles
 *   carry no prefix; a change of engine leaves the old engine's files behind otherwise);
 * - the manifest is replaced by this apply's list. Removed paths are printed as `removed <path>`.
 */
export function writeScript(files: readonly RenderedFile[], opts: { root: string; prefix: string; engine: NetworkEngine }): string {
  for (const f of files) checkPath(f.path);
  const root = opts.root;
  const paths = files.map((f) => f.path);
  const dirs = [...new Set([ENGINE_DIRS[opts.engine], ...paths.map((p) => posix.dirname(p))])];
  const nonce = randomBytes(6).toString('hex');
  const out = ['set -eu', 'umask 022'];
  for (const d of dirs) out.push(`mkdir -p ${shellQuote(rooted(root, d))}`);
  files.forEach((f, i) => {
    const target = rooted(root, f.path);
    const tmp = posix.join(posix.dirname(target), `.${posix.basename(target)}.stackyard-${nonce}-${i}`);
    const b64 = Buffer.from(f.content, 'utf8').toString('base64').replace(/(.{76})/g, '$1\n');
    out.push(
      `t=${shellQuote(tmp)}`,
      `base64 -d > "$t" <<'STACKYARD_EOF'`,
      ...b64.split('\n').filter(Boolean),
      'STACKYARD_EOF',
      `chmod ${modeFor(f.path)} "$t"`,
      `mv -f "$t" ${shellQuote(target)}`,
    );
  });
  if (opts.prefix) {
    for (const d of dirs) {
      const keep = paths.filter((p) => posix.dirname(p) === d).map((p) => posix.basename(p));
      out.push(
        `for f in ${shellQuote(rooted(root, d))}/${opts.prefix}*; do`,
        '  [ -e "$f" ] || [ -L "$f" ] || continue',
        `  case "\${f##*/}" in ${casePattern(keep)}) continue ;; esac`,
        '  rm -f "$f" && echo "removed $f"',
        'done',
      );
    }
  }
  const manifest = rooted(root, MANIFEST);
  const managed = MANAGED_DIRS.map((d) => `${d}/*`).join('|');
  out.push(
    `m=${shellQuote(manifest)}`,
    'if [ -f "$m" ]; then',
    '  while IFS= read -r p; do',
    '    case "$p" in',
    `      ${casePattern(paths)}|*..*) ;;`,
    `      ${managed}) f=${shellQuote(root === '/' ? '' : root)}"$p"; if [ -e "$f" ] || [ -L "$f" ]; then rm -f "$f" && echo "removed $f"; fi ;;`,
    '    esac',
    '  done < "$m"',
    'fi',
    'mkdir -p "$(dirname "$m")"',
    `printf '%s\\n' ${paths.map(shellQuote).join(' ')} > "$m.tmp"`,
    'mv -f "$m.tmp" "$m"',
  );
  return `${out.join('\n')}\n`;
}

/** Device names from networkd file names `<prefix><device>.network`. */
export function networkdDevices(files: readonly RenderedFile[], prefix: string): string[] {
  const devs = files.map((f) => posix.basename(f.path)).filter((n) => n.endsWith('.network') && n.startsWith(prefix)).map((n) => n.slice(prefix.length, -'.network'.length));
  return [...new Set(devs)];
}

/** Connection ids of keyfiles (`id=` of `[connection]`, else the file name without `.nmconnection`). */
export function keyfileConnections(files: readonly RenderedFile[]): string[] {
  return files
    .filter((f) => f.path.endsWith('.nmconnection'))
    .map((f) => {
      const section = /^\[connection\]\n([\s\S]*?)(?:\n\[|$)/m.exec(f.content)?.[1] ?? '';
      return /^id=(.*)$/m.exec(section)?.[1] ?? posix.basename(f.path, '.nmconnection');
    });
}

/**
 * The command that makes the host use the files (run by `sh -c`, as root through sudo when configured):
 * - networkd: `networkctl reload` (re-reads .netdev/.network files and creates new netdevs), then
 *   `networkctl reconfigure` on each rendered device that exists already (new ones are configured
 *   when they appear);
 * - nmstate: `nmstatectl apply <file>` per file (what Kayobe's nmstate_apply does with libnmstate);
 * - nm-keyfile: `nmcli connection reload`, then `nmcli connection up <id>` per connection in file order.
 * `override` (NETWORK_APPLY_RELOAD_COMMAND) replaces it; `{devices}`, `{files}` and `{connections}` in
 * it become the quoted, space-separated lists.
 */
export function reloadCommand(files: readonly RenderedFile[], opts: { root: string; prefix: string; engine: NetworkEngine; override?: string }): string {
  const devices = networkdDevices(files, opts.prefix);
  const paths = files.map((f) => rooted(opts.root, f.path));
  const connections = keyfileConnections(files);
  const list = (xs: readonly string[]) => xs.map(shellQuote).join(' ');
  if (opts.override) {
    return opts.override.replaceAll('{devices}', list(devices)).replaceAll('{files}', list(paths)).replaceAll('{connections}', list(connections));
  }
  switch (opts.engine) {
    case 'networkd':
      return devices.length
        ? `networkctl reload && for d in ${list(devices)}; do if [ -e "/sys/class/net/$d" ]; then networkctl reconfigure "$d" || exit 1; fi; done`
        : 'networkctl reload';
    case 'nmstate':
      return paths.filter((p) => /\.ya?ml$/.test(p)).map((p) => `nmstatectl apply ${shellQuote(p)}`).join(' && ') || 'true';
    case 'nm-keyfile':
      return ['nmcli connection reload', ...connections.map((c) => `nmcli connection up ${shellQuote(c)}`)].join(' && ');
  }
}
