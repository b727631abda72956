/**
 * Finds the module and export name of an ES module function, synchronously.
 *
 * Node has no public map from a function to the module that defines it, but
 * the V8 inspector does: in the same thread, `node:inspector`'s `Session.post`
 * answers synchronously. `Runtime.getProperties` on the function gives its
 * `[[FunctionLocation]]` (a script id) and `[[Scopes]]`; a short
 * `Debugger.enable` (disabled again at once) reports every script's URL and
 * lets us read the source V8 actually runs (after tsx or ts-jest transpiled
 * it), whose export list es-module-lexer reads with local names. For a plain
 * `.js`/`.mjs` file, a coverage snapshot gives the URL and the file on disk
 * the exports, faster; the debugger is asked only when that does not find
 * the export. The export is
 * then confirmed by identity: the function must be the value of the local
 * binding in the module's scope. Script URLs and export lists are cached per
 * script, results per function (by the caller).
 */
import { createRequire } from 'node:module';

/** Where a function lives, as V8 sees it. */
export interface FunctionSite {
  /** The script's URL: `file:///…` for ES modules, an absolute path for CommonJS and jest modules, `node:…` for built-ins; `''` for eval'd code. */
  url: string;
  /** Kinds of the function's scopes, innermost first, e.g. `['Closure', 'Module', 'Global']`. */
  scopes: string[];
}

/** Outcome of {@link lookupModuleExport}. */
export type InspectorLookup =
  | { found: true; url: string; name: string; verified: boolean }
  | { found: false; reason: 'native' | 'bound' | 'no-url' | 'not-exported' | 'no-inspector'; site?: FunctionSite; detail?: string };

interface RemoteObject {
  type: string;
  subtype?: string;
  className?: string;
  description?: string;
  objectId?: string;
  value?: unknown;
}
interface PropertyDescriptor {
  name: string;
  value?: RemoteObject;
}
interface GetPropertiesResult {
  result: PropertyDescriptor[];
  internalProperties?: PropertyDescriptor[];
}
interface ExportEntry {
  /** Exported name. */
  n: string;
  /** Local binding name, if the export has one. */
  ln: string | undefined;
}
interface InspectorSession {
  connect(): void;
  post(method: string, params: object | undefined, callback: (error: Error | null, result: unknown) => void): void;
  on(event: string, listener: (message: { params: { scriptId: string; url: string } }) => void): void;
}

const require = createRequire(import.meta.url);
const objectGroup = 'mpjs-serialization';
const stashKey = Symbol.for('mpjs.serialization.inspecting');

let session: InspectorSession | null | undefined;
/** scriptId → URL, from `Debugger.scriptParsed`. */
const scriptUrls = new Map<string, string>();
/** scriptId → the module's exports (null when the source is not an ES module). */
const scriptExports = new Map<string, ExportEntry[] | null>();
/** The global object of the main context, which `Runtime.evaluate` sees (differs from ours inside jest's vm contexts). */
let mainGlobal: Record<symbol, unknown> | undefined;

/** Statistics, for tests and benchmarks: how often the expensive steps ran. */
export const inspectorStats = { lookups: 0, debuggerEnables: 0 };

function connect(): InspectorSession | null {
  if (session !== undefined) return session;
  try {
    const { Session } = require('node:inspector') as { Session: new () => InspectorSession };
    const s = new Session();
    s.connect();
    s.on('Debugger.scriptParsed', (message) => {
      scriptUrls.set(message.params.scriptId, message.params.url);
    });
    session = s;
    // node:vm is loaded here, not with the package: few processes ever look a function up.
    const { runInThisContext } = require('node:vm') as typeof import('node:vm');
    mainGlobal = runInThisContext('globalThis') as Record<symbol, unknown>;
  } catch {
    session = null;
  }
  return session;
}

/** `session.post` in the same thread calls back before it returns; this makes that a plain call. */
function post<T>(method: string, params?: object): T {
  const s = session;
  if (!s) throw new Error('inspector session is not connected');
  let done = false;
  let failure: Error | null = null;
  let value: unknown;
  s.post(method, params, (error, result) => {
    done = true;
    failure = error;
    value = result;
  });
  if (!done) throw new Error(`inspector call ${method} did not complete synchronously`);
  if (failure) throw failure;
  return value as T;
}

function internal(props: GetPropertiesResult, name: string): RemoteObject | undefined {
  return props.internalProperties?.find((p) => p.name === name)?.value;
}

/** Reads script URLs (and, while the debugger is on, the source of `scriptId`). */
function learnScript(scriptId: string): void {
  inspectorStats.debuggerEnables++;
  post('Debugger.enable');
  try {
    if (!scriptExports.has(scriptId)) {
      const url = scriptUrls.get(scriptId) ?? '';
      // Built-in modules are checked by requiring them, never by source.
      if (url !== '' && !url.startsWith('node:')) {
        const { scriptSource } = post<{ scriptSource: string }>('Debugger.getScriptSource', { scriptId });
        scriptExports.set(scriptId, readExports(scriptSource));
      }
    }
  } finally {
    post('Debugger.disable');
  }
}

/**
 * Script URLs from a best-effort coverage snapshot: it lists every script
 * with code that ran (a module's top level has), in a few milliseconds,
 * where the first `Debugger.enable` of a process takes tens.
 */
function learnUrlsFromCoverage(): void {
  try {
    const { result } = post<{ result: Array<{ scriptId: string; url: string }> }>('Profiler.getBestEffortCoverage');
    for (const script of result) if (script.url !== '') scriptUrls.set(script.scriptId, script.url);
  } catch {
    // Left to the debugger.
  }
}

/**
 * Files whose exports es-module-lexer reads from disk: JavaScript, and TypeScript (the lexer
 * skips types; a loader's output keeps the export names).
 */
const PLAIN_SCRIPT = /\.(?:m?js|m?ts)$/;

/**
 * The exports of a module, read from its file: only a guess (a loader may
 * have changed the code V8 runs, the file may have changed since), which the
 * identity check of {@link matchExport} confirms or the debugger's view
 * replaces.
 */
function exportsOnDisk(url: string | undefined): ExportEntry[] | null {
  if (url === undefined || !url.startsWith('file:')) return null;
  const path = url.split(/[?#]/, 1)[0]!;
  if (!PLAIN_SCRIPT.test(path)) return null;
  try {
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    const { fileURLToPath } = require('node:url') as typeof import('node:url');
    return readExports(readFileSync(fileURLToPath(path), 'utf8'));
  } catch {
    return null;
  }
}

type Lexer = typeof import('es-module-lexer');
let lexer: Lexer | undefined;

function readExports(source: string): ExportEntry[] | null {
  // Loaded on first use (its WebAssembly costs ~8 ms): a process that only decodes never needs it.
  if (!lexer) {
    lexer = require('es-module-lexer') as Lexer;
    lexer.initSync();
  }
  try {
    const [, exports, , hasModuleSyntax] = lexer.parse(source);
    if (!hasModuleSyntax) return null;
    return exports.map((e) => ({ n: e.n, ln: e.ln }));
  } catch {
    return null;
  }
}

/**
 * Finds the script that defines `fn` and, for an ES module, the name it is
 * exported under. Never throws for a function it cannot place: it says why.
 */
export function lookupModuleExport(fn: Function): InspectorLookup {
  if (!connect()) return { found: false, reason: 'no-inspector' };
  inspectorStats.lookups++;
  try {
    return lookup(fn);
  } catch (error) {
    return { found: false, reason: 'no-inspector', detail: (error as Error)?.message ?? String(error) };
  }
}

function lookup(fn: Function): InspectorLookup {
  const holder = mainGlobal!;
  holder[stashKey] = fn;
  try {
    const { result } = post<{ result: RemoteObject }>('Runtime.evaluate', {
      expression: `globalThis[Symbol.for(${JSON.stringify(stashKey.description)})]`,
      objectGroup,
      silent: true,
    });
    const fnId = result.objectId;
    if (!fnId) return { found: false, reason: 'native' };
    const props = post<GetPropertiesResult>('Runtime.getProperties', { objectId: fnId, ownProperties: true, objectGroup });
    if (internal(props, '[[TargetFunction]]')) return { found: false, reason: 'bound' };
    const location = internal(props, '[[FunctionLocation]]')?.value as { scriptId: string } | undefined;
    if (!location) return { found: false, reason: 'native' };
    const scopeList = scopeObjects(props);
    const site: FunctionSite = { url: '', scopes: scopeList.map((s) => scopeKind(s)) };
    const scriptId = location.scriptId;
    // First the cheap way (the script's URL from a coverage snapshot, its source from disk);
    // where that does not find the export, the way that always can (the debugger's view).
    if (!scriptUrls.has(scriptId)) learnUrlsFromCoverage();
    const fromDisk = scriptExports.has(scriptId) ? undefined : exportsOnDisk(scriptUrls.get(scriptId));
    if (fromDisk) {
      site.url = scriptUrls.get(scriptId)!;
      const quick = matchExport(fn, fnId, fromDisk, scopeList, site);
      if (quick.found) return quick;
    }
    if (!scriptUrls.has(scriptId) || !scriptExports.has(scriptId)) learnScript(scriptId);
    site.url = scriptUrls.get(scriptId) ?? '';
    if (site.url === '') return { found: false, reason: 'no-url', site };
    if (site.url.startsWith('node:')) return { found: false, reason: 'not-exported', site, detail: 'builtin' };
    const exports = scriptExports.get(scriptId);
    if (!exports) return { found: false, reason: 'not-exported', site, detail: 'not-esm' };
    return matchExport(fn, fnId, exports, scopeList, site);
  } finally {
    delete holder[stashKey];
    try {
      post('Runtime.releaseObjectGroup', { objectGroup });
    } catch {
      // Nothing to release.
    }
  }
}

function scopeObjects(props: GetPropertiesResult): RemoteObject[] {
  const scopes = internal(props, '[[Scopes]]');
  if (!scopes?.objectId) return [];
  const list = post<GetPropertiesResult>('Runtime.getProperties', { objectId: scopes.objectId, ownProperties: true, objectGroup });
  return list.result
    .filter((p) => /^\d+$/.test(p.name) && p.value)
    .sort((a, b) => Number(a.name) - Number(b.name))
    .map((p) => p.value!);
}

function matchExport(fn: Function, fnId: string, exports: ExportEntry[], scopes: RemoteObject[], site: FunctionSite): InspectorLookup {
  const moduleScope = scopes.find((s) => scopeKind(s) === 'Module');
  // Only the identity check below decides; this only picks the wording of a refusal
  // and guards the one unverifiable case (an anonymous default export).
  const nested = scopes.some((s) => nestedScopes.has(scopeKind(s)));
  const bindings = new Map<string, RemoteObject>();
  if (moduleScope?.objectId) {
    const vars = post<GetPropertiesResult>('Runtime.getProperties', { objectId: moduleScope.objectId, ownProperties: true, objectGroup });
    for (const v of vars.result) if (v.value?.objectId && v.value.type === 'function') bindings.set(v.name, v.value);
  }
  const name = fn.name;
  const ranked = [...exports].sort((a, b) => rank(a, name) - rank(b, name));
  for (const e of ranked) {
    const binding = e.ln === undefined ? undefined : bindings.get(e.ln);
    if (binding && isSame(fnId, binding.objectId!)) return { found: true, url: site.url, name: e.n, verified: true };
  }
  // V8 hides the binding of an anonymous default export (`export default function () {}`),
  // whose function is named "default": the only thing it can be is that export.
  if (!nested && name === 'default') {
    const dflt = exports.find((e) => e.n === 'default' && (e.ln === undefined || !bindings.has(e.ln)));
    if (dflt) return { found: true, url: site.url, name: 'default', verified: false };
  }
  return { found: false, reason: 'not-exported', site };
}

const nestedScopes = new Set(['Closure', 'Local', 'Catch', 'With', 'Eval']);

/** The kind of a scope from its description: `'Closure (makeAdder)'` → `'Closure'`. */
function scopeKind(scope: RemoteObject): string {
  const d = scope.description ?? '';
  const space = d.indexOf(' ');
  return space < 0 ? d : d.slice(0, space);
}

function rank(e: ExportEntry, name: string): number {
  if (e.ln === name) return 0;
  if (e.n === name) return 1;
  return 2;
}

function isSame(aId: string, bId: string): boolean {
  const r = post<{ result: RemoteObject }>('Runtime.callFunctionOn', {
    objectId: aId,
    functionDeclaration: 'function (other) { return this === other; }',
    arguments: [{ objectId: bId }],
    returnByValue: true,
    silent: true,
  });
  return r.result.value === true;
}
