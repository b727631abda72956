/**
 * `Value` and `SharedArray`: shared C values and arrays guarded by a lock
 * (Python's `multiprocessing.Value` and `Array`, whose results are
 * `Synchronized`, `SynchronizedArray` and `SynchronizedString` wrappers),
 * and `synchronized()` and `copy()`.
 *
 * Every read and write through a wrapper holds its lock (an `RLock` by
 * default) for that one access; a read-modify-write such as `+=` needs the
 * lock held around it, as in Python's `with v.get_lock(): v.value += 1`:
 *
 * ```ts
 * {
 *   using _ = v.holdSync();   // or: await using _ = await v.hold();
 *   v.value += 1;
 * }
 * ```
 */
import { inspect } from 'node:util';
import { Lock, RLock, type AcquireOptions, type AcquireSyncOptions, type Held, type HoldOptions } from '@mpjs/synchronize';
import { describe, kImpl, type AnyCType, type InputOf, type TypeOrCode, type ValueOf } from './ctypes.js';
import { Indexed } from './indexing.js';
import {
  RawArray,
  RawValue,
  rawValueAt,
  type ArrayInit,
  type ArrayValueOf,
  type ElementsOf,
  type SliceOf,
} from './raw.js';
import { StructBase, structLocation, type Fields, type StructType } from './structure.js';

/** The lock of a synchronized object: a `Lock` or an `RLock` (of `@mpjs/synchronize`). */
export type SyncLock = Lock | RLock;

/** Options of {@link Value} and {@link SharedArray}. */
export interface SynchronizedOptions {
  /**
   * `true` (the default): a new `RLock` guards the object; a `Lock` or
   * `RLock`: that lock guards it (share one lock between several objects);
   * `false`: no lock — the constructor returns the raw object
   * (`RawValue`/`RawArray`).
   */
  lock?: boolean | SyncLock;
}

/** A lock given by the caller, checked to be one. */
function checkLock(lock: unknown, fn: string): SyncLock {
  if (lock instanceof Lock || lock instanceof RLock) return lock;
  const l = lock as Partial<Record<'acquire' | 'acquireSync' | 'release' | 'hold' | 'holdSync', unknown>> | null;
  if (l !== null && typeof l === 'object' && ['acquire', 'acquireSync', 'release', 'hold', 'holdSync'].every((m) => typeof l[m as keyof typeof l] === 'function')) {
    return lock as SyncLock;
  }
  throw new TypeError(`${fn}: "lock" must be true, false, a Lock or an RLock, got ${describe(lock)}`);
}

/** The lock an option asks for: `true` for a new RLock (made by the caller once the object exists), `null` for none. */
function lockFrom(option: unknown, fn: string): SyncLock | true | null {
  if (option === undefined || option === true) return true;
  if (option === false) return null;
  return checkLock(option, fn);
}

function checkOptions(options: unknown, fn: string): SynchronizedOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') throw new TypeError(`${fn}: options must be an object such as { lock }, got ${describe(options)}`);
  return options as SynchronizedOptions;
}

/** A wrapper to build around existing objects instead of allocating (internal): set just before `new`. */
let pendingWrap: { obj: RawValue | RawArray; lock: SyncLock } | null = null;

function takeWrap(): { obj: RawValue | RawArray; lock: SyncLock } | null {
  const wrap = pendingWrap;
  pendingWrap = null;
  return wrap;
}

// ---- structures with locked fields ---------------------------------------

const kTarget = Symbol('mpjs.sharedctypes.target');
const kGuard = Symbol('mpjs.sharedctypes.guard');

interface LockedStruct {
  readonly [kTarget]: Record<string, unknown>;
  readonly [kGuard]: SyncLock;
}

const lockedClasses = new WeakMap<AnyCType, new (target: object, lock: SyncLock) => LockedStruct>();

/**
 * A structure whose fields each take the lock (Python's synchronized
 * structure, with one property per field).
 */
function lockedStruct(type: StructType<Fields>, target: object, lock: SyncLock): object {
  let Locked = lockedClasses.get(type);
  if (Locked === undefined) {
    class LockedFields implements LockedStruct {
      readonly [kTarget]: Record<string, unknown>;
      readonly [kGuard]: SyncLock;
      constructor(t: object, l: SyncLock) {
        this[kTarget] = t as Record<string, unknown>;
        this[kGuard] = l;
      }
      toJSON(): unknown {
        this[kGuard].acquireSync();
        try {
          return (this[kTarget] as unknown as StructBase).toJSON();
        } finally {
          this[kGuard].release();
        }
      }
      toString(): string {
        return `synchronized ${String(this[kTarget])}`;
      }
      [inspect.custom](depth: number, options: object, inspectFn: typeof inspect): string {
        return `${type.name} ${inspectFn(this.toJSON(), { ...options, depth: depth - 1 })}`;
      }
    }
    for (const { name } of type.fields) {
      Object.defineProperty(LockedFields.prototype, name, {
        enumerable: true,
        get(this: LockedStruct) {
          const l = this[kGuard];
          l.acquireSync();
          try {
            return this[kTarget][name];
          } finally {
            l.release();
          }
        },
        set(this: LockedStruct, value: unknown) {
          const l = this[kGuard];
          l.acquireSync();
          try {
            this[kTarget][name] = value;
          } finally {
            l.release();
          }
        },
      });
    }
    Object.defineProperty(LockedFields, 'name', { value: `Synchronized${type.name}` });
    Locked = LockedFields;
    lockedClasses.set(type, Locked);
  }
  return new Locked(target, lock);
}

// ---- Value ---------------------------------------------------------------

/**
 * A C value in shared memory guarded by a lock (Python's
 * `multiprocessing.Value`, a `Synchronized` wrapper). `value` reads and
 * writes under the lock; for a structure type it is the structure, each
 * field read and written under the lock.
 */
class SynchronizedValue<C extends TypeOrCode = TypeOrCode> {
  readonly #obj!: RawValue<C>;
  readonly #lock!: SyncLock;
  /** The locked view of a structure value, made once. */
  readonly #struct!: object | null;

  constructor(typeOrCode: C, value?: InputOf<C>, options?: SynchronizedOptions) {
    const wrap = takeWrap();
    let obj: RawValue<C>;
    let lock: SyncLock;
    if (wrap !== null) {
      obj = wrap.obj as RawValue<C>;
      lock = wrap.lock;
    } else {
      const opts = checkOptions(options, 'Value');
      const chosen = lockFrom(opts.lock, 'Value');
      obj = new RawValue(typeOrCode, value);
      if (chosen === null) return obj as unknown as this;
      lock = chosen === true ? new RLock() : chosen;
    }
    this.#obj = obj;
    this.#lock = lock;
    const type = obj.type;
    this.#struct = type[kImpl].kind === 'struct' ? lockedStruct(type as StructType<Fields>, obj.value as object, lock) : null;
  }

  /** The value, read under the lock; for a structure, the structure with locked fields. */
  get value(): ValueOf<C> {
    if (this.#struct !== null) return this.#struct as ValueOf<C>;
    const lock = this.#lock;
    lock.acquireSync();
    try {
      return this.#obj.value;
    } finally {
      lock.release();
    }
  }

  /** Writes the value under the lock. */
  set value(value: InputOf<C>) {
    const lock = this.#lock;
    lock.acquireSync();
    try {
      this.#obj.value = value;
    } finally {
      lock.release();
    }
  }

  /** The C type of the value. */
  get type(): AnyCType {
    return this.#obj.type;
  }

  /** The raw object the wrapper guards (Python's `get_obj()`). */
  getObj(): RawValue<C> {
    return this.#obj;
  }

  /** The lock (Python's `get_lock()`). */
  getLock(): SyncLock {
    return this.#lock;
  }

  /** Acquires the lock without blocking the event loop (see `Lock.acquire`). */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /** Acquires the lock, blocking the thread (see `Lock.acquireSync`). */
  acquireSync(options?: AcquireSyncOptions): boolean {
    return this.#lock.acquireSync(options);
  }

  /** Releases the lock. */
  release(): void {
    this.#lock.release();
  }

  /** Python's `with v:`: `await using _ = await v.hold()` holds the lock to the end of the scope. */
  hold(options?: HoldOptions): Promise<Held> {
    return this.#lock.hold(options);
  }

  /** Python's `with v:` (blocking form): `using _ = v.holdSync()` holds the lock to the end of the scope. */
  holdSync(options?: Omit<HoldOptions, 'signal'>): Held {
    return this.#lock.holdSync(options);
  }

  /** The value as plain data, read under the lock. */
  toJSON(): unknown {
    const lock = this.#lock;
    lock.acquireSync();
    try {
      return this.#obj.toJSON();
    } finally {
      lock.release();
    }
  }

  /** `<Synchronized wrapper for c_int(7)>`, as Python shows it. */
  toString(): string {
    const lock = this.#lock;
    lock.acquireSync();
    try {
      return `<Synchronized wrapper for ${String(this.#obj)}>`;
    } finally {
      lock.release();
    }
  }

  /** @internal */
  [inspect.custom](depth: number, options: object, inspectFn: typeof inspect): string {
    return `Value(${this.#obj.type.name}, ${inspectFn(this.value, { ...options, depth: depth - 1 })})`;
  }
}

/** The constructor of {@link Value}: with `{ lock: false }` it returns a `RawValue`. */
export interface ValueConstructor {
  /** No lock: the raw value (Python's `Value(…, lock=False)`). */
  new <C extends TypeOrCode>(typeOrCode: C, value: InputOf<C> | undefined, options: { lock: false }): RawValue<C>;
  /**
   * A value in shared memory guarded by `options.lock` (a new `RLock` by
   * default, or the `Lock`/`RLock` given).
   */
  new <C extends TypeOrCode>(typeOrCode: C, value?: InputOf<C>, options?: SynchronizedOptions): SynchronizedValue<C>;
  readonly prototype: SynchronizedValue;
}

/**
 * A C value in shared memory guarded by a lock (Python's
 * `multiprocessing.Value(typecode_or_type, *args, lock=True)`):
 *
 * ```ts
 * const n = new Value('i', 7);             // a new RLock guards it
 * const x = new Value(c_double, 1 / 3, { lock: false });   // a RawValue
 * const s = new Value('d', 0, { lock });   // guarded by a Lock you share
 * ```
 */
export const Value = SynchronizedValue as unknown as ValueConstructor;
/** A {@link Value} (a synchronized wrapper of a `RawValue`). */
export type Value<C extends TypeOrCode = TypeOrCode> = SynchronizedValue<C>;

// ---- SharedArray ---------------------------------------------------------

/**
 * A C array in shared memory guarded by a lock (Python's
 * `multiprocessing.Array`, a `SynchronizedArray` — or `SynchronizedString`
 * for `c_char`, with `value` and `raw`). Each `get`/`set`/`a[i]` holds the lock
 * for that access; `slice()`, `value`, `raw` and `toJSON()` hold it while
 * they copy. Structure elements are views: hold the lock yourself while you
 * change their fields if other processes do too.
 */
class SynchronizedArray<C extends TypeOrCode = TypeOrCode> extends Indexed implements Iterable<ValueOf<C>> {
  /** Elements by index under the lock (negative counts from the end); out of range throws `RangeError`. */
  [index: number]: ValueOf<C>;

  readonly #obj!: RawArray<C>;
  readonly #lock!: SyncLock;

  constructor(typeOrCode: C, sizeOrInitializer: number | ArrayInit<C>, options?: SynchronizedOptions) {
    super();
    const wrap = takeWrap();
    if (wrap !== null) {
      this.#obj = wrap.obj as RawArray<C>;
      this.#lock = wrap.lock;
      return;
    }
    const opts = checkOptions(options, 'SharedArray');
    const lock = lockFrom(opts.lock, 'SharedArray');
    const obj = new RawArray(typeOrCode, sizeOrInitializer);
    if (lock === null) return obj as unknown as this;
    this.#obj = obj;
    this.#lock = lock === true ? new RLock() : lock;
  }

  /** Number of elements (no lock needed: it never changes). */
  get length(): number {
    return this.#obj.length;
  }

  /** The element type. */
  get type(): AnyCType {
    return this.#obj.type;
  }

  /** The element at `index`, read under the lock. */
  get(index: number): ValueOf<C> {
    const lock = this.#lock;
    lock.acquireSync();
    try {
      return this.#obj.get(index);
    } finally {
      lock.release();
    }
  }

  /** Sets the element at `index` under the lock. */
  set(index: number, value: InputOf<C>): void {
    const lock = this.#lock;
    lock.acquireSync();
    try {
      this.#obj.set(index, value);
    } finally {
      lock.release();
    }
  }

  /** A copy of a range, taken under the lock (see `RawArray.slice`). */
  slice(start?: number, end?: number): SliceOf<C> {
    const lock = this.#lock;
    lock.acquireSync();
    try {
      return this.#obj.slice(start, end);
    } finally {
      lock.release();
    }
  }

  /** Iterates the elements, each read under the lock. */
  *[Symbol.iterator](): IterableIterator<ValueOf<C>> {
    for (let i = 0; i < this.#obj.length; i++) yield this.get(i);
  }

  /**
   * A typed array over the shared elements, for bulk work (see
   * `RawArray.typed`). It bypasses the lock: hold it (`using _ = a.holdSync()`)
   * while you use the view if other processes write too.
   */
  get typed(): ElementsOf<C> {
    return this.#obj.typed;
  }

  /** For `c_char`/`c_wchar` arrays: the string value (see `RawArray.value`), under the lock. */
  get value(): ArrayValueOf<C> {
    const lock = this.#lock;
    lock.acquireSync();
    try {
      return this.#obj.value;
    } finally {
      lock.release();
    }
  }

  set value(value: ArrayValueOf<C> | Uint8Array | string) {
    const lock = this.#lock;
    lock.acquireSync();
    try {
      this.#obj.value = value;
    } finally {
      lock.release();
    }
  }

  /** For `c_char` arrays: all the bytes (see `RawArray.raw`), under the lock. */
  get raw(): Buffer {
    const lock = this.#lock;
    lock.acquireSync();
    try {
      return this.#obj.raw;
    } finally {
      lock.release();
    }
  }

  set raw(value: Uint8Array | string) {
    const lock = this.#lock;
    lock.acquireSync();
    try {
      this.#obj.raw = value;
    } finally {
      lock.release();
    }
  }

  /** The raw array the wrapper guards (Python's `get_obj()`). */
  getObj(): RawArray<C> {
    return this.#obj;
  }

  /** The lock (Python's `get_lock()`). */
  getLock(): SyncLock {
    return this.#lock;
  }

  /** Acquires the lock without blocking the event loop. */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /** Acquires the lock, blocking the thread. */
  acquireSync(options?: AcquireSyncOptions): boolean {
    return this.#lock.acquireSync(options);
  }

  /** Releases the lock. */
  release(): void {
    this.#lock.release();
  }

  /** Python's `with a:`: `await using _ = await a.hold()`. */
  hold(options?: HoldOptions): Promise<Held> {
    return this.#lock.hold(options);
  }

  /** Python's `with a:` (blocking form): `using _ = a.holdSync()`. */
  holdSync(options?: Omit<HoldOptions, 'signal'>): Held {
    return this.#lock.holdSync(options);
  }

  /** The elements as plain data, under the lock. */
  toJSON(): unknown {
    const lock = this.#lock;
    lock.acquireSync();
    try {
      return this.#obj.toJSON();
    } finally {
      lock.release();
    }
  }

  /** @internal */
  [inspect.custom](depth: number, options: object, inspectFn: typeof inspect): string {
    return `SharedArray(${this.#obj.type.name}, ${inspectFn(this.slice(), { ...options, depth: depth - 1 })})`;
  }
}

/** The constructor of {@link SharedArray}: with `{ lock: false }` it returns a `RawArray`. */
export interface SharedArrayConstructor {
  /** No lock: the raw array (Python's `Array(…, lock=False)`). */
  new <C extends TypeOrCode>(typeOrCode: C, sizeOrInitializer: number | ArrayInit<C>, options: { lock: false }): RawArray<C>;
  /** An array in shared memory guarded by `options.lock` (a new `RLock` by default, or the `Lock`/`RLock` given). */
  new <C extends TypeOrCode>(typeOrCode: C, sizeOrInitializer: number | ArrayInit<C>, options?: SynchronizedOptions): SynchronizedArray<C>;
  readonly prototype: SynchronizedArray;
}

/**
 * A C array in shared memory guarded by a lock (Python's
 * `multiprocessing.Array(typecode_or_type, size_or_initializer, lock=True)`;
 * named `SharedArray` so as not to shadow JavaScript's `Array`):
 *
 * ```ts
 * const a = new SharedArray('i', [1, 2, 3]);
 * a[0] = -a[0];                       // each access holds the lock
 * const s = new SharedArray('c', Buffer.from('hello world'), { lock });
 * s.value = s.value.toString().toUpperCase();
 * ```
 */
export const SharedArray = SynchronizedArray as unknown as SharedArrayConstructor;
/** A {@link SharedArray} (a synchronized wrapper of a `RawArray`). */
export type SharedArray<C extends TypeOrCode = TypeOrCode> = SynchronizedArray<C>;

/** Whether `value` is a {@link Value} or a {@link SharedArray}. */
export function isSynchronized(value: unknown): value is Value | SharedArray {
  return value instanceof SynchronizedValue || value instanceof SynchronizedArray;
}

/** Builds a wrapper around existing objects (internal: `synchronized()` and travel). */
export function wrap<O extends RawValue | RawArray>(obj: O, lock: SyncLock): O extends RawArray<infer C> ? SharedArray<C> : O extends RawValue<infer C> ? Value<C> : never {
  pendingWrap = { obj, lock };
  try {
    const type = obj.type;
    const made = obj instanceof RawArray ? new SynchronizedArray(type, 0) : new SynchronizedValue(type);
    return made as never;
  } finally {
    pendingWrap = null;
  }
}

/**
 * A process-safe wrapper around a raw object (Python's
 * `sharedctypes.synchronized(obj, lock=None)`): a {@link Value} for a
 * `RawValue` or a structure, a {@link SharedArray} for a `RawArray`, guarded
 * by `lock` (a new `RLock` when omitted).
 */
export function synchronized<C extends TypeOrCode>(obj: RawArray<C>, lock?: SyncLock | null): SharedArray<C>;
export function synchronized<C extends TypeOrCode>(obj: RawValue<C>, lock?: SyncLock | null): Value<C>;
export function synchronized<F extends Fields>(obj: StructBase & object, lock?: SyncLock | null): Value<StructType<F>>;
export function synchronized(obj: RawValue | RawArray | StructBase, lock?: SyncLock | null): Value | SharedArray {
  if (isSynchronized(obj)) {
    throw new TypeError('synchronized: the object is synchronized already; pass its getObj() to wrap it with another lock');
  }
  const guard = lock === undefined || lock === null ? new RLock() : checkLock(lock, 'synchronized');
  if (obj instanceof RawArray) return wrap(obj, guard);
  if (obj instanceof RawValue) return wrap(obj, guard);
  if (obj instanceof StructBase) {
    const { region, offset } = structLocation(obj);
    return wrap(rawValueAt(obj.constructor as StructType<Fields>, region, offset), guard);
  }
  throw new TypeError(`synchronized: expected a RawValue, a RawArray or a structure instance, got ${describe(obj)}`);
}

/**
 * A new raw object in shared memory holding a copy of `obj` (Python's
 * `sharedctypes.copy(obj)`): a `RawValue` for a value or a structure
 * instance, a `RawArray` for an array. A synchronized object is copied under
 * its lock.
 */
export function copy<C extends TypeOrCode>(obj: RawArray<C> | SharedArray<C>): RawArray<C>;
export function copy<C extends TypeOrCode>(obj: RawValue<C> | Value<C>): RawValue<C>;
export function copy<F extends Fields>(obj: StructBase & object): RawValue<StructType<F>>;
export function copy(obj: RawValue | RawArray | Value | SharedArray | StructBase): RawValue | RawArray {
  if (isSynchronized(obj)) {
    const lock = obj.getLock();
    lock.acquireSync();
    try {
      return copy(obj.getObj() as RawValue);
    } finally {
      lock.release();
    }
  }
  if (obj instanceof RawArray) {
    const out = new RawArray(obj.type, obj.length);
    out.bytes.set(obj.bytes);
    return out;
  }
  if (obj instanceof RawValue) {
    const out = new RawValue(obj.type);
    out.bytes.set(obj.bytes);
    return out;
  }
  if (obj instanceof StructBase) {
    const type = obj.constructor as StructType<Fields>;
    const out = new RawValue(type);
    const { region, offset } = structLocation(obj);
    out.bytes.set(new Uint8Array(region.buffer, offset, type.size));
    return out;
  }
  throw new TypeError(`copy: expected a RawValue, a RawArray, a Value, a SharedArray or a structure instance, got ${describe(obj)}`);
}
