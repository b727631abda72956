/**
 * How a child interpreter is launched: which executable (`setExecutable()`)
 * and which Node options. By default a child gets the parent's
 * `process.execArgv` (so `node --import tsx main.ts` starts children under the
 * same loader), minus options that would make it run something else or clash
 * (`--eval`, `--test`, `--watch`, `--inspect`…). `setExecArgv()` or the
 * environment variable `MPJS_EXEC_ARGV` replace them, e.g. for a parent run
 * by a test runner whose own options mean nothing to a child.
 */
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ValueError } from '@mpjs/util';

// Node resolved the parent's `--import tsx` against the directory the program
// started in; a child may start elsewhere (the program changed directory), so
// loader specifiers are made absolute against this one (Python's ORIGINAL_DIR).
const originalDir = process.cwd();

/** Environment variable that sets the Node options of children (split on whitespace). */
export const EXEC_ARGV_ENV = 'MPJS_EXEC_ARGV';

interface ExecSettings {
  executable: string | null;
  execArgv: string[] | null;
}

const kExec = Symbol.for('mpjs.process.exec');
type Global = typeof globalThis & { [kExec]?: ExecSettings };

function settings(): ExecSettings {
  const g = globalThis as Global;
  return (g[kExec] ??= { executable: null, execArgv: null });
}

/** Python's `set_executable()`: the Node binary children run (default `process.execPath`). */
export function setExecutable(path: string | null): void {
  if (path !== null && (typeof path !== 'string' || path.length === 0)) {
    throw new ValueError(`setExecutable() needs a path to a Node.js binary, got ${JSON.stringify(path)}`);
  }
  settings().executable = path;
}

/** The Node binary children run. */
export function getExecutable(): string {
  return settings().executable ?? process.execPath;
}

/**
 * Sets the Node options of children (for example `['--import', 'tsx']`), or
 * `null` to go back to the default (the parent's own options, filtered).
 */
export function setExecArgv(args: readonly string[] | null): void {
  if (args !== null && (!Array.isArray(args) || args.some((a) => typeof a !== 'string'))) {
    throw new ValueError('setExecArgv() needs an array of strings (Node options such as ["--import", "tsx"]) or null');
  }
  settings().execArgv = args === null ? null : [...args];
}

/** The Node options a child is started with. */
export function getExecArgv(): string[] {
  const set = settings().execArgv;
  if (set) return absoluteLoaders(set);
  const fromEnv = process.env[EXEC_ARGV_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return absoluteLoaders(fromEnv.trim().split(/\s+/));
  return absoluteLoaders(filterExecArgv(process.execArgv));
}

const loaderOptions = new Set(['--import', '--loader', '--experimental-loader', '--require', '-r']);
const resolved = new Map<string, string>();

/** `--import tsx` → `--import file:///…/tsx/dist/esm/index.mjs`, so it loads from any directory. */
function absoluteLoaders(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!loaderOptions.has(name)) {
      out.push(arg);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) {
      out.push(arg);
      continue;
    }
    const absolute = absoluteSpecifier(value, name === '--require' || name === '-r');
    out.push(eq > 0 ? `${name}=${absolute}` : name, ...(eq > 0 ? [] : [absolute]));
  }
  return out;
}

function absoluteSpecifier(specifier: string, commonjs: boolean): string {
  const key = `${commonjs ? 'r' : 'i'}:${specifier}`;
  const hit = resolved.get(key);
  if (hit !== undefined) return hit;
  let result = specifier;
  if (/^[a-z][a-z0-9+.-]*:/i.test(specifier) || isAbsolute(specifier)) {
    result = specifier;
  } else {
    try {
      const path =
        specifier.startsWith('./') || specifier.startsWith('../')
          ? resolvePath(originalDir, specifier)
          : createRequire(join(originalDir, 'noop.js')).resolve(specifier);
      result = commonjs ? path : pathToFileURL(path).href;
    } catch {
      // Leave it to the child to resolve (and to report what it cannot find).
    }
  }
  resolved.set(key, result);
  return result;
}

// Options that take a value in the next argument when written without `=`.
const dropWithValue = new Set(['-e', '--eval', '-p', '--print', '--watch-path', '--test-name-pattern', '--test-reporter',
  '--test-reporter-destination', '--test-shard', '--test-skip-pattern', '--test-concurrency', '--test-timeout']);
const dropAlone = new Set(['-i', '--interactive', '-c', '--check', '--test', '--watch', '--watch-preserve-output',
  '--test-only', '--experimental-test-coverage']);

/** Removes the options a child must not inherit. */
export function filterExecArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (dropWithValue.has(arg)) {
      i++;
      continue;
    }
    if (dropWithValue.has(name) || dropAlone.has(arg) || dropAlone.has(name)) continue;
    if (/^--(inspect|debug)(-brk|-port|-wait)?$/.test(name)) continue;
    if (name.startsWith('--test-') || name.startsWith('--watch')) continue;
    out.push(arg);
  }
  return out;
}
