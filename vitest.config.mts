import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// One vitest run over the workspace. Tests import sources directly (docs/adr/0005): each workspace
// package's "@stackyard/source" export is turned into an alias, so no build step is needed.
const root = import.meta.dirname;
const alias: { find: string | RegExp; replacement: string }[] = [];
for (const group of ['libs', 'services', 'apps']) {
  for (const dir of readdirSync(join(root, group))) {
    const pkgFile = join(root, group, dir, 'package.json');
    if (!existsSync(pkgFile)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { name: string; exports?: Record<string, Record<string, string>> };
    for (const [sub, conds] of Object.entries(pkg.exports ?? {})) {
      const src = conds['@stackyard/source'];
      if (!src) continue;
      if (sub.includes('*')) {
        const [pre, post] = src.split('*');
        alias.push({ find: new RegExp(`^${pkg.name}/(.*)$`), replacement: `${resolve(root, group, dir, pre!)}${pre!.endsWith('/') ? '/' : ''}$1${post}` });
      } else {
        alias.push({ find: new RegExp(`^${pkg.name}${sub === '.' ? '' : sub.slice(1)}$`), replacement: resolve(root, group, dir, src) });
      }
    }
  }
}

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['libs/*/src/**/*.spec.ts', 'services/*/src/**/*.spec.ts', 'apps/*/src/**/*.spec.ts', 'integration-tests/src/**/*.spec.ts', 'bench/**/*.spec.ts'],
    globalSetup: ['libs/testing/src/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    env: { OTEL_SDK_DISABLED: 'true' },
  },
});
