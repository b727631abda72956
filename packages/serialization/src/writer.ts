/**
 * The MessagePack encoder of the default codec. Plain data becomes standard
 * MessagePack; everything else becomes an extension type of `wire.ts`.
 *
 * Every object gets an index the first time it is met (pre-order); meeting it
 * again writes a reference to that index, which keeps shared references and
 * cycles intact. The reader numbers objects in the same order.
 *
 * Output goes into a slab shared by consecutive encodes (one allocation for
 * many small messages); each result is a view of its own bytes in the slab.
 */
import { types } from 'node:util';
import type { EncodeContext } from './codec.js';
import { encodeErrorFields } from './error-codec.js';
import { formatPath, SerializationError } from './errors.js';
import { functionReference, type FunctionReference } from './references.js';
import { constructsWithNew, isReduceCallable, registeredTypeForPrototype, registryVersion, type AnyTypeSpec } from './registry.js';
import { reduce } from './symbols.js';
import { ExtType, typedArrayKinds, type TypedArrayName } from './wire.js';

const SLAB_SIZE = 64 * 1024;
/** Payloads shorter than this get a minimal extension header (moved back once); longer ones keep ext 32. */
const SHORT_PAYLOAD = 256;

let slab: Buffer | null = null;
let slabView: DataView | null = null;
let slabOffset = 0;

interface Utf8Writable {
  utf8Write(text: string, offset: number, length: number): number;
}
interface WellFormed {
  isWellFormed(): boolean;
}

const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, Symbol.toStringTag)!.get as (
  this: unknown,
) => TypedArrayName | undefined;

/** How objects with a given prototype are written. */
const enum Kind {
  Plain,
  Array,
  Buffer,
  TypedArray,
  DataView,
  ArrayBuffer,
  Map,
  Set,
  Date,
  RegExp,
  Error,
  NullProto,
  Registered,
  Reduce,
  Instance,
  Refused,
}

interface Classification {
  kind: Kind;
  spec?: AnyTypeSpec;
  ref?: FunctionReference;
  refusal?: string;
}

const plainClass: Classification = { kind: Kind.Plain };
let classes = new WeakMap<object, Classification>();
let classesVersion = -1;

function isObjectPrototype(proto: object): boolean {
  // Objects made by another realm (jest's vm contexts, node built-ins seen from them) have another Object.prototype.
  if (Object.getPrototypeOf(proto) !== null) return false;
  const ctor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value as unknown;
  return typeof ctor === 'function' && ctor.name === 'Object' && /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(ctor));
}

/** Whether `Error.prototype` of some realm is on the chain (DOMException seen from a jest vm context). */
function inheritsFromError(proto: object): boolean {
  for (let p: object | null = proto, depth = 0; p !== null && depth < 32; p = Object.getPrototypeOf(p) as object | null, depth++) {
    const ctor = Object.getOwnPropertyDescriptor(p, 'constructor')?.value as unknown;
    if (typeof ctor === 'function' && ctor.name === 'Error' && ctor.prototype === p && /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(ctor))) {
      return true;
    }
  }
  return false;
}

function classify(value: object, proto: object | null): Classification {
  if (classesVersion !== registryVersion()) {
    classes = new WeakMap();
    classesVersion = registryVersion();
  }
  if (proto === null) return { kind: Kind.NullProto };
  let c = classes.get(proto);
  if (c === undefined) {
    c = computeClass(value, proto);
    // Refusals are not cached by prototype: a class may get exported (or registered) later.
    if (c.kind !== Kind.Refused) classes.set(proto, c);
  }
  return c;
}

function computeClass(value: object, proto: object): Classification {
  const spec = registeredTypeForPrototype(proto);
  if (spec) return { kind: Kind.Registered, spec };
  if (typeof (proto as { [reduce]?: unknown })[reduce] === 'function') return { kind: Kind.Reduce };
  if (Array.isArray(value)) return { kind: Kind.Array };
  if (ArrayBuffer.isView(value)) {
    if (Buffer.isBuffer(value)) return { kind: Kind.Buffer };
    if (types.isDataView(value)) return { kind: Kind.DataView };
    return { kind: Kind.TypedArray };
  }
  if (types.isArrayBuffer(value)) return { kind: Kind.ArrayBuffer };
  if (types.isMap(value)) return { kind: Kind.Map };
  if (types.isSet(value)) return { kind: Kind.Set };
  if (types.isDate(value)) return { kind: Kind.Date };
  if (types.isRegExp(value)) return { kind: Kind.RegExp };
  if (types.isNativeError(value) || value instanceof Error || inheritsFromError(proto)) return { kind: Kind.Error };
  if (isObjectPrototype(proto)) return plainClass;
  const refusal = builtinRefusal(value);
  if (refusal) return { kind: Kind.Refused, refusal };
  const ctor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value as unknown;
  if (typeof ctor !== 'function' || ctor.prototype !== proto) {
    // An object made with Object.create(someObject): no class to name, so it travels as its own fields.
    return plainClass;
  }
  try {
    return { kind: Kind.Instance, ref: functionReference(ctor) };
  } catch (error) {
    if (!(error instanceof SerializationError)) throw error;
    const className = ctor.name || 'anonymous class';
    return {
      kind: Kind.Refused,
      refusal: `cannot send an instance of class "${className}": ${error.message}. Alternatively give the class a [reduce]() method or register it with registerType()`,
    };
  }
}

function builtinRefusal(value: object): string | undefined {
  if (types.isSharedArrayBuffer(value)) {
    return 'a SharedArrayBuffer cannot be copied into a message (the copy would not be shared); use the shared memory types of @mpjs/sharedctypes';
  }
  if (types.isPromise(value)) return 'a Promise cannot be sent; await it and send its value';
  if (types.isWeakMap(value) || types.isWeakSet(value) || Object.prototype.toString.call(value) === '[object WeakRef]') return 'WeakMap, WeakSet and WeakRef cannot be sent';
  if (types.isBoxedPrimitive(value)) return 'boxed primitives (new Number(), new String(), …) cannot be sent; send the primitive value';
  if (types.isProxy(value)) return 'a Proxy cannot be sent; send the object it wraps';
  if (types.isGeneratorObject(value)) return 'generator objects cannot be sent; send the values they produce';
  if (types.isModuleNamespaceObject(value)) return 'a module namespace object cannot be sent; send the functions it exports';
  return undefined;
}

/** Objects a message may hold before its writer looks them up in a Map rather than a list. */
const SEARCHED_OBJECTS = 32;
/** The list of objects of the last message, emptied, for the next one (as the slab is). */
let spareObjects: Array<object | undefined> | null = null;

/** Encodes one value into MessagePack. One instance per `encode` call. */
export class Writer {
  private buf: Buffer;
  private view: DataView;
  private pos: number;
  private start: number;
  /** Objects written so far (the first `count`), in pre-order: a later reference to one is written as its index. */
  private readonly objects: Array<object | undefined>;
  private count = 0;
  /** object → its index, made once there are too many objects to search `objects` (most messages hold a few). */
  private index: Map<object, number> | undefined;

  constructor(private readonly context: EncodeContext | undefined) {
    this.objects = spareObjects ?? [];
    spareObjects = null;
    if (slab !== null) {
      this.buf = slab;
      this.view = slabView!;
      slab = null;
      this.start = this.pos = slabOffset;
    } else {
      this.buf = Buffer.allocUnsafeSlow(SLAB_SIZE);
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
      this.start = this.pos = 0;
    }
  }

  /** Encodes `value` and returns its bytes (a view into the slab). */
  encode(value: unknown): Uint8Array {
    try {
      this.write(value);
    } catch (error) {
      this.release(this.start);
      throw finalError(error);
    }
    const out = this.buf.subarray(this.start, this.pos);
    this.release((this.pos + 7) & ~7);
    return out;
  }

  /** Hands the slab back for the next encode (unless too little or too much of it is left), and the object list. */
  private release(next: number): void {
    // The list holds SEARCHED_OBJECTS objects at most: empty it for the next message (a Map is left to the collector).
    for (let i = 0; i < Math.min(this.count, SEARCHED_OBJECTS); i++) this.objects[i] = undefined;
    spareObjects = this.objects;
    if (this.buf.length - next >= 1024 && this.buf.length <= 4 * SLAB_SIZE) {
      slab = this.buf;
      slabView = this.view;
      slabOffset = next;
    } else {
      slab = null;
      slabView = null;
    }
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    const used = this.pos - this.start;
    const need = used + n;
    if (need > 0xffffffff) throw new SerializationError('message would be larger than 4 GiB');
    const size = Math.max(SLAB_SIZE, need <= 0x1000000 ? need * 2 : need + (need >> 2));
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
    this.start = 0;
    this.pos = used;
  }

  write(value: unknown): void {
    switch (typeof value) {
      case 'string':
        this.writeString(value);
        return;
      case 'number':
        this.writeNumber(value);
        return;
      case 'boolean':
        this.ensure(1);
        this.buf[this.pos++] = value ? 0xc3 : 0xc2;
        return;
      case 'undefined':
        this.ensure(3);
        this.buf[this.pos++] = 0xd4;
        this.buf[this.pos++] = ExtType.Undefined;
        this.buf[this.pos++] = 0;
        return;
      case 'object':
        if (value === null) {
          this.ensure(1);
          this.buf[this.pos++] = 0xc0;
        } else this.writeObject(value);
        return;
      case 'bigint':
        this.writeBigInt(value);
        return;
      case 'function':
        this.writeFunction(value);
        return;
      case 'symbol':
        this.writeSymbol(value);
        return;
    }
  }

  private writeNumber(v: number): void {
    const buf = this.buf.length - this.pos >= 9 ? this.buf : (this.grow(9), this.buf);
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      if (v >= 0) {
        if (v < 0x80) buf[this.pos++] = v;
        else if (v < 0x100) {
          buf[this.pos++] = 0xcc;
          buf[this.pos++] = v;
        } else if (v < 0x10000) {
          buf[this.pos++] = 0xcd;
          buf[this.pos++] = v >> 8;
          buf[this.pos++] = v & 0xff;
        } else {
          buf[this.pos++] = 0xce;
          this.view.setUint32(this.pos, v);
          this.pos += 4;
        }
      } else if (v >= -0x20) buf[this.pos++] = v & 0xff;
      else if (v >= -0x80) {
        buf[this.pos++] = 0xd0;
        buf[this.pos++] = v & 0xff;
      } else if (v >= -0x8000) {
        buf[this.pos++] = 0xd1;
        this.view.setInt16(this.pos, v);
        this.pos += 2;
      } else {
        buf[this.pos++] = 0xd2;
        this.view.setInt32(this.pos, v);
        this.pos += 4;
      }
    } else if (v > 0 && v <= 0xffffffff && Math.floor(v) === v) {
      buf[this.pos++] = 0xce;
      this.view.setUint32(this.pos, v);
      this.pos += 4;
    } else {
      buf[this.pos++] = 0xcb;
      this.view.setFloat64(this.pos, v);
      this.pos += 8;
    }
  }

  private writeString(s: string): void {
    const length = s.length;
    if (length < 32) {
      this.ensure(2 + length * 3);
      const buf = this.buf;
      const headerAt = this.pos;
      let p = headerAt + 1;
      for (let i = 0; i < length; i++) {
        let c = s.charCodeAt(i);
        if (c < 0x80) buf[p++] = c;
        else if (c < 0x800) {
          buf[p++] = 0xc0 | (c >> 6);
          buf[p++] = 0x80 | (c & 0x3f);
        } else if (c >= 0xd800 && c <= 0xdfff) {
          const d = c <= 0xdbff && i + 1 < length ? s.charCodeAt(i + 1) : 0;
          if (d < 0xdc00 || d > 0xdfff) {
            this.writeString16(s);
            return;
          }
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          buf[p++] = 0xf0 | (c >> 18);
          buf[p++] = 0x80 | ((c >> 12) & 0x3f);
          buf[p++] = 0x80 | ((c >> 6) & 0x3f);
          buf[p++] = 0x80 | (c & 0x3f);
        } else {
          buf[p++] = 0xe0 | (c >> 12);
          buf[p++] = 0x80 | ((c >> 6) & 0x3f);
          buf[p++] = 0x80 | (c & 0x3f);
        }
      }
      const n = p - headerAt - 1;
      if (n < 32) {
        buf[headerAt] = 0xa0 | n;
        this.pos = p;
      } else {
        buf.copyWithin(headerAt + 2, headerAt + 1, p);
        buf[headerAt] = 0xd9;
        buf[headerAt + 1] = n;
        this.pos = p + 1;
      }
      return;
    }
    if (!(s as unknown as WellFormed).isWellFormed()) {
      this.writeString16(s);
      return;
    }
    const max = length * 3;
    const header = max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
    this.ensure(header + max);
    const n = (this.buf as unknown as Utf8Writable).utf8Write(s, this.pos + header, max);
    const fits = n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
    if (fits !== header) this.buf.copyWithin(this.pos + fits, this.pos + header, this.pos + header + n);
    const buf = this.buf;
    if (fits === 2) {
      buf[this.pos] = 0xd9;
      buf[this.pos + 1] = n;
    } else if (fits === 3) {
      buf[this.pos] = 0xda;
      buf[this.pos + 1] = n >> 8;
      buf[this.pos + 2] = n & 0xff;
    } else {
      buf[this.pos] = 0xdb;
      this.view.setUint32(this.pos + 1, n);
    }
    this.pos += fits + n;
  }

  /** A string with lone surrogates: UTF-8 cannot carry it, so its UTF-16 code units travel raw. */
  private writeString16(s: string): void {
    const bytes = s.length * 2;
    this.writeExtHeader(ExtType.String16, bytes);
    this.ensure(bytes);
    this.pos += this.buf.write(s, this.pos, bytes, 'utf16le');
  }

  private writeBigInt(v: bigint): void {
    if (v >= -0x8000000000000000n && v <= 0x7fffffffffffffffn) {
      this.ensure(9);
      this.buf[this.pos++] = 0xd3;
      this.view.setBigInt64(this.pos, v);
      this.pos += 8;
    } else if (v > 0n && v <= 0xffffffffffffffffn) {
      this.ensure(9);
      this.buf[this.pos++] = 0xcf;
      this.view.setBigUint64(this.pos, v);
      this.pos += 8;
    } else {
      // Big-endian two's complement in as few bytes as keep the sign.
      const negative = v < 0n;
      let hex = (negative ? -v - 1n : v).toString(16);
      if (hex.length % 2 === 1) hex = `0${hex}`;
      if (Number.parseInt(hex[0]!, 16) >= 8) hex = `00${hex}`;
      const bytes = Buffer.from(hex, 'hex');
      if (negative) for (let i = 0; i < bytes.length; i++) bytes[i] = ~bytes[i]! & 0xff;
      this.writeExtHeader(ExtType.BigInt, bytes.length);
      this.writeBytes(bytes);
    }
  }

  private writeSymbol(s: symbol): void {
    const key = Symbol.keyFor(s);
    if (key === undefined) {
      throw new SerializationError(
        `symbol ${String(s)} cannot be sent: only registered symbols (Symbol.for(key)) have a meaning in another process`,
      );
    }
    const bytes = Buffer.from(key, 'utf8');
    this.writeExtHeader(ExtType.Symbol, bytes.length);
    this.writeBytes(bytes);
  }

  private writeFunction(fn: Function): void {
    const ref = functionReference(fn);
    const at = this.beginExt();
    this.writeString(ref.module);
    this.writeString(ref.name);
    this.endExt(at, ExtType.Function);
  }

  private writeObject(o: object): void {
    // Past `count` the list holds nothing (undefined), which no object equals.
    const index = this.index !== undefined ? (this.index.get(o) ?? -1) : this.objects.indexOf(o);
    if (index >= 0) {
      this.writeRef(index);
      return;
    }
    this.remember(o);
    const proto = Object.getPrototypeOf(o) as object | null;
    if (proto === Object.prototype) this.writePlain(o as Record<string, unknown>);
    else if (proto === Array.prototype) this.writeArray(o as unknown[]);
    else if (proto === Buffer.prototype) this.writeBin(o as Buffer);
    else this.writeSpecial(o, proto);
  }

  private remember(o: object): void {
    const index = this.count++;
    if (this.index !== undefined) {
      this.index.set(o, index);
      return;
    }
    if (index === SEARCHED_OBJECTS) {
      // Too many to search: from here on, a Map (and the list stays as it is).
      this.index = new Map(this.objects.map((object, i) => [object!, i]));
      this.index.set(o, index);
      return;
    }
    // Growing by push: a store past the end would undo optimized code whenever a message holds more objects than any before.
    if (index === this.objects.length) this.objects.push(o);
    else this.objects[index] = o;
  }

  /** Drops the objects from index `count` on (a part that was written again as a description). */
  private forget(count: number): void {
    if (this.index !== undefined) {
      for (const [object, index] of this.index) if (index >= count) this.index.delete(object);
      if (count <= SEARCHED_OBJECTS) this.index = undefined;
    }
    for (let i = count; i < Math.min(this.count, SEARCHED_OBJECTS); i++) this.objects[i] = undefined;
    this.count = count;
  }

  private writeRef(index: number): void {
    this.ensure(6);
    const buf = this.buf;
    if (index < 0x100) {
      buf[this.pos++] = 0xd4;
      buf[this.pos++] = ExtType.Ref;
      buf[this.pos++] = index;
    } else if (index < 0x10000) {
      buf[this.pos++] = 0xd5;
      buf[this.pos++] = ExtType.Ref;
      buf[this.pos++] = index >> 8;
      buf[this.pos++] = index & 0xff;
    } else {
      buf[this.pos++] = 0xd6;
      buf[this.pos++] = ExtType.Ref;
      this.view.setUint32(this.pos, index);
      this.pos += 4;
    }
  }

  private writeMapHeader(n: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = 0x80 | n;
    else if (n < 0x10000) {
      this.buf[this.pos++] = 0xde;
      this.buf[this.pos++] = n >> 8;
      this.buf[this.pos++] = n & 0xff;
    } else {
      this.buf[this.pos++] = 0xdf;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
  }

  private writeArrayHeader(n: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = 0x90 | n;
    else if (n < 0x10000) {
      this.buf[this.pos++] = 0xdc;
      this.buf[this.pos++] = n >> 8;
      this.buf[this.pos++] = n & 0xff;
    } else {
      this.buf[this.pos++] = 0xdd;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
  }

  /** Own enumerable string-keyed properties as a MessagePack map. */
  private writePlain(o: Record<string, unknown>): void {
    const keys = Object.keys(o);
    const n = keys.length;
    this.writeMapHeader(n);
    for (let i = 0; i < n; i++) {
      const key = keys[i]!;
      this.writeString(key);
      const value = o[key];
      if (typeof value === 'object' || typeof value === 'function' || typeof value === 'symbol') {
        try {
          this.write(value);
        } catch (error) {
          throw withPath(error, key);
        }
      } else this.write(value);
    }
  }

  private writeArray(a: unknown[]): void {
    const n = a.length;
    this.writeArrayHeader(n);
    for (let i = 0; i < n; i++) {
      const value = a[i];
      if (value === undefined && !(i in a)) {
        this.ensure(3);
        this.buf[this.pos++] = 0xd4;
        this.buf[this.pos++] = ExtType.Hole;
        this.buf[this.pos++] = 0;
      } else if (typeof value === 'object' || typeof value === 'function' || typeof value === 'symbol') {
        try {
          this.write(value);
        } catch (error) {
          throw withPath(error, i);
        }
      } else this.write(value);
    }
  }

  private writeBin(b: Uint8Array): void {
    const n = b.byteLength;
    this.ensure(5 + n);
    if (n < 0x100) {
      this.buf[this.pos++] = 0xc4;
      this.buf[this.pos++] = n;
    } else if (n < 0x10000) {
      this.buf[this.pos++] = 0xc5;
      this.buf[this.pos++] = n >> 8;
      this.buf[this.pos++] = n & 0xff;
    } else {
      this.buf[this.pos++] = 0xc6;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
    this.writeBytes(b);
  }

  private writeBytes(b: Uint8Array): void {
    this.ensure(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }

  /** Writes an extension header for a payload of known length. */
  private writeExtHeader(type: number, length: number): void {
    this.ensure(6);
    const buf = this.buf;
    switch (length) {
      case 1:
        buf[this.pos++] = 0xd4;
        break;
      case 2:
        buf[this.pos++] = 0xd5;
        break;
      case 4:
        buf[this.pos++] = 0xd6;
        break;
      case 8:
        buf[this.pos++] = 0xd7;
        break;
      case 16:
        buf[this.pos++] = 0xd8;
        break;
      default:
        if (length < 0x100) {
          buf[this.pos++] = 0xc7;
          buf[this.pos++] = length;
        } else if (length < 0x10000) {
          buf[this.pos++] = 0xc8;
          buf[this.pos++] = length >> 8;
          buf[this.pos++] = length & 0xff;
        } else {
          buf[this.pos++] = 0xc9;
          this.view.setUint32(this.pos, length);
          this.pos += 4;
        }
    }
    buf[this.pos++] = type & 0xff;
  }

  /** Reserves an ext 32 header for a payload written next; returns its offset from the message start. */
  private beginExt(): number {
    this.ensure(6);
    const at = this.pos - this.start;
    this.pos += 6;
    return at;
  }

  /** Completes the header reserved by {@link beginExt}, shrinking it for short payloads. */
  private endExt(at: number, type: number): void {
    const headerAt = this.start + at;
    const payloadAt = headerAt + 6;
    const length = this.pos - payloadAt;
    const buf = this.buf;
    if (length >= SHORT_PAYLOAD) {
      buf[headerAt] = 0xc9;
      this.view.setUint32(headerAt + 1, length);
      buf[headerAt + 5] = type & 0xff;
      return;
    }
    const fixed = length === 1 || length === 2 || length === 4 || length === 8 || length === 16;
    const header = fixed ? 2 : 3;
    buf.copyWithin(headerAt + header, payloadAt, this.pos);
    this.pos -= 6 - header;
    if (fixed) {
      buf[headerAt] = length === 1 ? 0xd4 : length === 2 ? 0xd5 : length === 4 ? 0xd6 : length === 8 ? 0xd7 : 0xd8;
      buf[headerAt + 1] = type & 0xff;
    } else {
      buf[headerAt] = 0xc7;
      buf[headerAt + 1] = length;
      buf[headerAt + 2] = type & 0xff;
    }
  }

  private writeSpecial(o: object, proto: object | null): void {
    const c = classify(o, proto);
    switch (c.kind) {
      case Kind.Plain:
        this.writePlain(o as Record<string, unknown>);
        return;
      case Kind.Array:
        this.writeArray(o as unknown[]);
        return;
      case Kind.Buffer:
        this.writeBin(o as Buffer);
        return;
      case Kind.TypedArray: {
        const view = o as ArrayBufferView;
        const name = typedArrayTag.call(view)!;
        const kind = typedArrayKinds.indexOf(name);
        if (kind < 0) throw new SerializationError(`${name} cannot be sent`);
        this.writeExtHeader(ExtType.TypedArray, view.byteLength + 1);
        this.ensure(1);
        this.buf[this.pos++] = kind;
        this.writeBytes(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
        return;
      }
      case Kind.DataView: {
        const view = o as DataView;
        this.writeExtHeader(ExtType.DataView, view.byteLength);
        this.writeBytes(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
        return;
      }
      case Kind.ArrayBuffer: {
        const bytes = new Uint8Array(o as ArrayBuffer);
        this.writeExtHeader(ExtType.ArrayBuffer, bytes.byteLength);
        this.writeBytes(bytes);
        return;
      }
      case Kind.Map: {
        const map = o as Map<unknown, unknown>;
        const at = this.beginExt();
        this.writeMapHeader(map.size);
        for (const [k, v] of map) {
          this.write(k);
          try {
            this.write(v);
          } catch (error) {
            throw withPath(error, typeof k === 'string' || typeof k === 'number' ? k : String(k));
          }
        }
        this.endExt(at, ExtType.Map);
        return;
      }
      case Kind.Set: {
        const set = o as Set<unknown>;
        const at = this.beginExt();
        this.writeArrayHeader(set.size);
        for (const v of set) this.write(v);
        this.endExt(at, ExtType.Set);
        return;
      }
      case Kind.Date:
        this.writeDate(o as Date);
        return;
      case Kind.RegExp: {
        const re = o as RegExp;
        const at = this.beginExt();
        this.writeString(re.source);
        this.writeString(re.flags);
        this.endExt(at, ExtType.RegExp);
        return;
      }
      case Kind.Error:
        this.writeError(o as Error);
        return;
      case Kind.NullProto: {
        const at = this.beginExt();
        this.writePlain(o as Record<string, unknown>);
        this.endExt(at, ExtType.NullProto);
        return;
      }
      case Kind.Registered:
        this.writeRegistered(o, c.spec!);
        return;
      case Kind.Reduce:
        this.writeReduced(o);
        return;
      case Kind.Instance: {
        const at = this.beginExt();
        this.writeString(c.ref!.module);
        this.writeString(c.ref!.name);
        this.writePlain(o as Record<string, unknown>);
        this.endExt(at, ExtType.Instance);
        return;
      }
      case Kind.Refused:
        throw new SerializationError(c.refusal);
    }
  }

  private writeDate(d: Date): void {
    const ms = d.getTime();
    if (Number.isNaN(ms)) {
      // msgpackr's form for an invalid date: a 1-byte timestamp.
      this.writeExtHeader(ExtType.Timestamp, 1);
      this.ensure(1);
      this.buf[this.pos++] = 0xff;
      return;
    }
    const seconds = Math.floor(ms / 1000);
    const nanos = (ms - seconds * 1000) * 1_000_000;
    if (nanos === 0 && seconds >= 0 && seconds <= 0xffffffff) {
      this.writeExtHeader(ExtType.Timestamp, 4);
      this.ensure(4);
      this.view.setUint32(this.pos, seconds);
      this.pos += 4;
    } else if (seconds >= 0 && seconds < 2 ** 34) {
      this.writeExtHeader(ExtType.Timestamp, 8);
      this.ensure(8);
      this.view.setUint32(this.pos, nanos * 4 + Math.floor(seconds / 2 ** 32));
      this.view.setUint32(this.pos + 4, seconds >>> 0);
      this.pos += 8;
    } else {
      this.writeExtHeader(ExtType.Timestamp, 12);
      this.ensure(12);
      this.view.setUint32(this.pos, nanos);
      this.view.setBigInt64(this.pos + 4, BigInt(seconds));
      this.pos += 12;
    }
  }

  private writeError(error: Error): void {
    const fields = encodeErrorFields(error);
    const at = this.beginExt();
    // Fixed order: what builds the error first, then what may refer back to it.
    let n = 4;
    if (fields.stack !== undefined) n++;
    if (fields.hasCause) n++;
    if (fields.errors !== undefined) n++;
    this.writeMapHeader(n);
    this.writeString('classes');
    this.write(fields.classes);
    this.writeString('name');
    this.writeString(fields.name);
    this.writeString('message');
    this.writeString(fields.message);
    if (fields.stack !== undefined) {
      this.writeString('stack');
      this.writeString(fields.stack);
    }
    if (fields.hasCause) {
      this.writeString('cause');
      this.writeLenient(fields.cause, 'cause');
    }
    if (fields.errors !== undefined) {
      this.writeString('errors');
      this.writeLenient(fields.errors, 'errors');
    }
    this.writeString('props');
    this.writeMapHeader(fields.props.length);
    for (const key of fields.props) {
      this.writeString(key);
      this.writeLenient((error as unknown as Record<string, unknown>)[key], key);
    }
    this.endExt(at, ExtType.Error);
  }

  /**
   * Writes a part of an error; if it cannot be encoded, writes a description
   * instead. An error must always reach the other side, even with a property
   * (a socket, a closure) that cannot travel.
   */
  private writeLenient(value: unknown, what: string): void {
    const pos = this.pos - this.start;
    const count = this.count;
    const handles = this.context?.handles.length;
    try {
      this.write(value);
    } catch (error) {
      if (!(error instanceof SerializationError)) throw error;
      this.pos = this.start + pos;
      this.forget(count);
      if (this.context && handles !== undefined) this.context.handles.length = handles;
      this.writeString(`[${what} not sent: ${error.reason || error.message}]`);
    }
  }

  private writeRegistered(o: object, spec: AnyTypeSpec): void {
    let data: unknown;
    try {
      data = spec.encode(o, this.context);
    } catch (error) {
      if (error instanceof SerializationError) throw error;
      throw new SerializationError(`encoding a value of registered type "${spec.name}" failed: ${(error as Error)?.message ?? String(error)}`, {
        cause: error,
      });
    }
    if (data === o) {
      throw new SerializationError(`registered type "${spec.name}": encode() returned the value itself; it must return plain data standing for it`);
    }
    const at = this.beginExt();
    this.writeString(spec.name);
    this.write(spec.module ?? null);
    this.write(data);
    this.endExt(at, ExtType.Registered);
  }

  private writeReduced(o: object): void {
    const method = (o as { [reduce]: () => unknown })[reduce];
    let reduced: unknown;
    try {
      reduced = method.call(o);
    } catch (error) {
      throw new SerializationError(`[reduce]() of ${describeObject(o)} threw: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
    if (!Array.isArray(reduced) || typeof reduced[0] !== 'function' || (reduced.length > 1 && !Array.isArray(reduced[1]))) {
      throw new SerializationError(
        `[reduce]() of ${describeObject(o)} must return [callable, args[]] where callable is an exported function or class`,
      );
    }
    const callable = reduced[0] as Function;
    const args = (reduced[1] as unknown[] | undefined) ?? [];
    if (!isReduceCallable(callable)) {
      throw new SerializationError(
        `[reduce]() of ${describeObject(o)} returned ${callable.name ? `"${callable.name}"` : 'an anonymous function'}, which a receiver will not call: return a class that defines [reduce]() (as [${constructorName(o)}, args]) or declare the function with registerConstructor()`,
      );
    }
    const ref = functionReference(callable);
    const at = this.beginExt();
    this.writeString(ref.module);
    this.writeString(ref.name);
    this.write(isClass(callable) || constructsWithNew(callable));
    this.write(args);
    this.endExt(at, ExtType.Reduce);
  }
}

function isClass(fn: Function): boolean {
  try {
    return /^class\b/.test(Function.prototype.toString.call(fn));
  } catch {
    return false;
  }
}

function constructorName(o: object): string {
  const ctor = (Object.getPrototypeOf(o) as { constructor?: { name?: string } } | null)?.constructor;
  return ctor?.name || 'TheClass';
}

function describeObject(o: object): string {
  const ctor = (Object.getPrototypeOf(o) as { constructor?: { name?: string } } | null)?.constructor;
  return ctor?.name ? `an instance of ${ctor.name}` : 'an object';
}

function withPath(error: unknown, part: string | number): unknown {
  if (error instanceof SerializationError) error.path.unshift(part);
  return error;
}

/** Gives a refusal its location, and turns anything else thrown while encoding into a SerializationError. */
function finalError(error: unknown): Error {
  if (error instanceof SerializationError) {
    if (error.path.length === 0) return error;
    return new SerializationError(`${error.reason} (at ${formatPath(error.path)})`, { path: error.path, cause: error.cause });
  }
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return new SerializationError('value is nested too deeply to encode', { cause: error });
  }
  const message = (error as Error)?.message ?? String(error);
  return new SerializationError(`could not encode value: ${message}`, { cause: error });
}
