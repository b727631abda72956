/**
 * `RawValue` and `RawArray`: C values and arrays allocated from shared
 * memory, with no lock (Python's `multiprocessing.sharedctypes.RawValue` and
 * `RawArray`). Pass them to a child `Process` as arguments (or over a `Pipe`)
 * and both processes read and write the same bytes.
 */
import { inspect } from 'node:util';
import { ValueError } from '@mpjs/util';
import {
  describe,
  kImpl,
  resolveType,
  c_char,
  c_wchar,
  type AnyCType,
  type CType,
  type Elements,
  type InputOf,
  type TypeCode,
  type TypeImpl,
  type TypeOrCode,
  type ValueOf,
} from './ctypes.js';
import { Indexed } from './indexing.js';
import { allocate, localRegion, type Region } from './memory.js';

/** Typed array classes behind each typecode. */
export interface TypeCodeElements {
  b: Int8Array;
  B: Uint8Array;
  h: Int16Array;
  H: Uint16Array;
  i: Int32Array;
  I: Uint32Array;
  l: BigInt64Array;
  L: BigUint64Array;
  q: BigInt64Array;
  Q: BigUint64Array;
  f: Float32Array;
  d: Float64Array;
  c: Uint8Array;
  u: Uint32Array;
}

/** The typed array over the elements of an array of `C`. */
export type ElementsOf<C> = C extends TypeCode ? TypeCodeElements[C] : Elements;

/** What `value` of an array of `C` is: bytes for `c_char`, a string for `c_wchar`. */
export type ArrayValueOf<C> = C extends 'c' | typeof c_char ? Buffer : C extends 'u' | typeof c_wchar ? string : never;

/** What `slice()` of an array of `C` returns: a `Buffer` for `c_char`, a string for `c_wchar`, else an array. */
export type SliceOf<C> = C extends 'c' | typeof c_char ? Buffer : C extends 'u' | typeof c_wchar ? string : Array<ValueOf<C>>;

/** What initializes an array of `C`: its elements (bytes or a string for `c_char`, a string for `c_wchar`). */
export type ArrayInit<C> = Iterable<InputOf<C>> | ArrayLike<InputOf<C>> | (C extends 'c' | typeof c_char ? string : never);

/** Where a raw object lives (internal): its type, memory and, for arrays, its length. */
export interface RawLocation {
  readonly type: AnyCType;
  readonly region: Region;
  readonly offset: number;
  /** Element count of an array; `undefined` for a value. */
  readonly length: number | undefined;
}

/** A view to build instead of allocating (internal): set just before `new`. */
let pendingView: { region: Region; offset: number } | null = null;

function takeView(size: number): { region: Region; offset: number } {
  const view = pendingView;
  if (view !== null) {
    pendingView = null;
    return view;
  }
  const { arena, offset } = allocate(size);
  return { region: arena, offset };
}

/** Typed array over `length` elements at `offset`, or `null` when the type is composite or the offset misaligned. */
function elementsAt(impl: TypeImpl, region: Region, offset: number, length: number): Elements | null {
  const ctor = impl.elements;
  if (ctor === null || offset % ctor.BYTES_PER_ELEMENT !== 0) return null;
  return new ctor(region.buffer, offset, length);
}

let locateValue: (v: RawValue) => RawLocation;
let locateArray: (a: RawArray) => RawLocation;

/**
 * A C value in shared memory, without a lock (Python's `RawValue`).
 *
 * ```ts
 * const v = new RawValue('i', 7);
 * v.value **= 2;   // 49, seen by every process the value was passed to
 * ```
 *
 * For a structure type, `value` is the structure itself, read and written in
 * place (`v.value.x = 1`); assigning `v.value = { x: 1, y: 2 }` copies fields.
 */
export class RawValue<C extends TypeOrCode = TypeOrCode> {
  readonly #type: AnyCType;
  readonly #impl: TypeImpl;
  readonly #region: Region;
  readonly #offset: number;
  /** One-element typed array for scalars (the fast path), else `null`. */
  readonly #cell: Elements | null;
  readonly #from: ((element: number | bigint) => unknown) | null;
  readonly #to: ((value: unknown) => number | bigint) | null;
  /** The in-place view of a composite value, made once. */
  readonly #view: unknown;

  /**
   * @param typeOrCode A typecode (`'i'`, `'d'`, `'c'`…) or a type (`c_int`, a `Structure`, `arrayOf(…)`).
   * @param value The initial value; omitted, the memory is zero (0, `false`, a zero byte, all-zero fields).
   */
  constructor(typeOrCode: C, value?: InputOf<C>) {
    const type = resolveType(typeOrCode, 'RawValue');
    const impl = type[kImpl];
    const { region, offset } = takeView(impl.size);
    this.#type = type;
    this.#impl = impl;
    this.#region = region;
    this.#offset = offset;
    this.#cell = elementsAt(impl, region, offset, 1);
    this.#from = impl.fromElement;
    this.#to = impl.toElement;
    this.#view = impl.kind === 'scalar' ? undefined : impl.load(region, offset);
    if (value !== undefined) this.value = value;
  }

  static {
    locateValue = (v) => ({ type: v.#type, region: v.#region, offset: v.#offset, length: undefined });
  }

  /** The value; for structure and array types, the object itself (changed in place). */
  get value(): ValueOf<C> {
    const cell = this.#cell;
    if (cell !== null) {
      const e = cell[0]!;
      return (this.#from === null ? e : this.#from(e)) as ValueOf<C>;
    }
    return (this.#impl.kind === 'scalar' ? this.#impl.load(this.#region, this.#offset) : this.#view) as ValueOf<C>;
  }

  set value(value: InputOf<C>) {
    const cell = this.#cell;
    if (cell !== null) cell[0] = this.#to!(value);
    else this.#impl.store(this.#region, this.#offset, value);
  }

  /** The C type of the value. */
  get type(): AnyCType {
    return this.#type;
  }

  /** The bytes of the value in shared memory (a view, not a copy). */
  get bytes(): Uint8Array {
    return new Uint8Array(this.#region.buffer, this.#offset, this.#impl.size);
  }

  /** The value as plain data. */
  toJSON(): unknown {
    return toPlain(this.value);
  }

  /** `c_int(7)`, as Python shows a ctypes value. */
  toString(): string {
    return `${this.#type.name}(${String(this.value)})`;
  }

  /** @internal */
  [inspect.custom](depth: number, options: object, inspectFn: typeof inspect): string {
    return `RawValue(${this.#type.name}, ${inspectFn(this.value, { ...options, depth: depth - 1 })})`;
  }
}

/** Plain data: structures and arrays through their `toJSON` (bigints and `Buffer`s stay as they are). */
function toPlain(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return (value as { toJSON(): unknown }).toJSON();
  }
  return value;
}

/** Python's slice bounds: negative counts from the end, out of range clamps. */
function sliceBound(value: number | undefined, length: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`slice: bounds must be numbers, got ${describe(value)}`);
  const n = Math.trunc(value);
  return n < 0 ? Math.max(0, n + length) : Math.min(n, length);
}

/**
 * A C array in shared memory, without a lock (Python's `RawArray`). Index it
 * like a typed array (`a[i]`, `a[-1]`, `a.get(i)`, `a.set(i, v)`), iterate it,
 * copy a range with `slice()`, or work in bulk on `typed`, a typed array over
 * the shared elements.
 *
 * ```ts
 * const a = new RawArray('d', [1.5, 2.5, 3.5]);
 * a[0] = 10;
 * a.typed.fill(0, 1);          // [10, 0, 0]
 * const s = new RawArray('c', Buffer.from('hello'));
 * s.value.toString();          // 'hello'
 * ```
 */
export class RawArray<C extends TypeOrCode = TypeOrCode> extends Indexed implements Iterable<ValueOf<C>> {
  /** Elements by index (negative counts from the end); out of range throws `RangeError` (Python's `IndexError`). */
  [index: number]: ValueOf<C>;

  readonly #type: AnyCType;
  readonly #impl: TypeImpl;
  readonly #region: Region;
  readonly #offset: number;
  readonly #length: number;
  readonly #elements: Elements | null;
  readonly #from: ((element: number | bigint) => unknown) | null;
  readonly #to: ((value: unknown) => number | bigint) | null;

  /**
   * @param typeOrCode The element typecode (`'i'`, `'d'`, `'c'`…) or type (`c_int`, a `Structure`…).
   * @param sizeOrInitializer A length (the array starts zeroed), or the elements
   *   (any iterable or array-like; for `'c'` also a string, encoded as UTF-8).
   */
  constructor(typeOrCode: C, sizeOrInitializer: number | ArrayInit<C>) {
    super();
    const type = resolveType(typeOrCode, 'RawArray');
    const impl = type[kImpl];
    let init: ArrayLike<unknown> | undefined;
    let length: number;
    if (typeof sizeOrInitializer === 'number') {
      if (!Number.isInteger(sizeOrInitializer) || sizeOrInitializer < 0) {
        throw new RangeError(`RawArray: the size must be a whole number of elements (0 or more), got ${sizeOrInitializer}`);
      }
      length = sizeOrInitializer;
    } else {
      init = initializerElements(type, sizeOrInitializer, 'RawArray');
      length = init.length;
    }
    const { region, offset } = takeView(impl.size * length);
    this.#type = type;
    this.#impl = impl;
    this.#region = region;
    this.#offset = offset;
    this.#length = length;
    this.#elements = elementsAt(impl, region, offset, length);
    this.#from = impl.fromElement;
    this.#to = impl.toElement;
    if (init !== undefined) this.#fill(init);
  }

  static {
    locateArray = (a) => ({ type: a.#type, region: a.#region, offset: a.#offset, length: a.#length });
  }

  #fill(init: ArrayLike<unknown>): void {
    const el = this.#elements;
    if (el !== null) {
      const to = this.#to!;
      for (let i = 0; i < init.length; i++) el[i] = to(init[i]);
    } else {
      for (let i = 0; i < init.length; i++) this.#impl.store(this.#region, this.#offset + i * this.#impl.size, init[i]);
    }
  }

  /** A real index for `index` (negative counts from the end), or a `RangeError` (Python's `IndexError`). */
  #index(index: number): number {
    const length = this.#length;
    if (typeof index === 'number' && Number.isInteger(index)) {
      if (index >= 0) {
        if (index < length) return index;
      } else if (index >= -length) {
        return index + length;
      }
      throw new RangeError(`index ${index} is out of range for an array of length ${length}`);
    }
    throw new TypeError(`array indexes must be integers, got ${describe(index)}`);
  }

  /** Number of elements. */
  get length(): number {
    return this.#length;
  }

  /** The element type. */
  get type(): AnyCType {
    return this.#type;
  }

  /** The element at `index` (negative counts from the end). Structure and array elements are views, changed in place. */
  get(index: number): ValueOf<C> {
    const i = this.#index(index);
    const el = this.#elements;
    if (el !== null) {
      const e = el[i]!;
      return (this.#from === null ? e : this.#from(e)) as ValueOf<C>;
    }
    return this.#impl.load(this.#region, this.#offset + i * this.#impl.size) as ValueOf<C>;
  }

  /** Sets the element at `index` (negative counts from the end). */
  set(index: number, value: InputOf<C>): void {
    const i = this.#index(index);
    const el = this.#elements;
    if (el !== null) el[i] = this.#to!(value);
    else this.#impl.store(this.#region, this.#offset + i * this.#impl.size, value);
  }

  /**
   * A copy of the elements from `start` to `end` (Python's `a[start:end]`;
   * negative bounds count from the end): a `Buffer` for `c_char` arrays, a
   * string for `c_wchar` arrays, else an array (of views, for structures).
   */
  slice(start?: number, end?: number): SliceOf<C> {
    const from = sliceBound(start, this.#length, 0);
    const to = Math.max(from, sliceBound(end, this.#length, this.#length));
    if (this.#type === c_char) return Buffer.from(this.#elements!.subarray(from, to) as Uint8Array) as SliceOf<C>;
    if (this.#type === c_wchar) {
      let s = '';
      for (let i = from; i < to; i++) s += this.get(i);
      return s as SliceOf<C>;
    }
    const out: Array<ValueOf<C>> = [];
    for (let i = from; i < to; i++) out.push(this.get(i));
    return out as SliceOf<C>;
  }

  /** Iterates the elements. */
  *[Symbol.iterator](): IterableIterator<ValueOf<C>> {
    for (let i = 0; i < this.#length; i++) yield this.get(i);
  }

  /**
   * A typed array over the elements in shared memory (not a copy), for bulk
   * work: `a.typed.set(data)`, `a.typed.fill(0)`, `Atomics.add(a.typed, 0, 1)`.
   * Scalar types only; `c_char` gives the bytes, `c_wchar` the code points,
   * `c_bool` 0/1 bytes.
   */
  get typed(): ElementsOf<C> {
    if (this.#elements === null) {
      const why =
        this.#impl.kind === 'scalar'
          ? `its elements are not aligned to ${this.#impl.size} bytes (a field of a packed structure)`
          : `its elements are ${this.#impl.kind === 'struct' ? 'structures' : 'arrays'}`;
      throw new TypeError(`typed: this array of ${this.#type.name} has no typed-array view: ${why}; use get/set, or bytes for the raw memory`);
    }
    return this.#elements as ElementsOf<C>;
  }

  /** The bytes of the whole array in shared memory (a view, not a copy). */
  get bytes(): Uint8Array {
    return new Uint8Array(this.#region.buffer, this.#offset, this.#impl.size * this.#length);
  }

  /**
   * For `c_char` arrays: the bytes up to the first zero byte (a copy); setting
   * it copies the bytes in (a string as UTF-8) and ends them with a zero byte
   * when there is room. For `c_wchar` arrays: the string up to the first zero.
   * As in ctypes, a longer value throws `ValueError`.
   */
  get value(): ArrayValueOf<C> {
    if (this.#type === c_char) {
      const bytes = this.#elements as Uint8Array;
      const end = bytes.indexOf(0);
      return Buffer.from(end < 0 ? bytes : bytes.subarray(0, end)) as ArrayValueOf<C>;
    }
    if (this.#type === c_wchar) {
      const cps = this.#elements as Uint32Array;
      let s = '';
      for (let i = 0; i < cps.length && cps[i] !== 0; i++) s += this.get(i);
      return s as ArrayValueOf<C>;
    }
    throw this.#noValue('value');
  }

  set value(value: ArrayValueOf<C> | Uint8Array | string) {
    if (this.#type === c_char) {
      const bytes = toBytes(value, 'value');
      if (bytes.length > this.#length) throw new ValueError(`byte string too long (${bytes.length} bytes for an array of ${this.#length})`);
      const el = this.#elements as Uint8Array;
      el.set(bytes);
      if (bytes.length < this.#length) el[bytes.length] = 0;
      return;
    }
    if (this.#type === c_wchar) {
      if (typeof value !== 'string') throw new TypeError(`value: a c_wchar array takes a string, got ${describe(value)}`);
      const cps = Array.from(value, (ch) => ch.codePointAt(0)!);
      if (cps.length > this.#length) throw new ValueError(`string too long (${cps.length} characters for an array of ${this.#length})`);
      const el = this.#elements as Uint32Array;
      el.set(cps);
      if (cps.length < this.#length) el[cps.length] = 0;
      return;
    }
    throw this.#noValue('value');
  }

  /** For `c_char` arrays: all the bytes (a copy); setting it copies bytes in without a terminator. */
  get raw(): Buffer {
    if (this.#type !== c_char) throw this.#noValue('raw');
    return Buffer.from(this.#elements as Uint8Array);
  }

  set raw(value: Uint8Array | string) {
    if (this.#type !== c_char) throw this.#noValue('raw');
    const bytes = toBytes(value, 'raw');
    if (bytes.length > this.#length) throw new ValueError(`byte string too long (${bytes.length} bytes for an array of ${this.#length})`);
    (this.#elements as Uint8Array).set(bytes);
  }

  #noValue(what: string): TypeError {
    const which = what === 'raw' ? "arrays of c_char ('c')" : "arrays of c_char ('c') and c_wchar ('u')";
    return new TypeError(`${what}: only ${which} have it; this is an array of ${this.#type.name}`);
  }

  /** The elements as plain data; a `c_char` or `c_wchar` array as its `value` string (bytes read as UTF-8). */
  toJSON(): unknown {
    if (this.#type === c_char) return (this.value as Buffer).toString('utf8');
    if (this.#type === c_wchar) return this.value;
    return Array.from(this, toPlain);
  }

  /** `RawArray(c_int, [1, 2, 3])`. */
  override toString(): string {
    return `RawArray(${this.#type.name}, [${Array.from(this, (v) => String(v)).join(', ')}])`;
  }

  /** @internal */
  [inspect.custom](depth: number, options: object, inspectFn: typeof inspect): string {
    return `RawArray(${this.#type.name}, ${inspectFn([...this], { ...options, depth: depth - 1 })})`;
  }
}

function toBytes(value: unknown, what: string): Uint8Array {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return value;
  throw new TypeError(`${what}: a c_char array takes bytes (a Buffer or Uint8Array) or a string, got ${describe(value)}`);
}

/** The elements an initializer stands for, checked to be a sequence. */
function initializerElements(type: AnyCType, init: unknown, fn: string): ArrayLike<unknown> {
  if (typeof init === 'string') {
    if (type === c_char) return Buffer.from(init, 'utf8');
    return Array.from(init);
  }
  if (init !== null && typeof init === 'object') {
    if (Array.isArray(init) || (ArrayBuffer.isView(init) && !(init instanceof DataView))) return init as ArrayLike<unknown>;
    if (Symbol.iterator in init) return Array.from(init as Iterable<unknown>);
    if (typeof (init as ArrayLike<unknown>).length === 'number') return init as ArrayLike<unknown>;
  }
  throw new TypeError(`${fn}: expected a size or a sequence of ${type.name} values, got ${describe(init)}`);
}

/** Where a raw value or array lives (internal). */
export function rawLocation(obj: RawValue | RawArray): RawLocation {
  return obj instanceof RawArray ? locateArray(obj) : locateValue(obj);
}

/** A raw value over existing memory (internal: travel, copies). */
export function rawValueAt<C extends TypeOrCode>(type: C, region: Region, offset: number): RawValue<C> {
  pendingView = { region, offset };
  try {
    return new RawValue(type);
  } finally {
    pendingView = null;
  }
}

/** A raw array over existing memory (internal: travel, array fields). */
export function rawArrayAt<C extends TypeOrCode>(type: C, length: number, region: Region, offset: number): RawArray<C> {
  pendingView = { region, offset };
  try {
    return new RawArray(type, length);
  } finally {
    pendingView = null;
  }
}

/** An array type made by {@link arrayOf}: `length` elements of `element`. */
export interface ArrayType<C extends TypeOrCode> extends CType<RawArray<C>, ArrayInit<C>> {
  /** The element type. */
  readonly element: AnyCType;
  /** Number of elements. */
  readonly length: number;
}

const arrayTypes = new Map<AnyCType, Map<number, ArrayType<TypeOrCode>>>();

/**
 * A fixed-length C array type (ctypes' `c_int * 4`), for structure fields and
 * arrays of arrays: `Structure({ id: c_int, name: arrayOf(c_char, 16) })`.
 * Reading such a field gives a `RawArray` view of it; assigning copies a
 * sequence in (missing elements become zero).
 */
export function arrayOf<C extends TypeOrCode>(typeOrCode: C, length: number): ArrayType<C> {
  const element = resolveType(typeOrCode, 'arrayOf');
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`arrayOf: the length must be a whole number (0 or more), got ${length}`);
  let byLength = arrayTypes.get(element);
  if (byLength === undefined) arrayTypes.set(element, (byLength = new Map()));
  const known = byLength.get(length);
  if (known !== undefined) return known as unknown as ArrayType<C>;

  const elementImpl = element[kImpl];
  const size = elementImpl.size * length;
  const impl: TypeImpl = {
    kind: 'array',
    size,
    alignment: elementImpl.alignment,
    elements: null,
    fromElement: null,
    toElement: null,
    load: (region, offset) => rawArrayAt(element, length, region, offset),
    store: (region, offset, value) => {
      if (value instanceof RawArray && value.type === element && value.length === length) {
        new Uint8Array(region.buffer, offset, size).set(value.bytes);
        return;
      }
      const items = initializerElements(element, value, element.name + '_Array_' + length);
      if (items.length > length) {
        if (element === c_char || element === c_wchar) {
          throw new ValueError(`${element === c_char ? 'bytes' : 'string'} too long (${items.length}, maximum length ${length})`);
        }
        throw new RangeError(`too many initializers: ${items.length} for an array of ${length}`);
      }
      // Build aside, then copy: a refused element leaves the target untouched.
      const scratch = localRegion(size);
      const view = rawArrayAt(element, length, scratch, 0);
      for (let i = 0; i < items.length; i++) view.set(i, items[i] as never);
      new Uint8Array(region.buffer, offset, size).set(new Uint8Array(scratch.buffer, 0, size));
    },
    descriptor: { array: elementImpl.descriptor, length },
  };
  const type = Object.freeze({
    name: `${element.name}_Array_${length}`,
    code: undefined,
    size,
    alignment: elementImpl.alignment,
    element,
    length,
    [kImpl]: impl,
  }) as unknown as ArrayType<TypeOrCode>;
  byLength.set(length, type);
  return type as unknown as ArrayType<C>;
}
