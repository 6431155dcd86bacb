/**
 * A/B of two revisions on this machine (issue 9: "no figure regresses between runs by more than
 * noise"). Figures from different days or machines are not comparable (docs/performance.md: the
 * same commit ran 1.2-2x slower on some days' machines), so a regression is judged only against
 * runs of the other revision, interleaved on the same machine within the same hour:
 *
 *   node --conditions=@stackyard/source --import tsx bench/ab.ts --base <rev> [--runs 3] [--min-noise 5] [--out DIR] -- saga.ts --nodes 1000 --sites 3
 *
 * The head is this checkout as it is (uncommitted changes included); the base is `<rev>` checked
 * out in a temporary git worktree, with this checkout's npm packages when the lockfiles are the
 * same (`npm ci` in the worktree otherwise) and this checkout's bench/ harness, so both sides are
 * measured the same way. Runs alternate base, head, head, base, ... (drift over the hour falls on
 * both sides alike), each with `--json`; then every figure is compared: medians, ranges, change,
 * and a verdict against the noise the runs show (bench/compare.ts). Exits 0 when no key figure is
 * worse beyond noise, 1 when one is, 2 on a usage error or a run that failed or fell short.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareRuns, formatComparison } from './compare';
import { machineLine, type FiguresFile } from './lib';

const ROOT = resolve(__dirname, '..');
const BENCHES = ['saga.ts', 'ironic.ts', 'render.ts', 'event-path.ts'];

function usage(msg: string): never {
  console.error(`bench/ab: ${msg}`);
  console.error('usage: bench/ab.ts --base <rev> [--runs N] [--min-noise PCT] [--out DIR] -- <bench>.ts [bench options]');
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        base: { type: 'string' },
        runs: { type: 'string', default: '3' },
        'min-noise': { type: 'string', default: '5' },
        out: { type: 'string' },
      },
    });
  } catch (e) {
    return usage((e as Error).message);
  }
})();
const RUNS = Number(values.runs);
const MIN_NOISE = Number(values['min-noise']);
if (!values.base) usage('--base <rev> is required (a commit, tag or branch to compare this checkout with)');
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 20) usage(`--runs must be an integer from 1 to 20, got ${values.runs}`);
if (!(MIN_NOISE >= 0 && MIN_NOISE <= 100)) usage(`--min-noise must be a percentage from 0 to 100, got ${values['min-noise']}`);
const [script, ...benchArgs] = positionals;
if (!script || !BENCHES.includes(script)) usage(`after --, name the bench to run: one of ${BENCHES.join(', ')}${script ? ` (got ${script})` : ''}`);
if (benchArgs.includes('--json')) usage('--json is set by bench/ab for every run: leave it out of the bench options');

const git = (args: string[], cwd = ROOT) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

function resolveCommit(rev: string): string {
  try {
    return git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  } catch {
    return usage(`--base ${rev}: no such commit in ${ROOT}`);
  }
}

/**
 * The base revision in a temporary worktree, ready to run: packages, FerretDB's binary, and this
 * checkout's bench/ harness (so a difference is the code's, not the harness's).
 */
function prepareBase(commit: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'stackyard-ab-'));
  git(['worktree', 'add', '--detach', '--force', dir, commit]);
  const remove = () => {
    try {
      git(['worktree', 'remove', '--force', dir]);
    } catch {
      rmSync(dir, { recursive: true, force: true });
      git(['worktree', 'prune']);
    }
  };
  try {
    const sameLock = readFileSync(join(ROOT, 'package-lock.json'), 'utf8') === readFileSync(join(dir, 'package-lock.json'), 'utf8');
    if (sameLock) {
      // Every installed package is this checkout's (linked), except the workspace's own packages:
      // their links are relative (`@stackyard/mongo -> ../../libs/mongo`), so copied as links they
      // resolve to the base's sources.
      const nm = join(dir, 'node_modules');
      mkdirSync(nm);
      for (const e of readdirSync(join(ROOT, 'node_modules'))) {
        if (e === '@stackyard') cpSync(join(ROOT, 'node_modules', e), join(nm, e), { recursive: true, verbatimSymlinks: true });
        else symlinkSync(join(ROOT, 'node_modules', e), join(nm, e));
      }
    } else {
      console.error(`bench/ab: package-lock.json differs at ${commit.slice(0, 10)}: npm ci in the base's worktree...`);
      execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    }
    if (existsSync(join(ROOT, '.stackyard/bin'))) {
      mkdirSync(join(dir, '.stackyard'), { recursive: true });
      symlinkSync(join(ROOT, '.stackyard/bin'), join(dir, '.stackyard/bin'));
    }
    rmSync(join(dir, 'bench'), { recursive: true, force: true });
    cpSync(join(ROOT, 'bench'), join(dir, 'bench'), { recursive: true });
    return { dir, remove };
  } catch (e) {
    remove();
    throw e;
  }
}

/** One bench run in `cwd`, its output in `log`; resolves to its figures (exit 2 when it fails). */
function runOnce(cwd: string, json: string, log: string): Promise<FiguresFile> {
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--conditions=@stackyard/source', '--import', 'tsx', join('bench', script!), ...benchArgs, '--json', json], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stderr.on('data', (b: Buffer) => chunks.push(b));
    child.on('close', (code) => {
      writeFileSync(log, Buffer.concat(chunks));
      if (code !== 0 || !existsSync(json)) {
        console.error(`bench/ab: the run in ${cwd} exited with ${code}; its output is in ${log}:`);
        console.error(Buffer.concat(chunks).toString().split('\n').slice(-15).join('\n'));
        process.exit(2);
      }
      res(JSON.parse(readFileSync(json, 'utf8')) as FiguresFile);
    });
  });
}

async function main() {
  const commit = resolveCommit(values.base!);
  const headCommit = git(['rev-parse', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  const out = values.out ? resolve(values.out) : mkdtempSync(join(tmpdir(), 'stackyard-ab-out-'));
  mkdirSync(out, { recursive: true });
  console.log(`machine: ${machineLine()}`);
  console.log(`a/b: base ${commit.slice(0, 10)} (${values.base}), head ${headCommit.slice(0, 10)}${dirty ? ' with uncommitted changes' : ''}; bench/${script} ${benchArgs.join(' ')}; ${RUNS} run(s) each, alternating; outputs in ${out}`);
  const base = prepareBase(commit);
  const stop = () => {
    base.remove();
    process.exit(2);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const runs: Record<'base' | 'head', FiguresFile[]> = { base: [], head: [] };
  try {
    // base, head, head, base, base, head...: a drift of the machine during the runs weighs on both.
    for (let i = 0; i < 2 * RUNS; i++) {
      const side = Math.floor((i + 1) / 2) % 2 === 0 ? 'base' : 'head';
      const n = runs[side].length + 1;
      const cwd = side === 'base' ? base.dir : ROOT;
      const r = await runOnce(cwd, join(out, `${side}-${n}.json`), join(out, `${side}-${n}.log`));
      const keys = r.figures.filter((f) => f.key).map((f) => `${f.name} ${f.value.toFixed(f.value >= 100 ? 0 : 2)} ${f.unit}`);
      console.log(`  ${side} run ${n}: ${keys.join(', ')}${r.complete ? '' : ' (fell short: see its log)'}`);
      if (!r.complete) {
        console.error(`bench/ab: a ${side} run fell short (nodes not ready, events not handled): its figures are not comparable; see ${join(out, `${side}-${n}.log`)}`);
        process.exitCode = 2;
        return;
      }
      runs[side].push(r);
    }
  } finally {
    base.remove();
  }
  const rows = compareRuns(runs.base, runs.head, MIN_NOISE / 100);
  console.log('');
  console.log(formatComparison(rows));
  console.log('');
  const worse = rows.filter((r) => r.key && r.verdict === 'worse');
  if (RUNS === 1) console.log(`one run per side: noise is taken as ${MIN_NOISE} % (the runs show no spread); --runs 3 or more to judge`);
  console.log(worse.length ? `key figures worse beyond noise: ${worse.map((r) => r.name).join(', ')}` : 'no key figure worse beyond noise');
  process.exitCode = worse.length ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
