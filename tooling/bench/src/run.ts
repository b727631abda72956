/**
 * `pnpm bench [group…]`: runs every workload in src/workloads (or those of the
 * named groups), in Node and in python3 on the same machine, prints one table
 * with the ratio "how many times better mpjs is", and writes results/bench.json.
 *
 * It runs compiled (`node dist/run.js`), with no loader, so the processes the
 * workloads start are plain Node, as they are for a user's compiled program.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Workload } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const python = process.env.PYTHON ?? 'python3';
const wanted = process.argv.slice(2);

interface Row {
  group: string;
  name: string;
  unit: string;
  lowerIsBetter: boolean;
  mpjs: number;
  python: number | null;
  /** > 1 means mpjs is better. */
  ratio: number | null;
  /** Other implementations, Node (`w.others`) and CPython (`w.pythonOthers`), by label. */
  others: Record<string, number>;
}

function runPython(source: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'mpjs-bench-'));
  try {
    const file = join(dir, 'bench.py');
    writeFileSync(file, source);
    const out = execFileSync(python, [file], { encoding: 'utf8', cwd: dir, timeout: 300_000 });
    const last = out.trim().split('\n').pop() ?? '';
    const value = Number(last);
    if (!Number.isFinite(value)) throw new Error(`python printed ${JSON.stringify(last)}, not a number`);
    return value;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fmt(value: number | null): string {
  if (value === null) return '—';
  if (value >= 1000) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toPrecision(3);
}

function ratio(lowerIsBetter: boolean, ours: number, theirs: number): number {
  return lowerIsBetter ? theirs / ours : ours / theirs;
}

// Modules that children and workers load (`*-child`, `*-worker`, `*-tasks`) are not workloads,
// nor is what tsc left in dist/ of a source since deleted.
/** The measurement under way: if the event loop runs dry in the middle of one, a promise was left with nothing to settle it. */
let running: string | undefined;
process.on('beforeExit', () => {
  if (running === undefined) return;
  process.stderr.write(`\nbench: the event loop ran dry during ${running}; still open: ${JSON.stringify(process.getActiveResourcesInfo())}\n`);
});

const files = readdirSync(join(here, 'workloads'))
  .filter((f) => /\.js$/.test(f) && !/-(child|worker|tasks)\.js$/.test(f))
  .filter((f) => existsSync(join(here, '..', 'src', 'workloads', f.replace(/\.js$/, '.ts'))))
  .sort();
const rows: Row[] = [];
for (const file of files) {
  const group = file.replace(/\.js$/, '');
  if (wanted.length > 0 && !wanted.includes(group)) continue;
  const mod = (await import(pathToFileURL(join(here, 'workloads', file)).href)) as { default: Workload[] };
  for (const w of mod.default) {
    process.stderr.write(`${w.group}: ${w.name} … `);
    running = `${w.group}: ${w.name} (mpjs)`;
    const mpjs = await w.node();
    const py = w.python ? runPython(w.python) : null;
    const others: Record<string, number> = {};
    for (const [label, fn] of Object.entries(w.others ?? {})) {
      running = `${w.group}: ${w.name} (${label})`;
      others[label] = await fn();
    }
    running = undefined;
    for (const [label, source] of Object.entries(w.pythonOthers ?? {})) others[label] = runPython(source);
    const row: Row = {
      group: w.group,
      name: w.name,
      unit: w.unit,
      lowerIsBetter: w.lowerIsBetter,
      mpjs,
      python: py,
      ratio: py === null ? null : ratio(w.lowerIsBetter, mpjs, py),
      others,
    };
    rows.push(row);
    process.stderr.write(`${fmt(mpjs)} ${w.unit}${py === null ? '' : ` vs python ${fmt(py)} ${w.unit}`}\n`);
  }
}

const pythonVersion = execFileSync(python, ['--version'], { encoding: 'utf8' }).trim();
const header = ['group', 'workload', 'unit', 'mpjs', 'CPython', 'mpjs vs CPython', 'others (same unit)'];
const table = rows.map((r) => [
  r.group,
  r.name,
  r.unit,
  fmt(r.mpjs),
  fmt(r.python),
  r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
  Object.entries(r.others)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', '),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of table) console.log(line(row));
console.log(
  `\nCPython: ${pythonVersion} doing the same, with the start method mpjs uses (spawn or forkserver: Node has no fork; ` +
    `CPython's fork figure is in others as "CPython fork"); mpjs vs CPython > 1: mpjs is better (faster, or more throughput) by that factor.`,
);

const resultsDir = join(here, '..', 'results');
mkdirSync(resultsDir, { recursive: true });
const machine = { node: process.version, python: pythonVersion, date: new Date().toISOString() };
writeFileSync(join(resultsDir, 'bench.json'), JSON.stringify({ machine, rows }, null, 2));
console.log(`results written to ${join(resultsDir, 'bench.json')}`);
