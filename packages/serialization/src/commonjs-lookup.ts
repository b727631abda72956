/**
 * Finds functions exported by CommonJS modules (and Node's built-in modules)
 * by looking through `require.cache`: every loaded module's `module.exports`
 * is indexed once, by identity, the first time a lookup misses.
 */
import { builtinModules, createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

interface CjsModule {
  filename: string;
  loaded: boolean;
  exports: unknown;
}

interface Site {
  module: string;
  name: string;
}

const require = createRequire(import.meta.url);
/** Exported function → where it is exported. */
const index = new Map<Function, Site>();
const indexed = new WeakSet<object>();
let indexedCount = 0;

function add(fn: Function, site: Site): void {
  const known = index.get(fn);
  // Prefer the export whose name is the function's own name (the defining module, usually).
  if (!known || (known.name !== fn.name && site.name === fn.name)) index.set(fn, site);
}

function indexModule(m: CjsModule): void {
  const url = pathToFileURL(m.filename).href;
  for (const [name, value] of exportedFunctions(m.exports)) add(value, { module: url, name });
}

/** `[name, function]` pairs of a CommonJS `module.exports` (data properties only: no getter runs). */
export function exportedFunctions(exports: unknown): Array<[string, Function]> {
  const out: Array<[string, Function]> = [];
  if (typeof exports === 'function') out.push(['default', exports]);
  if ((typeof exports === 'object' && exports !== null) || typeof exports === 'function') {
    let keys: string[];
    try {
      keys = Object.keys(exports);
    } catch {
      return out;
    }
    for (const key of keys) {
      const desc = Object.getOwnPropertyDescriptor(exports, key);
      if (desc && 'value' in desc && typeof desc.value === 'function') out.push([key, desc.value as Function]);
    }
  }
  return out;
}

/** The CommonJS module (in `require.cache`) that exports `fn`, if any. */
export function lookupCommonJs(fn: Function): Site | undefined {
  const hit = index.get(fn);
  if (hit) return hit;
  const cache = require.cache as Record<string, CjsModule | undefined>;
  const modules = Object.values(cache);
  if (modules.length !== indexedCount) {
    let complete = 0;
    for (const m of modules) {
      if (!m || indexed.has(m)) {
        complete++;
        continue;
      }
      // A module still running has not assigned all of its exports yet; look again later.
      if (!m.loaded) continue;
      indexModule(m);
      indexed.add(m);
      complete++;
    }
    indexedCount = complete === modules.length ? modules.length : -1;
  }
  return index.get(fn);
}

/** Looks for `fn` among the exports of one CommonJS module given by path (no index, exact). */
export function lookupInCommonJsModule(fn: Function, filename: string): Site | undefined {
  const m = (require.cache as Record<string, CjsModule | undefined>)[filename];
  if (!m) return undefined;
  const url = pathToFileURL(m.filename).href;
  let best: Site | undefined;
  for (const [name, value] of exportedFunctions(m.exports)) {
    if (value !== fn) continue;
    if (!best || name === fn.name) best = { module: url, name };
  }
  return best;
}

/** Looks for `fn` among the exports of a public built-in module (`node:fs`, …). */
export function lookupBuiltin(fn: Function, url: string): Site | undefined {
  const id = url.startsWith('node:') ? url.slice(5) : url;
  if (!builtinModules.includes(id)) return undefined;
  let exports: unknown;
  try {
    exports = require(`node:${id}`);
  } catch {
    return undefined;
  }
  let best: Site | undefined;
  for (const [name, value] of exportedFunctions(exports)) {
    if (value !== fn) continue;
    if (!best || name === fn.name) best = { module: `node:${id}`, name };
  }
  return best;
}

/** Synchronously reads export `name` of an already loaded CommonJS or built-in module, if it is one. */
export function loadedCommonJsExport(moduleUrl: string, name: string, filename: string | undefined): unknown {
  if (moduleUrl.startsWith('node:')) {
    const id = moduleUrl.slice(5);
    if (!builtinModules.includes(id)) return undefined;
    const exports = require(moduleUrl) as Record<string, unknown>;
    return exports[name];
  }
  if (!filename) return undefined;
  const m = (require.cache as Record<string, CjsModule | undefined>)[filename];
  if (!m || !m.loaded) return undefined;
  const exports = m.exports as Record<string, unknown> | null;
  // `module.exports = f` is the default export; so is a compiled `exports.default = f`.
  if (name === 'default' && typeof exports === 'function') return exports;
  if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return undefined;
  const desc = Object.getOwnPropertyDescriptor(exports, name);
  return desc && 'value' in desc ? desc.value : undefined;
}
