/**
 * `ShareableList`: Python's `multiprocessing.shared_memory.ShareableList`, a
 * fixed-length list of numbers, booleans, strings, bytes and `null` in a
 * named shared memory block, with CPython's byte layout — a Python process
 * can attach to a list made here by name, and the other way round.
 *
 * The layout (all little-endian, as CPython's native `struct` on x64/arm64):
 * the item count (int64); the n + 1 offsets of the items in the data area
 * (int64); the data area (8 bytes per item, strings and bytes rounded up to
 * a multiple of 8); the `struct` format of each item (8 bytes, NUL padded);
 * and one byte per item saying how to read it back (0 number or boolean,
 * 1 str, 2 bytes, 3 None).
 */
import { inspect } from 'node:util';
import { ValueError } from '@mpjs/util';
import { describe } from './ctypes.js';
import { Indexed } from './indexing.js';
import { SharedMemory } from './shared-memory.js';

/**
 * What a {@link ShareableList} holds: Python's `int` (a number, or a bigint
 * beyond 2^53), `float` (a number), `bool`, `str`, `bytes` (a `Buffer`; any
 * `Uint8Array` is accepted) and `None` (`null`).
 */
export type ShareableValue = number | bigint | boolean | string | Buffer | null;

/** What a {@link ShareableList} accepts. */
export type ShareableInput = number | bigint | boolean | string | Uint8Array | null;

/** Options of {@link ShareableList}. */
export interface ShareableListOptions {
  /** The block's name: with a sequence, the name to create; without one, the list to attach to. */
  name?: string;
  /** As `SharedMemory`'s `track`: unlink a created list's block when this process ends without unlinking it (default `true`). */
  track?: boolean;
}

const ALIGNMENT = 8;
const BACK_VALUE = 0;
const BACK_STR = 1;
const BACK_BYTES = 2;
const BACK_NONE = 3;

const FORMAT_INT = 'q';
const FORMAT_FLOAT = 'd';
const FORMAT_BOOL = 'xxxxxxx?';
const FORMAT_NONE = 'xxxxxx?x';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Python's format and back-transform code for a value, or a `TypeError`. */
function classify(value: unknown): { format: string; code: number; bytes?: Uint8Array } {
  switch (typeof value) {
    case 'number':
      return { format: Number.isSafeInteger(value) && !Object.is(value, -0) ? FORMAT_INT : FORMAT_FLOAT, code: BACK_VALUE };
    case 'bigint':
      if (value < INT64_MIN || value > INT64_MAX) throw new RangeError(`ShareableList: ${value}n does not fit in a 64-bit signed integer`);
      return { format: FORMAT_INT, code: BACK_VALUE };
    case 'boolean':
      return { format: FORMAT_BOOL, code: BACK_VALUE };
    case 'string': {
      const bytes = Buffer.from(value, 'utf8');
      return { format: `${ALIGNMENT * (Math.floor(bytes.length / ALIGNMENT) + 1)}s`, code: BACK_STR, bytes };
    }
    default:
      if (value === null) return { format: FORMAT_NONE, code: BACK_NONE };
      if (value instanceof Uint8Array) {
        return { format: `${ALIGNMENT * (Math.floor(value.length / ALIGNMENT) + 1)}s`, code: BACK_BYTES, bytes: value };
      }
      throw new TypeError(
        `ShareableList: items must be numbers, bigints, booleans, strings, Buffers or null (Python's int, float, bool, str, bytes, None), got ${describe(value)}`,
      );
  }
}

/** Python's `==` between the values a list holds. */
function pyEquals(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0;
  }
  if (a === null || b === null || a === undefined || b === undefined) return a === b;
  const x = typeof a === 'boolean' ? Number(a) : a;
  const y = typeof b === 'boolean' ? Number(b) : b;
  if ((typeof x !== 'number' && typeof x !== 'bigint') || (typeof y !== 'number' && typeof y !== 'bigint')) return false;
  // Loose equality compares a number and a bigint exactly (1 == 1n, 2**53 + 1 != 2n**53n + 1n).
  return x == y;
}

/** Python's `repr()` of an item stored with `format`. */
function pyRepr(value: ShareableValue, format: string): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'number') {
    if (format !== FORMAT_FLOAT) return String(value);
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return Number.isInteger(value) && Math.abs(value) < 1e16 ? `${value}.0` : String(value);
  }
  const quote = (body: string): string => (body.includes("'") && !body.includes('"') ? `"${body}"` : `'${body.replace(/'/g, "\\'")}'`);
  if (typeof value === 'string') return quote(value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n'));
  let body = '';
  for (const byte of value) {
    if (byte === 0x5c) body += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) body += String.fromCharCode(byte);
    else body += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `b${quote(body)}`;
}

let attachShm: SharedMemory | null = null;

/**
 * A fixed-length list in shared memory (Python's `ShareableList`). Each slot
 * keeps the room it was created with: a number, boolean or `null` takes 8
 * bytes, a string or bytes its UTF-8 length rounded up to a multiple of 8 —
 * a longer string later throws `ValueError`. Any slot can take a number, a
 * boolean or `null`, and a string or bytes that fit.
 *
 * ```ts
 * const sl = new ShareableList(['howdy', 42, -273.154, null, true]);
 * sl[0] = 'hi';  sl[1] = 43;
 * const other = new ShareableList(null, { name: sl.shm.name }); // elsewhere
 * sl.shm.close();  sl.shm.unlink();
 * ```
 */
export class ShareableList extends Indexed implements Iterable<ShareableValue> {
  /** Items by index (negative counts from the end); out of range throws `RangeError` (Python's `IndexError`). */
  [index: number]: ShareableValue;

  /** The shared memory block holding the list. */
  readonly shm!: SharedMemory;
  readonly #length: number;
  /** Offsets of the items in the data area, and of the end of it (n + 1 of them). */
  readonly #offsets: number[];
  readonly #dv: DataView;
  readonly #bytes: Buffer;

  /**
   * Creates a list from `sequence` (in a new block, named `options.name` if
   * given), or attaches to the list named `options.name` when `sequence` is
   * `null` or omitted.
   */
  constructor(sequence?: Iterable<ShareableInput> | null, options: ShareableListOptions = {}) {
    super();
    const received = attachShm;
    attachShm = null;
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`ShareableList: options must be an object such as { name }, got ${describe(options)}`);
    }
    const { name } = options;
    let items: Array<{ value: unknown; format: string; code: number; bytes?: Uint8Array }> | null = null;
    if (received !== null) {
      (this as { shm: SharedMemory }).shm = received;
    } else if (sequence === undefined || sequence === null) {
      if (name === undefined) {
        items = [];
      } else {
        (this as { shm: SharedMemory }).shm = new SharedMemory({ name });
      }
    } else {
      if (typeof sequence === 'string' || !(Symbol.iterator in Object(sequence))) {
        throw new TypeError(`ShareableList: expected a sequence of items or null, got ${describe(sequence)}`);
      }
      items = Array.from(sequence, (value) => ({ value, ...classify(value) }));
    }

    if (items !== null) {
      const offsets = [0];
      let offset = 0;
      for (const item of items) {
        if (item.format.length > 8) throw new ValueError(`ShareableList: an item of ${item.bytes!.length} bytes is too large for a ShareableList slot`);
        offset += item.format.endsWith('s') ? parseInt(item.format, 10) : ALIGNMENT;
        offsets.push(offset);
      }
      const n = items.length;
      const size = 8 + 8 * (n + 1) + offset + 8 * n + n;
      (this as { shm: SharedMemory }).shm = new SharedMemory({ ...(name === undefined ? {} : { name }), create: true, size, track: options.track ?? true });
      const dv = new DataView(this.shm.buf.buffer, this.shm.buf.byteOffset, this.shm.buf.byteLength);
      dv.setBigInt64(0, BigInt(n), true);
      offsets.forEach((o, i) => dv.setBigInt64(8 + 8 * i, BigInt(o), true));
      this.#length = n;
      this.#offsets = offsets;
      this.#dv = dv;
      this.#bytes = this.shm.buf;
      items.forEach((item, i) => this.#write(i, item.value, item.format, item.code, item.bytes));
      return;
    }

    const buf = this.shm.buf;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const n = Number(dv.getBigInt64(0, true));
    if (!(n >= 0) || 16 + 8 * n > buf.length) {
      throw new ValueError(`ShareableList: the shared memory block '${this.shm.name}' does not hold a ShareableList`);
    }
    this.#length = n;
    this.#offsets = Array.from({ length: n + 1 }, (_, i) => Number(dv.getBigInt64(8 + 8 * i, true)));
    this.#dv = dv;
    this.#bytes = buf;
  }

  get #dataStart(): number {
    return (this.#length + 2) * 8;
  }

  get #formatsStart(): number {
    return this.#dataStart + this.#offsets[this.#length]!;
  }

  #index(index: number): number {
    const n = this.#length;
    if (typeof index !== 'number' || !Number.isInteger(index)) throw new TypeError(`ShareableList indexes must be integers, got ${describe(index)}`);
    const i = index < 0 ? index + n : index;
    if (i < 0 || i >= n) throw new RangeError(`ShareableList index ${index} out of range (length ${n})`);
    return i;
  }

  #format(i: number): string {
    const at = this.#formatsStart + i * 8;
    let end = at + 8;
    while (end > at && this.#bytes[end - 1] === 0) end--;
    return this.#bytes.toString('latin1', at, end);
  }

  #write(i: number, value: unknown, format: string, code: number, bytes: Uint8Array | undefined): void {
    const at = this.#dataStart + this.#offsets[i]!;
    const formatAt = this.#formatsStart + i * 8;
    this.#bytes.fill(0, formatAt, formatAt + 8);
    this.#bytes.write(format, formatAt, 'latin1');
    this.#dv.setInt8(this.#formatsStart + this.#length * 8 + i, code);
    if (format === FORMAT_INT) {
      this.#dv.setBigInt64(at, typeof value === 'bigint' ? value : BigInt(value as number), true);
    } else if (format === FORMAT_FLOAT) {
      this.#dv.setFloat64(at, value as number, true);
    } else if (format === FORMAT_BOOL) {
      this.#bytes.fill(0, at, at + 8);
      this.#bytes[at + 7] = value ? 1 : 0;
    } else if (format === FORMAT_NONE) {
      this.#bytes.fill(0, at, at + 8);
    } else {
      const room = parseInt(format, 10);
      this.#bytes.fill(0, at, at + room);
      this.#bytes.set(bytes!, at);
    }
  }

  /** Number of items. */
  get length(): number {
    return this.#length;
  }

  /** The item at `index` (negative counts from the end). */
  get(index: number): ShareableValue {
    const i = this.#index(index);
    const at = this.#dataStart + this.#offsets[i]!;
    const format = this.#format(i);
    const code = this.#dv.getInt8(this.#formatsStart + this.#length * 8 + i);
    if (code === BACK_NONE) return null;
    if (format === FORMAT_INT) {
      const v = this.#dv.getBigInt64(at, true);
      return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
    }
    if (format === FORMAT_FLOAT) return this.#dv.getFloat64(at, true);
    if (format === FORMAT_BOOL) return this.#bytes[at + 7] !== 0;
    if (format.endsWith('s')) {
      let end = at + parseInt(format, 10);
      while (end > at && this.#bytes[end - 1] === 0) end--;
      if (code === BACK_STR) return this.#bytes.toString('utf8', at, end);
      return Buffer.from(this.#bytes.subarray(at, end));
    }
    throw new ValueError(`ShareableList: item ${i} has the format ${JSON.stringify(format)}, which this list cannot read`);
  }

  /**
   * Sets the item at `index`. A string or bytes must fit the slot's room
   * (`ValueError: bytes/str item exceeds available storage` otherwise).
   */
  set(index: number, value: ShareableInput): void {
    const i = this.#index(index);
    const kind = classify(value);
    let format = kind.format;
    if (kind.bytes !== undefined) {
      const room = this.#offsets[i + 1]! - this.#offsets[i]!;
      if (kind.bytes.length > room) {
        throw new ValueError(`bytes/str item exceeds available storage (${kind.bytes.length} bytes for a slot of ${room})`);
      }
      const current = this.#format(i);
      format = current.endsWith('s') ? current : `${room}s`;
    }
    this.#write(i, value, format, kind.code, kind.bytes);
  }

  /** The `struct` formats of all items, joined (Python's `format`), e.g. `'8sqdxxxxxx?xxxxxxxx?'`. */
  get format(): string {
    let out = '';
    for (let i = 0; i < this.#length; i++) out += this.#format(i);
    return out;
  }

  /** How many items equal `value` (Python's `==`: `1 == 1.0 == true`). */
  count(value: ShareableInput): number {
    let n = 0;
    for (const item of this) if (pyEquals(value, item)) n++;
    return n;
  }

  /** The index of the first item equal to `value`; throws `ValueError` when there is none. */
  index(value: ShareableInput): number {
    let i = 0;
    for (const item of this) {
      if (pyEquals(value, item)) return i;
      i++;
    }
    throw new ValueError(`${inspect(value)} is not in the ShareableList`);
  }

  /** Iterates the items. */
  *[Symbol.iterator](): IterableIterator<ShareableValue> {
    for (let i = 0; i < this.#length; i++) yield this.get(i);
  }

  /** The items as an array. */
  toJSON(): ShareableValue[] {
    return [...this];
  }

  /** `ShareableList(['a', 1, 2.5, None], name='psm_…')`, as Python shows it. */
  override toString(): string {
    const items: string[] = [];
    for (let i = 0; i < this.#length; i++) items.push(pyRepr(this.get(i), this.#format(i)));
    return `ShareableList([${items.join(', ')}], name='${this.shm.name}')`;
  }

  /** @internal */
  [inspect.custom](depth: number, options: object, inspectFn: typeof inspect): string {
    return `ShareableList(${inspectFn([...this], { ...options, depth: depth - 1 })}, name='${this.shm.name}')`;
  }
}

/** A list over a block that travelled (internal). */
export function shareableListOn(shm: SharedMemory): ShareableList {
  attachShm = shm;
  try {
    return new ShareableList();
  } finally {
    attachShm = null;
  }
}
