/**
 * Server-side objects behind the standard proxies of `SyncManager`: a list
 * (JS array), a dict (Map with Python key semantics), a namespace, a value
 * and a fixed-length array. Their methods run in the manager's process.
 */
import { isDeepStrictEqual } from 'node:util';
import { defaultCodec } from '@mpjs/serialization';
import { ValueError } from '@mpjs/util';
import { formatValue, reprSymbol } from './format.js';
import { KeyError } from './key-error.js';

function normalizeIndex(index: number, length: number, what: string): number {
  if (!Number.isInteger(index)) throw new TypeError(`${what} indices must be integers, got ${String(index)}`);
  const i = index < 0 ? index + length : index;
  if (i < 0 || i >= length) throw new RangeError(`${what} index out of range: ${index} (length ${length})`);
  return i;
}

function clampSlice(index: number | undefined | null, length: number, fallback: number): number {
  if (index === undefined || index === null) return fallback;
  const i = index < 0 ? index + length : index;
  return Math.min(Math.max(i, 0), length);
}

/** Python's default ordering: numbers with numbers, strings with strings. */
function compare(a: unknown, b: unknown): number {
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  throw new TypeError(`'<' not supported between ${typeof a} and ${typeof b}; pass a key function to sort()`);
}

/** Options of `sort()` (Python's `key=` and `reverse=`). */
export interface SortOptions<T = unknown> {
  /** An exported function mapping an item to its sort key. */
  key?: ((item: T) => unknown) | null;
  /** Sort in descending order. */
  reverse?: boolean;
}

/** The referent of a `ListProxy`: a JS array with Python's list methods. */
export class SharedList {
  items: unknown[];
  constructor(items: Iterable<unknown> = []) {
    this.items = [...items];
  }
  length(): number {
    return this.items.length;
  }
  get(index: number): unknown {
    return this.items[normalizeIndex(index, this.items.length, 'list')];
  }
  set(index: number, value: unknown): void {
    this.items[normalizeIndex(index, this.items.length, 'list')] = value;
  }
  delete(index: number): void {
    this.items.splice(normalizeIndex(index, this.items.length, 'list'), 1);
  }
  slice(start?: number | null, end?: number | null): unknown[] {
    const n = this.items.length;
    return this.items.slice(clampSlice(start, n, 0), clampSlice(end, n, n));
  }
  setSlice(start: number | null | undefined, end: number | null | undefined, values: Iterable<unknown>): void {
    const n = this.items.length;
    const s = clampSlice(start, n, 0);
    const e = Math.max(s, clampSlice(end, n, n));
    this.items.splice(s, e - s, ...values);
  }
  deleteSlice(start?: number | null, end?: number | null): void {
    this.setSlice(start, end, []);
  }
  append(value: unknown): void {
    this.items.push(value);
  }
  extend(values: Iterable<unknown>): void {
    for (const v of values) this.items.push(v);
  }
  insert(index: number, value: unknown): void {
    const n = this.items.length;
    this.items.splice(clampSlice(index, n, n), 0, value);
  }
  pop(index = -1): unknown {
    if (this.items.length === 0) throw new RangeError('pop from empty list');
    return this.items.splice(normalizeIndex(index, this.items.length, 'pop'), 1)[0];
  }
  remove(value: unknown): void {
    const i = this.items.findIndex((v) => isDeepStrictEqual(v, value));
    if (i < 0) throw new ValueError(`list.remove(x): x not in list`);
    this.items.splice(i, 1);
  }
  index(value: unknown, start?: number | null, stop?: number | null): number {
    const n = this.items.length;
    const s = clampSlice(start, n, 0);
    const e = clampSlice(stop, n, n);
    for (let i = s; i < e; i++) if (isDeepStrictEqual(this.items[i], value)) return i;
    throw new ValueError(`${formatValue(value)} is not in list`);
  }
  count(value: unknown): number {
    return this.items.filter((v) => isDeepStrictEqual(v, value)).length;
  }
  includes(value: unknown): boolean {
    return this.items.some((v) => isDeepStrictEqual(v, value));
  }
  reverse(): void {
    this.items.reverse();
  }
  sort(options: SortOptions = {}): void {
    const key = options.key ?? ((x: unknown) => x);
    const keyed = this.items.map((item) => [key(item), item] as const);
    // Array.prototype.sort is stable, as Python's sort is.
    keyed.sort((a, b) => compare(a[0], b[0]) * (options.reverse ? -1 : 1));
    this.items = keyed.map((pair) => pair[1]);
  }
  clear(): void {
    this.items.length = 0;
  }
  copy(): unknown[] {
    return [...this.items];
  }
  /** `l += values` (Python's `__iadd__`). */
  iadd(values: Iterable<unknown>): void {
    this.extend(values);
  }
  /** `l *= n` (Python's `__imul__`). */
  imul(n: number): void {
    const copy = [...this.items];
    this.items.length = 0;
    for (let i = 0; i < n; i++) this.items.push(...copy);
  }
  _getvalue(): unknown[] {
    return this.items;
  }
  toString(): string {
    return formatValue(this.items);
  }
  [reprSymbol](): string {
    return formatValue(this.items);
  }
}

type Primitive = string | number | bigint | boolean | symbol | null | undefined;

/** What can initialise a dict: a Map, a plain object, or `[key, value]` pairs. */
export type DictInit = Map<unknown, unknown> | Record<string, unknown> | Iterable<readonly [unknown, unknown]>;

function entriesOf(init: DictInit | null | undefined): Iterable<readonly [unknown, unknown]> {
  if (init === null || init === undefined) return [];
  if (init instanceof Map) return init;
  if (typeof (init as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') return init as Iterable<readonly [unknown, unknown]>;
  return Object.entries(init);
}

/**
 * The referent of a `DictProxy`: a Map whose keys follow Python's dict —
 * `1` and `'1'` are distinct, and arrays or objects compare by value (a key
 * that arrives in a later message finds the entry).
 */
export class SharedDict {
  readonly map = new Map<unknown, unknown>();
  /** Canonical key object for each value-compared (non-primitive) key. */
  readonly #objectKeys = new Map<string, unknown>();
  constructor(init?: DictInit | null) {
    for (const [k, v] of entriesOf(init)) this.set(k, v);
  }
  #key(key: unknown, create: boolean): unknown {
    if (key === null || (typeof key !== 'object' && typeof key !== 'function')) return key as Primitive;
    const encoded = Buffer.from(defaultCodec.encode(key)).toString('latin1');
    const found = this.#objectKeys.get(encoded);
    if (found !== undefined || !create) return found;
    this.#objectKeys.set(encoded, key);
    return key;
  }
  #forget(key: unknown): void {
    if (key !== null && typeof key === 'object') this.#objectKeys.delete(Buffer.from(defaultCodec.encode(key)).toString('latin1'));
  }
  length(): number {
    return this.map.size;
  }
  has(key: unknown): boolean {
    const k = this.#key(key, false);
    return k !== undefined || key === undefined ? this.map.has(k) : false;
  }
  get(key: unknown, defaultValue?: unknown): unknown {
    return this.has(key) ? this.map.get(this.#key(key, false)) : defaultValue;
  }
  getItem(key: unknown): unknown {
    if (!this.has(key)) throw new KeyError(formatValue(key));
    return this.map.get(this.#key(key, false));
  }
  set(key: unknown, value: unknown): void {
    this.map.set(this.#key(key, true), value);
  }
  delete(key: unknown): void {
    if (!this.has(key)) throw new KeyError(formatValue(key));
    this.map.delete(this.#key(key, false));
    this.#forget(key);
  }
  pop(key: unknown, ...defaultValue: unknown[]): unknown {
    if (!this.has(key)) {
      if (defaultValue.length > 0) return defaultValue[0];
      throw new KeyError(formatValue(key));
    }
    const value = this.map.get(this.#key(key, false));
    this.delete(key);
    return value;
  }
  popitem(): [unknown, unknown] {
    const last = [...this.map].at(-1);
    if (last === undefined) throw new KeyError('popitem(): dictionary is empty');
    this.delete(last[0]);
    return [last[0], last[1]];
  }
  setdefault(key: unknown, defaultValue: unknown = null): unknown {
    if (!this.has(key)) this.set(key, defaultValue);
    return this.get(key);
  }
  update(other: DictInit): void {
    for (const [k, v] of entriesOf(other)) this.set(k, v);
  }
  keys(): unknown[] {
    return [...this.map.keys()];
  }
  values(): unknown[] {
    return [...this.map.values()];
  }
  items(): Array<[unknown, unknown]> {
    return [...this.map.entries()];
  }
  clear(): void {
    this.map.clear();
    this.#objectKeys.clear();
  }
  copy(): Map<unknown, unknown> {
    return new Map(this.map);
  }
  _getvalue(): Map<unknown, unknown> {
    return this.map;
  }
  toString(): string {
    return formatValue(this.map);
  }
  [reprSymbol](): string {
    return formatValue(this.map);
  }
}

/** The referent of a `NamespaceProxy`: named attributes. */
export class NamespaceReferent {
  readonly attrs: Record<string, unknown>;
  constructor(init: Record<string, unknown> = {}) {
    this.attrs = { ...init };
  }
  get(name: string): unknown {
    if (!Object.hasOwn(this.attrs, name)) throw new TypeError(`'Namespace' object has no attribute '${name}'`);
    return this.attrs[name];
  }
  set(name: string, value: unknown): void {
    this.attrs[name] = value;
  }
  delete(name: string): void {
    if (!Object.hasOwn(this.attrs, name)) throw new TypeError(`'Namespace' object has no attribute '${name}'`);
    delete this.attrs[name];
  }
  has(name: string): boolean {
    return Object.hasOwn(this.attrs, name);
  }
  _getvalue(): Record<string, unknown> {
    return { ...this.attrs };
  }
  toString(): string {
    return `Namespace(${Object.entries(this.attrs)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(', ')})`;
  }
}

const INTEGER_CODES = new Set(['b', 'B', 'h', 'H', 'i', 'I', 'l', 'L', 'q', 'Q']);

function coerce(typecode: string, value: unknown): unknown {
  if (INTEGER_CODES.has(typecode)) {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new TypeError(`typecode '${typecode}' holds integers, got ${formatValue(value)}`);
    }
  } else if (typecode === 'd' || typecode === 'f') {
    if (typeof value !== 'number') throw new TypeError(`typecode '${typecode}' holds numbers, got ${formatValue(value)}`);
  }
  return value;
}

/** The referent of a `ValueProxy` (`manager.Value(typecode, value)`). */
export class ValueReferent {
  constructor(
    readonly typecode: string,
    public value: unknown,
  ) {
    coerce(typecode, value);
  }
  get(): unknown {
    return this.value;
  }
  set(value: unknown): void {
    this.value = coerce(this.typecode, value);
  }
  _getvalue(): unknown {
    return this.value;
  }
  toString(): string {
    return `Value('${this.typecode}', ${formatValue(this.value)})`;
  }
}

/** The referent of an `ArrayProxy` (`manager.Array(typecode, sequence)`): fixed length. */
export class ArrayReferent {
  readonly items: unknown[];
  constructor(
    readonly typecode: string,
    sequence: Iterable<unknown> | number,
  ) {
    this.items = typeof sequence === 'number' ? new Array<number>(sequence).fill(0) : [...sequence];
    for (const v of this.items) coerce(typecode, v);
  }
  length(): number {
    return this.items.length;
  }
  get(index: number): unknown {
    return this.items[normalizeIndex(index, this.items.length, 'array')];
  }
  set(index: number, value: unknown): void {
    this.items[normalizeIndex(index, this.items.length, 'array')] = coerce(this.typecode, value);
  }
  slice(start?: number | null, end?: number | null): unknown[] {
    const n = this.items.length;
    return this.items.slice(clampSlice(start, n, 0), clampSlice(end, n, n));
  }
  _getvalue(): unknown[] {
    return [...this.items];
  }
  toString(): string {
    return `array('${this.typecode}', ${formatValue(this.items)})`;
  }
}
