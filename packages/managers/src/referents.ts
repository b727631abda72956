/**
 * Server-side objects behind the standard proxies of `SyncManager`: a list
 * (JS array), a dict (Map with Python key semantics), a namespace, a value
 * and a fixed-length array. Their methods run in the manager's process.
 */
import { defaultCodec } from '@mpjs/serialization';
import { ValueError } from '@mpjs/util';
import { pyEqual } from './equality.js';
import { formatValue, reprSymbol } from './format.js';
import { KeyError } from './key-error.js';
import { proxySource } from './sources.js';

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'number' ? `non-integer number ${value}` : typeof value;
}

/** An integer argument (a JS number, or a bigint within range); TypeError otherwise, as Python's. */
function integer(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  throw new TypeError(`${what} must be an integer, got ${typeName(value)}`);
}

function normalizeIndex(index: unknown, length: number, what: string): number {
  if (!(typeof index === 'number' && Number.isInteger(index)) && typeof index !== 'bigint') {
    throw new TypeError(`${what} indices must be integers, got ${typeName(index)}`);
  }
  const n = Number(index);
  const i = n < 0 ? n + length : n;
  if (i < 0 || i >= length) throw new RangeError(`${what} index out of range: ${n} (length ${length})`);
  return i;
}

/** A slice bound or step: an integer, or null/undefined for the default. */
function sliceArg(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  throw new TypeError(`slice indices must be integers or null, got ${typeName(value)}`);
}

/**
 * Python's `slice(start, stop, step).indices(length)`: the positions
 * `l[start:stop:step]` covers, in order. A zero step is a ValueError.
 */
export function sliceIndices(length: number, start: unknown, stop: unknown, step: unknown): number[] {
  const st = sliceArg(step) ?? 1;
  if (st === 0) throw new ValueError('slice step cannot be zero');
  const lower = st > 0 ? 0 : -1;
  const upper = st > 0 ? length : length - 1;
  const bound = (value: unknown, fallback: number): number => {
    const v = sliceArg(value);
    if (v === null) return fallback;
    const i = v < 0 ? v + length : v;
    return Math.min(Math.max(i, lower), upper);
  };
  const from = bound(start, st > 0 ? lower : upper);
  const to = bound(stop, st > 0 ? upper : lower);
  const out: number[] = [];
  if (st > 0) for (let i = from; i < to; i += st) out.push(i);
  else for (let i = from; i > to; i += st) out.push(i);
  return out;
}

/** Where `l[start:stop]` (step 1) begins and ends, clamped to the list. */
function simpleRange(length: number, start: unknown, stop: unknown): [number, number] {
  const clamp = (value: unknown, fallback: number): number => {
    const v = sliceArg(value);
    if (v === null) return fallback;
    const i = v < 0 ? v + length : v;
    return Math.min(Math.max(i, 0), length);
  };
  const s = clamp(start, 0);
  return [s, Math.max(s, clamp(stop, length))];
}

function isUnitStep(step: unknown): boolean {
  const st = sliceArg(step);
  if (st === 0) throw new ValueError('slice step cannot be zero');
  return st === null || st === 1;
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

/** The items of an iterable argument, as an array; TypeError for anything else. */
function iterableItems(values: unknown, what: string): unknown[] {
  const source = proxySource(values, what);
  if (source) {
    // A dict stands for its keys, as Python iterates them.
    if (source.referent instanceof SharedDict) return [...(source.value as Map<unknown, unknown>).keys()];
    values = source.value;
  }
  if (Array.isArray(values)) return values;
  // A string is iterable too (its characters), as in Python.
  if (typeof values === 'string' || (values !== null && typeof values === 'object' && typeof (values as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function')) {
    return [...(values as Iterable<unknown>)];
  }
  throw new TypeError(`${what} must be an iterable (an array, a Set…), got ${typeName(values)}`);
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
    this.items = [...iterableItems(items, 'list(items)')];
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
  /** `l[start:stop:step]`. */
  slice(start?: number | null, stop?: number | null, step?: number | null): unknown[] {
    if (isUnitStep(step)) {
      const [s, e] = simpleRange(this.items.length, start, stop);
      return this.items.slice(s, e);
    }
    return sliceIndices(this.items.length, start, stop, step).map((i) => this.items[i]);
  }
  /** `l[start:stop:step] = values`; an extended slice (step other than 1) takes exactly as many values as it covers. */
  setSlice(start: number | null | undefined, stop: number | null | undefined, values: Iterable<unknown>, step?: number | null): void {
    const replacement = iterableItems(values, 'setSlice(): values');
    if (isUnitStep(step)) {
      const [s, e] = simpleRange(this.items.length, start, stop);
      this.items.splice(s, e - s, ...replacement);
      return;
    }
    const indices = sliceIndices(this.items.length, start, stop, step);
    if (replacement.length !== indices.length) {
      throw new ValueError(`attempt to assign sequence of size ${replacement.length} to extended slice of size ${indices.length}`);
    }
    indices.forEach((i, k) => (this.items[i] = replacement[k]));
  }
  /** `del l[start:stop:step]`. */
  deleteSlice(start?: number | null, stop?: number | null, step?: number | null): void {
    if (isUnitStep(step)) {
      const [s, e] = simpleRange(this.items.length, start, stop);
      this.items.splice(s, e - s);
      return;
    }
    const doomed = new Set(sliceIndices(this.items.length, start, stop, step));
    this.items = this.items.filter((_, i) => !doomed.has(i));
  }
  append(value: unknown): void {
    this.items.push(value);
  }
  extend(values: Iterable<unknown>): void {
    for (const v of iterableItems(values, 'extend()')) this.items.push(v);
  }
  insert(index: number, value: unknown): void {
    const [at] = simpleRange(this.items.length, integer(index, 'insert(): the index'), null);
    this.items.splice(at, 0, value);
  }
  pop(index: number = -1): unknown {
    const i = integer(index, 'pop(): the index');
    if (this.items.length === 0) throw new RangeError('pop from empty list');
    return this.items.splice(normalizeIndex(i, this.items.length, 'pop'), 1)[0];
  }
  remove(value: unknown): void {
    const i = this.items.findIndex((v) => pyEqual(v, value));
    if (i < 0) throw new ValueError(`list.remove(x): x not in list`);
    this.items.splice(i, 1);
  }
  index(value: unknown, start?: number | null, stop?: number | null): number {
    const [s, e] = simpleRange(this.items.length, start, stop);
    for (let i = s; i < e; i++) if (pyEqual(this.items[i], value)) return i;
    throw new ValueError(`${formatValue(value)} is not in list`);
  }
  count(value: unknown): number {
    return this.items.filter((v) => pyEqual(v, value)).length;
  }
  includes(value: unknown): boolean {
    return this.items.some((v) => pyEqual(v, value));
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
  /** `l *= n` (Python's `__imul__`): `n` copies of the items; 0 or less empties the list. */
  imul(n: number): void {
    const times = integer(n, "imul(): can't multiply a list by a non-integer; the factor");
    const copy = [...this.items];
    this.items.length = 0;
    for (let i = 0; i < times; i++) this.items.push(...copy);
  }
  /** `l + values` (Python's `__add__`): a new array. */
  add(values: Iterable<unknown>): unknown[] {
    return [...this.items, ...iterableItems(values, 'add()')];
  }
  /** `l * n` (Python's `__mul__` and `__rmul__`): a new array. */
  mul(n: number): unknown[] {
    const times = integer(n, "mul(): can't multiply a list by a non-integer; the factor");
    const out: unknown[] = [];
    for (let i = 0; i < times; i++) out.push(...this.items);
    return out;
  }
  /** `list(reversed(l))` (Python's `__reversed__`): a new array. */
  reversed(): unknown[] {
    return [...this.items].reverse();
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

function entriesOf(init: unknown, what: string, optional: boolean): Iterable<readonly [unknown, unknown]> {
  const source = proxySource(init, what);
  if (source) init = source.value;
  if (init === null || init === undefined) {
    if (optional) return [];
    throw new TypeError(`${what} needs a Map, a plain object, [key, value] pairs or a dict proxy, got ${String(init)}`);
  }
  if (init instanceof Map) return init;
  if (typeof init !== 'object') {
    throw new TypeError(`${what} needs a Map, a plain object, [key, value] pairs or a dict proxy, got ${typeof init}`);
  }
  if (typeof (init as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') return pairs(init as Iterable<unknown>, what);
  return Object.entries(init);
}

/** `[key, value]` pairs of an iterable, checked as Python's `dict(pairs)` does. */
function* pairs(items: Iterable<unknown>, what: string): Iterable<readonly [unknown, unknown]> {
  let i = 0;
  for (const item of items) {
    if (!Array.isArray(item) || item.length !== 2) {
      throw new ValueError(`${what}: element #${i} of the sequence is not a [key, value] pair (${formatValue(item)})`);
    }
    yield item as [unknown, unknown];
    i++;
  }
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
    for (const [k, v] of entriesOf(init, 'dict(init)', true)) this.set(k, v);
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
    for (const [k, v] of entriesOf(other, 'update()', false)) this.set(k, v);
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
  /** `Namespace(x=10, y='hello')`: as Python's, names starting with `_` hidden and the rest sorted. */
  toString(): string {
    const shown = Object.entries(this.attrs)
      .filter(([k]) => !k.startsWith('_'))
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .sort();
    return `Namespace(${shown.join(', ')})`;
  }
}

const INTEGER_CODES = new Set(['b', 'B', 'h', 'H', 'i', 'I', 'l', 'L', 'q', 'Q']);

function coerce(typecode: string, value: unknown): unknown {
  if (INTEGER_CODES.has(typecode)) {
    if (!(typeof value === 'number' && Number.isInteger(value)) && typeof value !== 'bigint') {
      throw new TypeError(`typecode '${typecode}' holds integers, got ${formatValue(value)}`);
    }
  } else if (typecode === 'd' || typecode === 'f') {
    if (typeof value !== 'number') throw new TypeError(`typecode '${typecode}' holds numbers, got ${formatValue(value)}`);
  }
  return value;
}

/** The C type and range of each integer typecode of Python's `array` (Linux x64: `long` is 64 bits). */
const INTEGER_RANGES: Record<string, readonly [name: string, min: bigint, max: bigint]> = {
  b: ['signed char', -(2n ** 7n), 2n ** 7n - 1n],
  B: ['unsigned char', 0n, 2n ** 8n - 1n],
  h: ['signed short', -(2n ** 15n), 2n ** 15n - 1n],
  H: ['unsigned short', 0n, 2n ** 16n - 1n],
  i: ['signed int', -(2n ** 31n), 2n ** 31n - 1n],
  I: ['unsigned int', 0n, 2n ** 32n - 1n],
  l: ['signed long', -(2n ** 63n), 2n ** 63n - 1n],
  L: ['unsigned long', 0n, 2n ** 64n - 1n],
  q: ['signed long long', -(2n ** 63n), 2n ** 63n - 1n],
  Q: ['unsigned long long', 0n, 2n ** 64n - 1n],
};

/** An item of an array: of the typecode's type and, for integers, within its C type's range (RangeError, Python's OverflowError). */
function arrayItem(typecode: string, value: unknown): unknown {
  coerce(typecode, value);
  const range = INTEGER_RANGES[typecode];
  if (range) {
    const [name, min, max] = range;
    const v = BigInt(value as number | bigint);
    if (v > max) throw new RangeError(`array('${typecode}'): ${String(value)} is greater than the maximum of a ${name} (${max})`);
    if (v < min) throw new RangeError(`array('${typecode}'): ${String(value)} is less than the minimum of a ${name} (${min})`);
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
    if (typeof sequence === 'number') {
      if (!Number.isInteger(sequence) || sequence < 0) throw new ValueError(`Array('${typecode}', n): the length must be a non-negative integer, got ${sequence}`);
      this.items = new Array<number>(sequence).fill(0);
    } else {
      this.items = [...iterableItems(sequence, `Array('${typecode}', sequence)`)];
    }
    for (const v of this.items) arrayItem(typecode, v);
  }
  length(): number {
    return this.items.length;
  }
  get(index: number): unknown {
    return this.items[normalizeIndex(index, this.items.length, 'array')];
  }
  set(index: number, value: unknown): void {
    this.items[normalizeIndex(index, this.items.length, 'array')] = arrayItem(this.typecode, value);
  }
  /** `a[start:stop:step]`. */
  slice(start?: number | null, stop?: number | null, step?: number | null): unknown[] {
    return sliceIndices(this.items.length, start, stop, step).map((i) => this.items[i]);
  }
  _getvalue(): unknown[] {
    return [...this.items];
  }
  toString(): string {
    return `array('${this.typecode}', ${formatValue(this.items)})`;
  }
}
