/**
 * Python's `if __name__ == '__main__':`. A child imports only the module that
 * defines its target, never the program's entry code — but a module that is
 * both (defines targets and starts processes when loaded) would start
 * processes in every child. Guarding the entry code avoids that:
 *
 * ```ts
 * export function work(name: string) { console.log('hello', name); }
 *
 * runMain(import.meta, async () => {
 *   const p = new Process({ target: work, args: ['bob'] });
 *   p.start();
 *   await p.join();
 * });
 * ```
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtime } from './runtime.js';

/** What identifies a module: its `import.meta`, its URL, or (CommonJS) its file name. */
export type ModuleIdentity = { url: string; main?: boolean } | string;

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

function stripExtension(path: string): string {
  return path.replace(/\.[cm]?[jt]sx?$/, '');
}

/**
 * Whether the module is the program's entry point (the script given to
 * `node`). Always false in a child started by this package: there the entry
 * is the bootstrap, and the target's module is merely imported.
 */
export function isMainModule(module: ModuleIdentity): boolean {
  if (runtime().isChild) return false;
  if (typeof module === 'object' && typeof module.main === 'boolean') return module.main;
  const entry = process.argv[1];
  if (!entry) return false;
  const id = typeof module === 'string' ? module : module.url;
  const file = id.startsWith('file:') ? fileURLToPath(id) : id;
  const a = canonical(file);
  const b = canonical(entry);
  // `node main` may name the entry without its extension.
  return a === b || stripExtension(a) === b;
}

/**
 * Runs `main` only when the module is the program's entry point, and returns
 * its promise (an already resolved one otherwise). An error in `main` is
 * reported as an uncaught error would be, unless the caller awaits the result.
 */
export function runMain(module: ModuleIdentity, main: () => unknown): Promise<void> {
  if (typeof main !== 'function') throw new TypeError('runMain() needs the entry code as a function');
  if (!isMainModule(module)) return Promise.resolve();
  return (async () => {
    await main();
  })();
}
