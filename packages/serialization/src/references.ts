/**
 * Functions and classes travel by reference, as in Python's pickle: the module
 * that exports them and the export name. The sender finds both by itself
 * (CommonJS: `require.cache`; ES modules: the V8 inspector); the receiver
 * imports the module and takes the export.
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lookupBuiltin, lookupCommonJs, lookupInCommonJsModule, loadedCommonJsExport } from './commonjs-lookup.js';
import { DecodeError, SerializationError } from './errors.js';
import { lookupModuleExport, type FunctionSite, type InspectorLookup } from './inspector-lookup.js';

/** Module and export name of an exported top-level function or class. */
export interface FunctionReference {
  /** Absolute `file://` URL of the source file (or `node:…` for a built-in module, or a package specifier). */
  module: string;
  /** Export name (`'default'` for a default export). */
  name: string;
}

/** fn → its reference, or the message of the refusal. */
const found = new WeakMap<Function, FunctionReference | { refused: string }>();
/** `module\0name` → function, filled by encodes and imports so `decode` can resolve synchronously. */
const knownExports = new Map<string, Function>();
/** module → its namespace, for modules imported by {@link resolveReference}. */
const namespaces = new Map<string, Record<string, unknown>>();
const pendingImports = new Map<string, Promise<Record<string, unknown>>>();

function key(module: string, name: string): string {
  return `${module}\0${name}`;
}

/**
 * Module + export name of an exported top-level function or class; throws a
 * clear {@link SerializationError} otherwise (closures, methods, functions not
 * exported, bound and built-in functions).
 */
export function functionReference(fn: Function): FunctionReference {
  if (typeof fn !== 'function') throw new TypeError(`functionReference() expects a function, got ${typeof fn}`);
  const hit = found.get(fn);
  if (hit) {
    if ('refused' in hit) throw new SerializationError(hit.refused);
    return hit;
  }
  const ref = locate(fn);
  if ('refused' in ref) {
    found.set(fn, ref);
    throw new SerializationError(ref.refused);
  }
  found.set(fn, ref);
  knownExports.set(key(ref.module, ref.name), fn);
  return ref;
}

/**
 * Declares where the functions and classes of a module can be found: each
 * one exported by `namespace` is sent as `module` (the module's URL, usually
 * `import.meta.url`) and its export name, at once, without the lookup
 * {@link functionReference} otherwise makes through the V8 inspector (which
 * costs tens of milliseconds the first time in a process, then a few per
 * function). A package that sends its own exported functions to other
 * processes declares its entry module this way:
 *
 * ```ts
 * import * as self from './index.js';
 * registerModuleExports(import.meta.url, self);
 * ```
 *
 * A function already located keeps the reference it has.
 */
export function registerModuleExports(module: string, namespace: object): void {
  if (typeof module !== 'string' || module.length === 0) throw new TypeError('registerModuleExports() expects the module URL first');
  if (namespace === null || typeof namespace !== 'object') throw new TypeError('registerModuleExports() expects the module namespace second');
  const url = toModuleUrl(module);
  const exports = namespace as Record<string, unknown>;
  for (const name of Object.keys(exports)) {
    let value: unknown;
    try {
      value = exports[name];
    } catch {
      continue; // not initialized yet (a binding still in its temporal dead zone)
    }
    if (typeof value !== 'function' || found.has(value)) continue;
    found.set(value, { module: url, name });
    knownExports.set(key(url, name), value);
  }
}

/** Like {@link functionReference} but returns `undefined` instead of throwing. */
export function tryFunctionReference(fn: Function): FunctionReference | undefined {
  const hit = found.get(fn);
  if (hit) return 'refused' in hit ? undefined : hit;
  try {
    return functionReference(fn);
  } catch {
    return undefined;
  }
}

function locate(fn: Function): FunctionReference | { refused: string } {
  const cjs = lookupCommonJs(fn);
  if (cjs) return cjs;
  const result = lookupModuleExport(fn);
  if (result.found) return { module: toModuleUrl(result.url), name: result.name };
  if (result.site?.url) {
    const url = result.site.url;
    if (url.startsWith('node:')) {
      const builtin = lookupBuiltin(fn, url);
      if (builtin) return builtin;
    } else {
      const path = url.startsWith('file:') ? fileURLToPath(url) : url;
      const late = lookupInCommonJsModule(fn, path);
      if (late) return late;
    }
  }
  return { refused: refusal(fn, result) };
}

/** The file a script came from, as a `file:` URL without the query a loader may add (`?tsx-namespace=…`). */
function toModuleUrl(url: string): string {
  if (url.startsWith('file:')) {
    const u = new URL(url);
    u.search = '';
    u.hash = '';
    return u.href;
  }
  if (url.startsWith('node:')) return url;
  if (isAbsolute(url)) return pathToFileURL(url).href;
  return url;
}

type FunctionKind = 'class' | 'function' | 'arrow function' | 'method' | 'native';

function kindOf(fn: Function): FunctionKind {
  let src: string;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    return 'function';
  }
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) return 'native';
  if (/^class\b/.test(src)) return 'class';
  if (/^(async\s+)?function\b/.test(src)) return 'function';
  if (/^(async\s*)?\(/.test(src) || /^(async\s+)?[\w$]+\s*=>/.test(src)) return 'arrow function';
  return 'method';
}

function where(site: FunctionSite | undefined): string {
  const url = site?.url ?? '';
  if (url.startsWith('file:')) return fileURLToPath(url);
  return url || 'its module';
}

function refusal(fn: Function, result: InspectorLookup & { found: false }): string {
  const name = fn.name;
  // A bound function prints as native code; call it what it is.
  const kind = result.reason === 'bound' ? 'function' : kindOf(fn);
  const label = name ? `${kind === 'native' ? 'built-in function' : kind} "${name}"` : `an anonymous ${kind === 'native' ? 'built-in function' : kind}`;
  const exportHint =
    kind === 'class'
      ? `export class ${name || 'Name'}…`
      : kind === 'arrow function'
        ? `export const ${name || 'name'} = …`
        : `export function ${name || 'name'}…`;
  const file = where(result.site);
  switch (result.reason) {
    case 'native':
      return `${label} cannot be sent by reference: it has no module another process could import; export a function of your own that calls it`;
    case 'bound':
      return `${label} is a bound function and cannot be sent by reference; send the exported function itself and pass its arguments separately`;
    case 'no-url':
      return `${label} was created by eval, new Function or vm without a file name, so another process cannot import it; define it in a module and export it (${exportHint})`;
    case 'no-inspector':
      return `cannot find the module of ${label}: it is not exported by any loaded CommonJS module and the V8 inspector, which locates ES modules, is not available${result.detail ? ` (${result.detail})` : ''}; export it from a CommonJS module or send a value instead`;
    case 'not-exported':
      break;
  }
  if (result.detail === 'builtin') {
    return `${label} belongs to Node.js internals (${file}) and is not an export of a public built-in module, so another process cannot import it; export a function of your own that calls it`;
  }
  if (!name) {
    return `${label} in ${file} cannot be sent by reference; give it a name, define it at the top level of its module and export it (${exportHint}) so another process can import it`;
  }
  const nested = result.site?.scopes.some((s) => s === 'Closure' || s === 'Local' || s === 'Catch' || s === 'With' || s === 'Eval');
  if (kind === 'method') {
    return `${label} (in ${file}) cannot be sent by reference: only exported top-level functions and classes can; export a top-level function that calls it (export function ${name}…) so another process can import it`;
  }
  if (nested) {
    return `${label} is defined inside another function in ${file} (a closure), so another process cannot import it; move it to the top level of its module and export it (${exportHint}) so another process can import it`;
  }
  if (result.detail === 'not-esm') {
    return `${label} is not exported from ${file}; export it (exports.${name} = ${name}, or ${exportHint} in an ES module) so another process can import it`;
  }
  return `${label} is not exported from ${file}; export it (${exportHint}) so another process can import it`;
}

/**
 * Synchronously resolves a reference from what this process already has: functions
 * it encoded, modules imported by {@link resolveReference}, loaded CommonJS and
 * built-in modules. `undefined` if the module is not loaded.
 */
export function resolveLoadedReference(module: string, name: string): Function | undefined {
  const known = knownExports.get(key(module, name));
  if (known) return known;
  const ns = namespaces.get(module);
  if (ns) return exportOf(ns, module, name);
  let filename: string | undefined;
  if (module.startsWith('file:')) {
    try {
      filename = fileURLToPath(module);
    } catch {
      return undefined;
    }
  }
  const value = loadedCommonJsExport(module, name, filename);
  if (typeof value === 'function') {
    knownExports.set(key(module, name), value);
    return value;
  }
  return undefined;
}

/** Whether {@link resolveLoadedReference} would succeed without importing. */
export function isReferenceLoaded(module: string, name: string): boolean {
  try {
    return resolveLoadedReference(module, name) !== undefined;
  } catch {
    return false;
  }
}

function exportOf(ns: Record<string, unknown>, module: string, name: string): Function {
  let value = ns[name];
  // A CommonJS module imported as ESM: named exports Node could not see statically sit on `default`.
  if (typeof value !== 'function') {
    const dflt = ns.default as Record<string, unknown> | undefined;
    if (dflt !== null && (typeof dflt === 'object' || typeof dflt === 'function')) {
      const inner = Object.getOwnPropertyDescriptor(dflt, name);
      if (inner && 'value' in inner && typeof inner.value === 'function') value = inner.value;
    }
  }
  if (typeof value !== 'function') {
    throw new DecodeError(
      value === undefined
        ? `module ${module} has no export named "${name}"; the sender and the receiver must run the same code`
        : `export "${name}" of module ${module} is not a function or class (it is ${typeof value})`,
      { module },
    );
  }
  knownExports.set(key(module, name), value as Function);
  return value as Function;
}

/** Turns a module string from a message into something `import()` accepts, refusing schemes that would fetch or inline code. */
export function importSpecifier(module: string): string {
  if (typeof module !== 'string' || module.length === 0) throw new DecodeError('a reference names no module');
  if (module.startsWith('file:') || module.startsWith('node:')) return module;
  if (isAbsolute(module)) return pathToFileURL(module).href;
  if (/^[a-zA-Z][a-zA-Z\d+.-]*:/.test(module)) {
    throw new DecodeError(`refusing to import ${JSON.stringify(module)}: references may only name file: URLs, node: built-ins or packages`, { module });
  }
  if (module.startsWith('.')) throw new DecodeError(`a reference cannot name a relative module (${JSON.stringify(module)}); use an absolute file: URL`, { module });
  return module;
}

/** Imports `module` once (concurrent callers share the import) and remembers its namespace. */
export function importModule(module: string): Promise<Record<string, unknown>> {
  const ns = namespaces.get(module);
  if (ns) return Promise.resolve(ns);
  let pending = pendingImports.get(module);
  if (!pending) {
    pending = (async () => {
      const specifier = importSpecifier(module);
      let imported: Record<string, unknown>;
      try {
        imported = (await import(specifier)) as Record<string, unknown>;
      } catch (error) {
        throw new DecodeError(`could not import ${module}: ${(error as Error)?.message ?? String(error)}`, { module, cause: error });
      }
      namespaces.set(module, imported);
      return imported;
    })();
    pendingImports.set(module, pending);
    pending.then(
      () => pendingImports.delete(module),
      () => pendingImports.delete(module),
    );
  }
  return pending;
}

/** Imports the module (file URL or package specifier) and returns the export. */
export async function resolveReference(ref: { module: string; name: string }): Promise<Function> {
  if (ref === null || typeof ref !== 'object' || typeof ref.module !== 'string' || typeof ref.name !== 'string') {
    throw new TypeError('resolveReference() expects { module: string, name: string }');
  }
  const loaded = resolveLoadedReference(ref.module, ref.name);
  if (loaded) return loaded;
  const ns = await importModule(ref.module);
  return exportOf(ns, ref.module, ref.name);
}
