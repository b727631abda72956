/**
 * The wire format's vocabulary. Plain data is standard MessagePack (nil, bool,
 * int, float64, str, bin, array, map) so any implementation can read it; the
 * rest rides in extension types whose payload is itself MessagePack (or raw
 * bytes), so a foreign decoder can always skip them.
 *
 * Numbers: an integer-valued number in the 32-bit range is a MessagePack int of
 * up to 32 bits; every other number (fractions, -0, NaN, ±Infinity, larger
 * integers) is a float64. A bigint is an int64/uint64 when it fits and an
 * extension otherwise, so 64-bit integers always decode as bigint.
 */

/** Extension type codes. Negative codes are MessagePack's own. */
export const ExtType = {
  /** `undefined` (fixext 1, data 0: the convention of msgpackr and notepack). */
  Undefined: 0,
  /** MessagePack's timestamp: `Date` (32, 64 or 96-bit form; 1 byte for an invalid date). */
  Timestamp: -1,
  /** A reference to the n-th object of the message (repeated references and cycles). */
  Ref: 1,
  /** A hole in a sparse array. */
  Hole: 2,
  /** A bigint outside 64 bits: big-endian two's complement. */
  BigInt: 3,
  /** `Map`: payload is a MessagePack map. */
  Map: 4,
  /** `Set`: payload is a MessagePack array. */
  Set: 5,
  /** `RegExp`: payload is the source string then the flags string. */
  RegExp: 6,
  /** A typed array other than Buffer: one kind byte, then the raw little-endian bytes. */
  TypedArray: 7,
  /** `ArrayBuffer`: raw bytes. */
  ArrayBuffer: 8,
  /** `DataView`: raw bytes. */
  DataView: 9,
  /** An error: payload is a map (classes, name, message, stack, cause, errors, props). */
  Error: 10,
  /** A function or class by reference: module string, export name string. */
  Function: 11,
  /** An instance of an exported class: module, export name, then a map of own fields. */
  Instance: 12,
  /** What a `[reduce]()` method returned: module, export name, construct flag, argument array. */
  Reduce: 13,
  /** A value of a type registered with `registerType`: type name, then its data. */
  Registered: 14,
  /** A registered symbol (`Symbol.for(key)`): the key as UTF-8. */
  Symbol: 15,
  /** An object with a null prototype: payload is a MessagePack map. */
  NullProto: 16,
  /** A string that is not well-formed UTF-16 (lone surrogates): raw UTF-16LE code units. */
  String16: 17,
} as const;

/** Typed array classes by their kind byte in a {@link ExtType.TypedArray} payload. */
export const typedArrayKinds = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

/** Name of a typed array class. */
export type TypedArrayName = (typeof typedArrayKinds)[number];

/** Constructors of the typed arrays, in this realm. */
export const typedArrayConstructors: Record<TypedArrayName, new (buffer: ArrayBuffer) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};
