/**
 * `registerType`: how other packages (Connection, Lock, Queue, proxies…) make
 * their objects travel inside messages. Registrations are global: they live in
 * a `Symbol.for`-keyed registry on `globalThis`, so two copies of this package
 * in one process agree on them.
 */
import type { DecodeContext, EncodeContext } from './codec.js';
import { reduce } from './symbols.js';

/** What {@link registerType} takes. */
export interface TypeSpec<T extends object> {
  /** Unique name written into the bytes, e.g. `'mpjs.Connection'`. */
  name: string;
  /** Instances of this class (and of its subclasses) use this spec. */
  type: abstract new (...args: never[]) => T;
  /** Returns plain data standing for `value`; may push handles onto `context.handles`. */
  encode(value: T, context: EncodeContext | undefined): unknown;
  /** Rebuilds the value from what `encode` returned (already decoded). */
  decode(data: unknown, context: DecodeContext | undefined): T;
  /**
   * URL of a module whose import registers this type, usually the registering
   * file's `import.meta.url`. It travels with each value, so a receiver that
   * has not registered the type yet (a child whose target module only
   * type-imports the class) imports it in `decodeAsync` before decoding.
   */
  module?: string;
}

/** A registered spec, as the codec stores it. */
export type AnyTypeSpec = TypeSpec<object>;

interface Registry {
  /** Bumped on every registration so caches keyed by prototype know to refresh. */
  version: number;
  byName: Map<string, AnyTypeSpec>;
  byPrototype: Map<object, AnyTypeSpec>;
  /** Functions declared with `registerConstructor`. */
  constructors: WeakSet<Function>;
}

const registryKey = Symbol.for('mpjs.serialization.registry');

function registry(): Registry {
  const holder = globalThis as { [registryKey]?: Registry };
  let r = holder[registryKey];
  if (!r) {
    r = { version: 0, byName: new Map(), byPrototype: new Map(), constructors: new WeakSet() };
    Object.defineProperty(holder, registryKey, { value: r, enumerable: false, configurable: false, writable: false });
  }
  return r;
}

/**
 * Lets instances of `spec.type` (and its subclasses) travel inside messages:
 * `encode` turns one into plain data (and may push OS handles onto
 * `context.handles`), `decode` rebuilds it on the receiving side. Registering
 * a name again replaces the earlier spec for decoding; both classes keep
 * encoding (two copies of a package register the same name).
 */
export function registerType<T extends object>(spec: TypeSpec<T>): void {
  if (spec === null || typeof spec !== 'object') throw new TypeError('registerType() expects a spec object { name, type, encode, decode }');
  if (typeof spec.name !== 'string' || spec.name.length === 0) throw new TypeError('registerType(): "name" must be a non-empty string, e.g. "mpjs.Connection"');
  if (typeof spec.type !== 'function' || spec.type.prototype === null || typeof spec.type.prototype !== 'object') {
    throw new TypeError(`registerType("${spec.name}"): "type" must be a class`);
  }
  if (typeof spec.encode !== 'function' || typeof spec.decode !== 'function') {
    throw new TypeError(`registerType("${spec.name}"): "encode" and "decode" must be functions`);
  }
  const r = registry();
  if (spec.module !== undefined && (typeof spec.module !== 'string' || spec.module.length === 0)) {
    throw new TypeError(`registerType("${spec.name}"): "module" must be a module URL such as import.meta.url`);
  }
  const stored = { name: spec.name, type: spec.type, encode: spec.encode, decode: spec.decode, module: spec.module } as AnyTypeSpec;
  r.byName.set(spec.name, stored);
  r.byPrototype.set(spec.type.prototype as object, stored);
  r.version++;
}

/** The spec registered under `name`, if any. */
export function registeredTypeByName(name: string): AnyTypeSpec | undefined {
  return registry().byName.get(name);
}

/** The spec for objects whose prototype chain starts at `proto` (the nearest registered class wins). */
export function registeredTypeForPrototype(proto: object | null): AnyTypeSpec | undefined {
  const byPrototype = registry().byPrototype;
  if (byPrototype.size === 0) return undefined;
  for (let p = proto; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    const spec = byPrototype.get(p);
    if (spec) return spec;
  }
  return undefined;
}

/** Changes whenever a type is registered; caches keyed by prototype compare it. */
export function registryVersion(): number {
  return registry().version;
}

/**
 * Declares `fn` (an exported function) as one that `[reduce]()` results may
 * name, like Python's `copyreg.constructor`. A receiver calls only declared
 * functions and classes that define `[reduce]()` themselves, so a message can
 * never make it call an arbitrary function. Returns `fn`.
 */
export function registerConstructor<F extends Function>(fn: F): F {
  if (typeof fn !== 'function') throw new TypeError('registerConstructor() expects a function');
  registry().constructors.add(fn);
  return fn;
}

/** Whether a `[reduce]()` result may name `fn`: a declared constructor, or a class that defines `[reduce]()`. */
export function isReduceCallable(fn: unknown): boolean {
  if (typeof fn !== 'function') return false;
  if (registry().constructors.has(fn)) return true;
  return constructsWithNew(fn);
}

/** Whether `fn` is called with `new` to rebuild a value: a class (or constructor function) whose instances define `[reduce]()`. */
export function constructsWithNew(fn: Function): boolean {
  const proto = (fn as { prototype?: unknown }).prototype;
  return proto !== null && typeof proto === 'object' && typeof (proto as Record<symbol, unknown>)[reduce] === 'function';
}
