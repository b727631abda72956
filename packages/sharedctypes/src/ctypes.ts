/**
 * ctypes-like C types with the sizes, alignments and wrapping of C on Linux
 * x64/arm64 (LP64: `long` is 8 bytes): `c_int`, `c_double`, … and the
 * one-letter typecodes of Python's `array` module that `Value`/`Array` take.
 *
 * Values as JavaScript sees them: 8-, 16- and 32-bit integers and floats are
 * numbers; 64-bit integers (`q Q l L`, `c_size_t`…) are bigints; `c_bool` is a
 * boolean; `c_char` (`'c'`) is a one-byte `Buffer`, like Python's `bytes`;
 * `c_wchar` (`'u'`) is a one-character string stored as a 4-byte code point.
 *
 * Integers wrap as in C (and Python's ctypes): storing 200 in a `c_byte`
 * gives -56, 2**32 in a `c_uint` gives 0. A number that is not an integer is
 * refused by integer types with a `TypeError`, as ctypes refuses a float.
 */
import type { Region } from './memory.js';

/** The typecodes of Python's `array` module that `Value`, `Array` and friends accept. */
export type TypeCode = 'b' | 'B' | 'h' | 'H' | 'i' | 'I' | 'l' | 'L' | 'q' | 'Q' | 'f' | 'd' | 'c' | 'u';

/** The typed array classes that hold scalar elements. */
export type Elements =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** A constructor of one of the {@link Elements} classes. */
export interface ElementsConstructor {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): Elements;
  readonly BYTES_PER_ELEMENT: number;
}

/** How a type travels: a scalar's name, or the layout of a struct or array type. */
export type TypeDescriptor =
  | string
  | { readonly struct: ReadonlyArray<readonly [string, TypeDescriptor]>; readonly name: string; readonly pack: number }
  | { readonly array: TypeDescriptor; readonly length: number };

/** What every type knows (internal). */
export interface TypeImpl {
  readonly kind: 'scalar' | 'struct' | 'array';
  readonly size: number;
  readonly alignment: number;
  /** Scalars: the typed array class storing elements; `null` for composite types. */
  readonly elements: ElementsConstructor | null;
  /** Scalars: element → value, or `null` when they are the same (numbers, bigints). */
  readonly fromElement: ((element: number | bigint) => unknown) | null;
  /** Scalars: value → element; throws `TypeError`/`RangeError` for what the type refuses. */
  readonly toElement: ((value: unknown) => number | bigint) | null;
  /** Reads the value at `offset` (a view for composite types). */
  load(region: Region, offset: number): unknown;
  /** Writes `value` at `offset`; on error nothing has been written. */
  store(region: Region, offset: number, value: unknown): void;
  readonly descriptor: TypeDescriptor;
}

/** Key of a type's internals. */
export const kImpl: unique symbol = Symbol('mpjs.sharedctypes.impl') as never;

declare const valueType: unique symbol;
declare const inputType: unique symbol;

/**
 * A C type: a scalar such as {@link c_int}, a {@link Structure} type, or an
 * array type from {@link arrayOf}. `T` is what reading gives, `In` what
 * writing accepts.
 */
export interface CType<T = unknown, In = T> {
  /** The ctypes name (`'c_int'`), or the name of a structure type. */
  readonly name: string;
  /** The `array` module typecode of a scalar type (`'i'`), if it has one. */
  readonly code: TypeCode | undefined;
  /** Size in bytes, as C's `sizeof`. */
  readonly size: number;
  /** Alignment in bytes, as C's `_Alignof`. */
  readonly alignment: number;
  /** @internal */
  readonly [kImpl]: TypeImpl;
  /** @internal Type-level only: what reading gives. */
  readonly [valueType]?: T;
  /** @internal Type-level only: what writing accepts. */
  readonly [inputType]?: In;
}

/** Any C type. */
export type AnyCType = CType<unknown, unknown>;

/** A C type or a typecode: what `RawValue`, `RawArray`, `Value` and `SharedArray` take. */
export type TypeOrCode = TypeCode | AnyCType;

/** What integer types accept: an integer number, a bigint or a boolean (wrapped to the type's width). */
export type IntInput = number | bigint | boolean;
/** What `c_char` accepts: a one-byte `Buffer`/`Uint8Array`, a one-character string (code below 256) or a number 0–255. */
export type CharInput = Uint8Array | string | number;

/** Values read through each typecode. */
export interface TypeCodeValues {
  b: number;
  B: number;
  h: number;
  H: number;
  i: number;
  I: number;
  l: bigint;
  L: bigint;
  q: bigint;
  Q: bigint;
  f: number;
  d: number;
  c: Buffer;
  u: string;
}

/** Values accepted through each typecode. */
export interface TypeCodeInputs {
  b: IntInput;
  B: IntInput;
  h: IntInput;
  H: IntInput;
  i: IntInput;
  I: IntInput;
  l: IntInput;
  L: IntInput;
  q: IntInput;
  Q: IntInput;
  f: number | bigint | boolean;
  d: number | bigint | boolean;
  c: CharInput;
  u: string;
}

/** What reading a value of type (or typecode) `C` gives. */
export type ValueOf<C> = C extends TypeCode ? TypeCodeValues[C] : C extends CType<infer T, unknown> ? T : never;
/** What writing a value of type (or typecode) `C` accepts. */
export type InputOf<C> = C extends TypeCode ? TypeCodeInputs[C] : C extends CType<unknown, infer In> ? In : never;

// ---- helpers -------------------------------------------------------------

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of ${value.byteLength} bytes`;
  const name = (value as object).constructor?.name;
  return name ? `an instance of ${name}` : 'an object';
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type Reader = (dv: DataView, offset: number) => number | bigint;
type Writer = (dv: DataView, offset: number, element: number | bigint) => void;

const access = {
  i8: [(dv, o) => dv.getInt8(o), (dv, o, e) => dv.setInt8(o, e as number)],
  u8: [(dv, o) => dv.getUint8(o), (dv, o, e) => dv.setUint8(o, e as number)],
  i16: [(dv, o) => dv.getInt16(o, LE), (dv, o, e) => dv.setInt16(o, e as number, LE)],
  u16: [(dv, o) => dv.getUint16(o, LE), (dv, o, e) => dv.setUint16(o, e as number, LE)],
  i32: [(dv, o) => dv.getInt32(o, LE), (dv, o, e) => dv.setInt32(o, e as number, LE)],
  u32: [(dv, o) => dv.getUint32(o, LE), (dv, o, e) => dv.setUint32(o, e as number, LE)],
  i64: [(dv, o) => dv.getBigInt64(o, LE), (dv, o, e) => dv.setBigInt64(o, e as bigint, LE)],
  u64: [(dv, o) => dv.getBigUint64(o, LE), (dv, o, e) => dv.setBigUint64(o, e as bigint, LE)],
  f32: [(dv, o) => dv.getFloat32(o, LE), (dv, o, e) => dv.setFloat32(o, e as number, LE)],
  f64: [(dv, o) => dv.getFloat64(o, LE), (dv, o, e) => dv.setFloat64(o, e as number, LE)],
} satisfies Record<string, [Reader, Writer]>;

type Storage = keyof typeof access;

const storageArrays: Record<Storage, ElementsConstructor> = {
  i8: Int8Array,
  u8: Uint8Array,
  i16: Int16Array,
  u16: Uint16Array,
  i32: Int32Array,
  u32: Uint32Array,
  i64: BigInt64Array,
  u64: BigUint64Array,
  f32: Float32Array,
  f64: Float64Array,
};

// ---- conversions ---------------------------------------------------------

function intElement(name: string, bits: number): (value: unknown) => number {
  const slow = (value: unknown): number => {
    if (typeof value === 'bigint') return Number(BigInt.asUintN(bits, value));
    if (typeof value === 'boolean') return value ? 1 : 0;
    throw new TypeError(`${name}: expected an integer (a whole number, a bigint or a boolean), got ${describe(value)}`);
  };
  return (value) => (typeof value === 'number' && Number.isInteger(value) ? value : slow(value));
}

function bigintElement(name: string): (value: unknown) => bigint {
  const slow = (value: unknown): bigint => {
    if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
    if (typeof value === 'boolean') return value ? 1n : 0n;
    throw new TypeError(`${name}: expected an integer (a bigint, a whole number or a boolean), got ${describe(value)}`);
  };
  return (value) => (typeof value === 'bigint' ? value : slow(value));
}

function floatElement(name: string): (value: unknown) => number {
  const slow = (value: unknown): number => {
    if (typeof value === 'bigint') return Number(value);
    if (typeof value === 'boolean') return value ? 1 : 0;
    throw new TypeError(`${name}: expected a number, got ${describe(value)}`);
  };
  return (value) => (typeof value === 'number' ? value : slow(value));
}

function charElement(value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 255) return value;
    throw new RangeError(`c_char: a byte is an integer from 0 to 255, got ${value}`);
  }
  if (value instanceof Uint8Array && value.length === 1) return value[0]!;
  if (typeof value === 'string' && value.length === 1 && value.charCodeAt(0) <= 255) return value.charCodeAt(0);
  throw new TypeError(
    `c_char: expected one byte (a Buffer of length 1, a one-character string with a code below 256, or an integer 0–255), got ${describe(value)}`,
  );
}

function wcharElement(value: unknown): number {
  if (typeof value === 'string') {
    const cp = value.codePointAt(0);
    if (cp !== undefined && value.length === (cp > 0xffff ? 2 : 1)) return cp;
  }
  throw new TypeError(`c_wchar: expected a one-character string, got ${describe(value)}`);
}

function charValue(element: number | bigint): Buffer {
  const b = Buffer.allocUnsafe(1);
  b[0] = element as number;
  return b;
}

function wcharValue(element: number | bigint): string {
  const cp = element as number;
  return cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
}

// ---- scalar types --------------------------------------------------------

/** A scalar C type such as `c_int`. */
export interface SimpleType<T, In = T> extends CType<T, In> {
  readonly code: TypeCode | undefined;
}

function scalar<T, In>(
  name: string,
  code: TypeCode | undefined,
  storage: Storage,
  toElement: (value: unknown) => number | bigint,
  fromElement: ((element: number | bigint) => unknown) | null,
): SimpleType<T, In> {
  const elements = storageArrays[storage];
  const size = elements.BYTES_PER_ELEMENT;
  const [read, write] = access[storage] as [Reader, Writer];
  const impl: TypeImpl = {
    kind: 'scalar',
    size,
    alignment: size,
    elements,
    fromElement,
    toElement,
    load: fromElement === null ? (region, offset) => read(region.dv, offset) : (region, offset) => fromElement(read(region.dv, offset)),
    store: (region, offset, value) => write(region.dv, offset, toElement(value)),
    descriptor: name,
  };
  const type = { name, code, size, alignment: size, [kImpl]: impl } as SimpleType<T, In>;
  return Object.freeze(type);
}

const boolElement = (value: unknown): number => (value ? 1 : 0);

/** `char` as a byte (typecode `'c'`): reads as a one-byte `Buffer`, like Python's `bytes`. */
export const c_char = scalar<Buffer, CharInput>('c_char', 'c', 'u8', charElement, charValue);
/** `wchar_t` (typecode `'u'`, 4 bytes on Linux): reads as a one-character string. */
export const c_wchar = scalar<string, string>('c_wchar', 'u', 'u32', wcharElement, wcharValue);
/** `signed char` (typecode `'b'`), -128 to 127. */
export const c_byte = scalar<number, IntInput>('c_byte', 'b', 'i8', intElement('c_byte', 8), null);
/** `unsigned char` (typecode `'B'`), 0 to 255. */
export const c_ubyte = scalar<number, IntInput>('c_ubyte', 'B', 'u8', intElement('c_ubyte', 8), null);
/** `short` (typecode `'h'`), 2 bytes. */
export const c_short = scalar<number, IntInput>('c_short', 'h', 'i16', intElement('c_short', 16), null);
/** `unsigned short` (typecode `'H'`), 2 bytes. */
export const c_ushort = scalar<number, IntInput>('c_ushort', 'H', 'u16', intElement('c_ushort', 16), null);
/** `int` (typecode `'i'`), 4 bytes. */
export const c_int = scalar<number, IntInput>('c_int', 'i', 'i32', intElement('c_int', 32), null);
/** `unsigned int` (typecode `'I'`), 4 bytes. */
export const c_uint = scalar<number, IntInput>('c_uint', 'I', 'u32', intElement('c_uint', 32), null);
/** `long` (typecode `'l'`), 8 bytes on Linux x64/arm64: a bigint. */
export const c_long = scalar<bigint, IntInput>('c_long', 'l', 'i64', bigintElement('c_long'), null);
/** `unsigned long` (typecode `'L'`), 8 bytes on Linux x64/arm64: a bigint. */
export const c_ulong = scalar<bigint, IntInput>('c_ulong', 'L', 'u64', bigintElement('c_ulong'), null);
/** `long long` (typecode `'q'`), 8 bytes: a bigint. */
export const c_longlong = scalar<bigint, IntInput>('c_longlong', 'q', 'i64', bigintElement('c_longlong'), null);
/** `unsigned long long` (typecode `'Q'`), 8 bytes: a bigint. */
export const c_ulonglong = scalar<bigint, IntInput>('c_ulonglong', 'Q', 'u64', bigintElement('c_ulonglong'), null);
/** `float` (typecode `'f'`), 4 bytes: stored values are rounded to single precision. */
export const c_float = scalar<number, number | bigint | boolean>('c_float', 'f', 'f32', floatElement('c_float'), null);
/** `double` (typecode `'d'`), 8 bytes. */
export const c_double = scalar<number, number | bigint | boolean>('c_double', 'd', 'f64', floatElement('c_double'), null);
/** `_Bool`, 1 byte: any value is stored by its truthiness, read as a boolean. */
export const c_bool = scalar<boolean, unknown>('c_bool', undefined, 'u8', boolElement, (e) => e !== 0);
/** `size_t`, 8 bytes, unsigned: a bigint (the same type as {@link c_ulong}). */
export const c_size_t = c_ulong;
/** `ssize_t`, 8 bytes, signed: a bigint (the same type as {@link c_long}). */
export const c_ssize_t = c_long;
/** `int8_t` (the same type as {@link c_byte}). */
export const c_int8 = c_byte;
/** `uint8_t` (the same type as {@link c_ubyte}). */
export const c_uint8 = c_ubyte;
/** `int16_t` (the same type as {@link c_short}). */
export const c_int16 = c_short;
/** `uint16_t` (the same type as {@link c_ushort}). */
export const c_uint16 = c_ushort;
/** `int32_t` (the same type as {@link c_int}). */
export const c_int32 = c_int;
/** `uint32_t` (the same type as {@link c_uint}). */
export const c_uint32 = c_uint;
/** `int64_t` (the same type as {@link c_long}, as in ctypes on Linux). */
export const c_int64 = c_long;
/** `uint64_t` (the same type as {@link c_ulong}, as in ctypes on Linux). */
export const c_uint64 = c_ulong;

/** Typecode → type, as `multiprocessing.sharedctypes.typecode_to_type`. */
export const typecodeToType: Readonly<{ [K in TypeCode]: SimpleType<TypeCodeValues[K], TypeCodeInputs[K]> }> = Object.freeze({
  c: c_char,
  u: c_wchar,
  b: c_byte,
  B: c_ubyte,
  h: c_short,
  H: c_ushort,
  i: c_int,
  I: c_uint,
  l: c_long,
  L: c_ulong,
  q: c_longlong,
  Q: c_ulonglong,
  f: c_float,
  d: c_double,
});

const scalarsByName = new Map<string, AnyCType>(
  [...Object.values(typecodeToType), c_bool].map((t) => [t.name, t as AnyCType]),
);

/** The scalar type with this ctypes name (internal, for types that travel). */
export function scalarByName(name: string): AnyCType | undefined {
  return scalarsByName.get(name);
}

/** Whether `value` is a C type (scalar, structure or array type). */
export function isCType(value: unknown): value is AnyCType {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && kImpl in value;
}

/** Resolves a typecode or a type, or throws a `TypeError` naming what is accepted. */
export function resolveType(typeOrCode: unknown, fn: string): AnyCType {
  if (typeof typeOrCode === 'string') {
    const type = (typecodeToType as Record<string, AnyCType>)[typeOrCode];
    if (type !== undefined && Object.prototype.hasOwnProperty.call(typecodeToType, typeOrCode)) return type;
    throw new TypeError(
      `${fn}: unknown typecode ${JSON.stringify(typeOrCode)}; use one of 'b' 'B' 'h' 'H' 'i' 'I' 'l' 'L' 'q' 'Q' 'f' 'd' 'c' 'u', ` +
        'or a type such as c_int or a Structure',
    );
  }
  if (isCType(typeOrCode)) return typeOrCode;
  throw new TypeError(`${fn}: expected a typecode such as 'i' or a type such as c_int or a Structure, got ${describe(typeOrCode)}`);
}
