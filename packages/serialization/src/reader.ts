/**
 * The MessagePack decoder of the default codec. It trusts nothing: every
 * length is checked against the bytes that remain before anything is
 * allocated, extension payloads must be consumed exactly, and whatever goes
 * wrong surfaces as a {@link DecodeError}.
 *
 * Objects are numbered in the order they are created, which is the order the
 * writer met them; a reference extension names that number. An object whose
 * value is only known after its contents (registered types, reduced objects)
 * holds a pending slot meanwhile; a reference to a pending slot is refused.
 */
import type { DecodeContext } from './codec.js';
import { candidateReferences, createError, setErrorCause, setErrorErrors, setErrorProp } from './error-codec.js';
import { DecodeError } from './errors.js';
import { isReferenceLoaded, resolveLoadedReference } from './references.js';
import { isReduceCallable, registeredTypeByName } from './registry.js';
import { ExtType, typedArrayConstructors, typedArrayKinds } from './wire.js';

const PENDING: unique symbol = Symbol('pending');

interface Latin1 {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** Arrays of up to this many elements are allocated at their size. */
const PRESIZED_ARRAY = 16;

/** Short map keys recur in every message: decode each byte sequence once. */
const keyCache: Array<{ bytes: Uint8Array; key: string } | undefined> = new Array(4096);

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes one message. One instance per `decode` call. */
export class Reader {
  private readonly src: Buffer;
  private pos = 0;
  private end: number;
  private readonly refs: unknown[] = [];
  /**
   * Filled by {@link scan}: modules that must be imported, and those only
   * error classes need (made on first use: most messages refer to none).
   */
  required: Set<string> | undefined;
  optional: Set<string> | undefined;

  constructor(
    bytes: Uint8Array,
    private readonly context: DecodeContext | undefined,
  ) {
    if (!(bytes instanceof Uint8Array) && !ArrayBuffer.isView(bytes)) {
      throw new DecodeError(`decode() expects a Uint8Array or Buffer, got ${bytes === null ? 'null' : typeof bytes}`);
    }
    this.src = asBuffer(bytes);
    this.end = this.src.length;
  }

  /** Decodes the whole message. */
  decode(): unknown {
    if (this.end === 0) throw new DecodeError('empty message: no bytes to decode');
    try {
      const value = this.read();
      if (this.pos !== this.end) throw this.fail(`${this.end - this.pos} unexpected bytes after the value`);
      return value;
    } catch (error) {
      throw this.wrap(error);
    }
  }

  /** Walks the whole message without building anything and collects the modules it refers to. */
  scan(): void {
    if (this.end === 0) throw new DecodeError('empty message: no bytes to decode');
    try {
      this.skip();
      if (this.pos !== this.end) throw this.fail(`${this.end - this.pos} unexpected bytes after the value`);
    } catch (error) {
      throw this.wrap(error);
    }
  }

  private wrap(error: unknown): DecodeError {
    if (error instanceof DecodeError) return error;
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      return new DecodeError('message is nested too deeply to decode', { offset: this.pos, cause: error });
    }
    return new DecodeError(`could not decode message at byte ${this.pos}: ${(error as Error)?.message ?? String(error)}`, {
      offset: this.pos,
      cause: error,
    });
  }

  private fail(message: string): DecodeError {
    return new DecodeError(`invalid message at byte ${this.pos}: ${message}`, { offset: this.pos });
  }

  private truncated(): DecodeError {
    return new DecodeError(`truncated message: it ends at byte ${this.end} inside a value`, { offset: this.pos });
  }

  private need(n: number): void {
    if (n > this.end - this.pos) throw this.truncated();
  }

  private byte(): number {
    if (this.pos >= this.end) throw this.truncated();
    return this.src[this.pos++]!;
  }

  private u16(): number {
    this.need(2);
    const v = this.src.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.src.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  read(): unknown {
    const t = this.byte();
    if (t < 0x80) return t;
    if (t < 0x90) return this.readMap(t & 0x0f);
    if (t < 0xa0) return this.readArray(t & 0x0f);
    if (t < 0xc0) return this.readStr(t & 0x1f);
    if (t >= 0xe0) return t - 0x100;
    let v: number | bigint;
    switch (t) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.readBin(this.byte());
      case 0xc5:
        return this.readBin(this.u16());
      case 0xc6:
        return this.readBin(this.u32());
      case 0xc7:
        return this.readExt(this.byte());
      case 0xc8:
        return this.readExt(this.u16());
      case 0xc9:
        return this.readExt(this.u32());
      case 0xca:
        this.need(4);
        v = this.src.readFloatBE(this.pos);
        this.pos += 4;
        return v;
      case 0xcb:
        this.need(8);
        v = this.src.readDoubleBE(this.pos);
        this.pos += 8;
        return v;
      case 0xcc:
        return this.byte();
      case 0xcd:
        return this.u16();
      case 0xce:
        return this.u32();
      case 0xcf:
        this.need(8);
        v = this.src.readBigUInt64BE(this.pos);
        this.pos += 8;
        return v;
      case 0xd0:
        this.need(1);
        return this.src.readInt8(this.pos++);
      case 0xd1:
        this.need(2);
        v = this.src.readInt16BE(this.pos);
        this.pos += 2;
        return v;
      case 0xd2:
        this.need(4);
        v = this.src.readInt32BE(this.pos);
        this.pos += 4;
        return v;
      case 0xd3:
        this.need(8);
        v = this.src.readBigInt64BE(this.pos);
        this.pos += 8;
        return v;
      case 0xd4:
        return this.readExt(1);
      case 0xd5:
        return this.readExt(2);
      case 0xd6:
        return this.readExt(4);
      case 0xd7:
        return this.readExt(8);
      case 0xd8:
        return this.readExt(16);
      case 0xd9:
        return this.readStr(this.byte());
      case 0xda:
        return this.readStr(this.u16());
      case 0xdb:
        return this.readStr(this.u32());
      case 0xdc:
        return this.readArray(this.u16());
      case 0xdd:
        return this.readArray(this.u32());
      case 0xde:
        return this.readMap(this.u16());
      case 0xdf:
        return this.readMap(this.u32());
      default:
        this.pos--;
        throw this.fail(`byte 0x${t.toString(16)} does not start any MessagePack value`);
    }
  }

  private readStr(n: number): string {
    this.need(n);
    const start = this.pos;
    this.pos += n;
    if (n < 16) {
      // Short strings are mostly ASCII: building them here beats a call into C++.
      const src = this.src;
      let ascii = true;
      for (let i = start; i < start + n; i++) {
        if (src[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        switch (n) {
          case 0:
            return '';
          case 1:
            return String.fromCharCode(src[start]!);
          case 2:
            return String.fromCharCode(src[start]!, src[start + 1]!);
          case 3:
            return String.fromCharCode(src[start]!, src[start + 1]!, src[start + 2]!);
          case 4:
            return String.fromCharCode(src[start]!, src[start + 1]!, src[start + 2]!, src[start + 3]!);
          case 5:
            return String.fromCharCode(src[start]!, src[start + 1]!, src[start + 2]!, src[start + 3]!, src[start + 4]!);
          case 6:
            return String.fromCharCode(src[start]!, src[start + 1]!, src[start + 2]!, src[start + 3]!, src[start + 4]!, src[start + 5]!);
          case 7:
            return String.fromCharCode(src[start]!, src[start + 1]!, src[start + 2]!, src[start + 3]!, src[start + 4]!, src[start + 5]!, src[start + 6]!);
          case 8:
            return String.fromCharCode(src[start]!, src[start + 1]!, src[start + 2]!, src[start + 3]!, src[start + 4]!, src[start + 5]!, src[start + 6]!, src[start + 7]!);
          default:
            return (src as unknown as Latin1).latin1Slice(start, start + n);
        }
      }
    }
    return (this.src as unknown as Latin1).utf8Slice(start, start + n);
  }

  /** A map key: short ones come from a cache so repeated keys are one string. */
  private readKeyString(n: number): string {
    if (n > 24 || n === 0) return this.readStr(n);
    this.need(n);
    const src = this.src;
    const start = this.pos;
    let hash = n;
    for (let i = start; i < start + n; i++) hash = (hash * 31 + src[i]!) | 0;
    const slot = (hash >>> 0) & 4095;
    const entry = keyCache[slot];
    if (entry && entry.bytes.length === n) {
      const bytes = entry.bytes;
      let same = true;
      for (let i = 0; i < n; i++) {
        if (bytes[i] !== src[start + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.pos += n;
        return entry.key;
      }
    }
    const key = this.readStr(n);
    keyCache[slot] = { bytes: Uint8Array.prototype.slice.call(src, start, start + n), key };
    return key;
  }

  private readArray(n: number): unknown[] {
    if (n > this.end - this.pos) throw this.truncated();
    // Made at its size up to PRESIZED_ARRAY elements (a growing array takes room for 16 at once); past
    // that it grows as its elements arrive, so nested arrays that each claim the rest of the message
    // allocate nothing. Every array starts the same way, so decoding code sees one kind of array.
    const presized = Math.min(n, PRESIZED_ARRAY);
    const array = new Array<unknown>(presized);
    this.refs.push(array);
    const src = this.src;
    for (let i = 0; i < n; i++) {
      // A hole (fixext 1 of type Hole) leaves the index empty.
      if (src[this.pos] === 0xd4 && src[this.pos + 1] === ExtType.Hole && this.pos + 3 <= this.end) {
        this.pos += 3;
        if (i >= presized) array.length++;
      } else if (i < presized) array[i] = this.read();
      else array.push(this.read()); // past the end by push: a store there would undo optimized code
    }
    return array;
  }

  private readMapHeader(): number {
    const t = this.byte();
    let n: number;
    if (t >= 0x80 && t < 0x90) n = t & 0x0f;
    else if (t === 0xde) n = this.u16();
    else if (t === 0xdf) n = this.u32();
    else {
      this.pos--;
      throw this.fail('expected a map');
    }
    if (n > (this.end - this.pos) / 2) throw this.truncated();
    return n;
  }

  private readArrayHeader(): number {
    const t = this.byte();
    let n: number;
    if (t >= 0x90 && t < 0xa0) n = t & 0x0f;
    else if (t === 0xdc) n = this.u16();
    else if (t === 0xdd) n = this.u32();
    else {
      this.pos--;
      throw this.fail('expected an array');
    }
    if (n > this.end - this.pos) throw this.truncated();
    return n;
  }

  /** A key of a map that becomes an object: a string, or a primitive turned into one; `PENDING` for anything else. */
  private readKey(): string | typeof PENDING {
    const t = this.src[this.pos];
    if (t !== undefined && t >= 0xa0 && t < 0xc0) {
      this.pos++;
      return this.readKeyString(t & 0x1f);
    }
    const key = this.read();
    if (typeof key === 'string') return key;
    if (key === null || typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean' || key === undefined) return String(key);
    return PENDING;
  }

  private readMap(n: number): unknown {
    if (n > (this.end - this.pos) / 2) throw this.truncated();
    const object: Record<string, unknown> = {};
    const index = this.refs.length;
    this.refs.push(object);
    const entriesAt = this.pos;
    for (let i = 0; i < n; i++) {
      const key = this.readKey();
      if (key === PENDING) return this.readMapAsMap(n, index, entriesAt);
      const value = this.read();
      if (key === '__proto__') Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
      else object[key] = value;
    }
    return object;
  }

  /** A map with a key that is not a string (from another implementation): read it again as a Map. */
  private readMapAsMap(n: number, index: number, entriesAt: number): Map<unknown, unknown> {
    const map = new Map<unknown, unknown>();
    this.refs.length = index;
    this.refs.push(map);
    this.pos = entriesAt;
    for (let i = 0; i < n; i++) {
      const key = this.read();
      map.set(key, this.read());
    }
    return map;
  }

  /** Reads map entries into `target` as own enumerable data properties (never through a setter). */
  private readFieldsInto(target: object): void {
    const n = this.readMapHeader();
    for (let i = 0; i < n; i++) {
      const key = this.readKey();
      if (key === PENDING) throw this.fail('object fields must have string keys');
      const value = this.read();
      Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
    }
  }

  private readBin(n: number): Buffer {
    this.need(n);
    const out = Buffer.allocUnsafe(n);
    this.src.copy(out, 0, this.pos, this.pos + n);
    this.pos += n;
    this.refs.push(out);
    return out;
  }

  private readString(what: string): string {
    const value = this.read();
    if (typeof value !== 'string') throw this.fail(`expected ${what} to be a string`);
    return value;
  }

  private copyBytes(start: number, end: number): ArrayBuffer {
    const buffer = new ArrayBuffer(end - start);
    new Uint8Array(buffer).set(this.src.subarray(start, end));
    return buffer;
  }

  private resolve(module: string, name: string): Function {
    const fn = resolveLoadedReference(module, name);
    if (fn) return fn;
    throw new DecodeError(
      `the message refers to "${name}" of ${module}, which is not loaded in this process; use decodeAsync() (it imports the module) or import the module before decode()`,
      { module, offset: this.pos },
    );
  }

  private readExt(length: number): unknown {
    this.need(length + 1);
    const type = this.src.readInt8(this.pos++);
    const start = this.pos;
    const end = start + length;
    switch (type) {
      case ExtType.Undefined:
      case ExtType.Hole:
        this.pos = end;
        return undefined;
      case ExtType.Timestamp:
        this.pos = end;
        return this.readTimestamp(start, length);
      case ExtType.Ref: {
        let index: number;
        if (length === 1) index = this.src[start]!;
        else if (length === 2) index = this.src.readUInt16BE(start);
        else if (length === 4) index = this.src.readUInt32BE(start);
        else throw this.fail('bad reference length');
        this.pos = end;
        if (index >= this.refs.length) throw this.fail(`reference to object #${index}, which does not exist (yet)`);
        const value = this.refs[index];
        if (value === PENDING) throw this.fail(`reference to object #${index} from inside its own data (a cycle through a registered or reduced object is not supported)`);
        return value;
      }
      case ExtType.BigInt: {
        if (length === 0) throw this.fail('empty bigint');
        this.pos = end;
        let v = BigInt(`0x${this.src.toString('hex', start, end)}`);
        if (this.src[start]! >= 0x80) v -= 1n << BigInt(length * 8);
        return v;
      }
      case ExtType.TypedArray: {
        if (length === 0) throw this.fail('empty typed array extension');
        const name = typedArrayKinds[this.src[start]!];
        if (name === undefined) throw this.fail(`unknown typed array kind ${this.src[start]}`);
        const Ctor = typedArrayConstructors[name];
        const bytes = length - 1;
        if (bytes % (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT !== 0) throw this.fail(`${name} of ${bytes} bytes`);
        this.pos = end;
        const value = new Ctor(this.copyBytes(start + 1, end));
        this.refs.push(value);
        return value;
      }
      case ExtType.ArrayBuffer: {
        this.pos = end;
        const value = this.copyBytes(start, end);
        this.refs.push(value);
        return value;
      }
      case ExtType.DataView: {
        this.pos = end;
        const value = new DataView(this.copyBytes(start, end));
        this.refs.push(value);
        return value;
      }
      case ExtType.Symbol:
        this.pos = end;
        return Symbol.for(this.src.toString('utf8', start, end));
      case ExtType.String16:
        if (length % 2 !== 0) throw this.fail('UTF-16 string of odd length');
        this.pos = end;
        return this.src.toString('utf16le', start, end);
    }
    // The rest carry MessagePack values: read them within the payload, which they must fill exactly.
    const outer = this.end;
    this.end = end;
    let value: unknown;
    switch (type) {
      case ExtType.Map:
        value = this.readMapExt();
        break;
      case ExtType.Set:
        value = this.readSetExt();
        break;
      case ExtType.RegExp: {
        const source = this.readString('a RegExp source');
        const flags = this.readString('RegExp flags');
        try {
          value = new RegExp(source, flags);
        } catch (error) {
          throw this.fail(`invalid RegExp /${source}/${flags}: ${(error as Error).message}`);
        }
        this.refs.push(value);
        break;
      }
      case ExtType.Error:
        value = this.readErrorExt();
        break;
      case ExtType.Function:
        value = this.resolve(this.readString('a module'), this.readString('an export name'));
        break;
      case ExtType.Instance:
        value = this.readInstanceExt();
        break;
      case ExtType.Reduce:
        value = this.readReduceExt();
        break;
      case ExtType.Registered:
        value = this.readRegisteredExt();
        break;
      case ExtType.NullProto: {
        const object = Object.create(null) as Record<string, unknown>;
        this.refs.push(object);
        const n = this.readMapHeader();
        for (let i = 0; i < n; i++) {
          const key = this.readKey();
          if (key === PENDING) throw this.fail('object keys must be strings');
          object[key] = this.read();
        }
        value = object;
        break;
      }
      default:
        this.pos = start - 1;
        throw this.fail(`unknown extension type ${type}`);
    }
    if (this.pos !== end) throw this.fail(`extension of type ${type} has ${end - this.pos} bytes more than its value`);
    this.end = outer;
    return value;
  }

  private readTimestamp(start: number, length: number): Date {
    let value: Date;
    if (length === 4) value = new Date(this.src.readUInt32BE(start) * 1000);
    else if (length === 8) {
      const high = this.src.readUInt32BE(start);
      const low = this.src.readUInt32BE(start + 4);
      const nanos = high >>> 2;
      const seconds = (high & 3) * 2 ** 32 + low;
      value = new Date(seconds * 1000 + Math.floor(nanos / 1e6));
    } else if (length === 12) {
      const nanos = this.src.readUInt32BE(start);
      const seconds = Number(this.src.readBigInt64BE(start + 4));
      value = new Date(seconds * 1000 + Math.floor(nanos / 1e6));
    } else if (length === 1) value = new Date(Number.NaN);
    else throw this.fail(`timestamp of ${length} bytes`);
    this.refs.push(value);
    return value;
  }

  private readMapExt(): Map<unknown, unknown> {
    const map = new Map<unknown, unknown>();
    this.refs.push(map);
    const n = this.readMapHeader();
    for (let i = 0; i < n; i++) {
      const key = this.read();
      map.set(key, this.read());
    }
    return map;
  }

  private readSetExt(): Set<unknown> {
    const set = new Set<unknown>();
    this.refs.push(set);
    const n = this.readArrayHeader();
    for (let i = 0; i < n; i++) set.add(this.read());
    return set;
  }

  private readErrorExt(): Error {
    const index = this.refs.length;
    this.refs.push(PENDING);
    const n = this.readMapHeader();
    let classes: unknown;
    let name = 'Error';
    let message = '';
    let stack: string | undefined;
    let error: Error | undefined;
    const build = (): Error => {
      if (!error) {
        error = createError(classes, name, message, stack);
        this.refs[index] = error;
      }
      return error;
    };
    for (let i = 0; i < n; i++) {
      const key = this.readString('an error field name');
      switch (key) {
        case 'classes':
          classes = this.read();
          break;
        case 'name':
          name = this.readString('an error name');
          if (error) Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true, enumerable: false });
          break;
        case 'message':
          message = this.readString('an error message');
          if (error) Object.defineProperty(error, 'message', { value: message, writable: true, configurable: true, enumerable: false });
          break;
        case 'stack':
          stack = this.readString('an error stack');
          if (error) Object.defineProperty(error, 'stack', { value: stack, writable: true, configurable: true, enumerable: false });
          break;
        case 'cause': {
          const e = build();
          setErrorCause(e, this.read());
          break;
        }
        case 'errors': {
          const e = build();
          setErrorErrors(e, this.read());
          break;
        }
        case 'props': {
          const e = build();
          const m = this.readMapHeader();
          for (let j = 0; j < m; j++) {
            const prop = this.readKey();
            if (prop === PENDING) throw this.fail('error property names must be strings');
            setErrorProp(e, prop, this.read());
          }
          break;
        }
        default:
          this.read();
      }
    }
    return build();
  }

  private readInstanceExt(): object {
    const module = this.readString('a module');
    const name = this.readString('an export name');
    const cls = this.resolve(module, name);
    const proto = cls.prototype as unknown;
    if (proto === null || typeof proto !== 'object') throw this.fail(`"${name}" of ${module} is not a class`);
    const instance = Object.create(proto) as object;
    this.refs.push(instance);
    this.readFieldsInto(instance);
    return instance;
  }

  private readReduceExt(): unknown {
    const index = this.refs.length;
    this.refs.push(PENDING);
    const module = this.readString('a module');
    const name = this.readString('an export name');
    const construct = this.read();
    const args = this.read();
    if (typeof construct !== 'boolean' || !Array.isArray(args)) throw this.fail('malformed reduce extension');
    const fn = this.resolve(module, name);
    // Only what opted in may be called: a message must never be able to call any function it names.
    if (!isReduceCallable(fn)) {
      throw new DecodeError(
        `refusing to call "${name}" of ${module} to rebuild a value: it is neither a class that defines [reduce]() nor a function declared with registerConstructor()`,
        { module, offset: this.pos },
      );
    }
    let value: unknown;
    try {
      value = construct ? Reflect.construct(fn, args) : (fn as (...a: unknown[]) => unknown)(...args);
    } catch (error) {
      throw new DecodeError(`rebuilding a value with "${name}" of ${module} failed: ${(error as Error)?.message ?? String(error)}`, {
        cause: error,
        offset: this.pos,
      });
    }
    this.refs[index] = value;
    return value;
  }

  private readRegisteredExt(): unknown {
    const index = this.refs.length;
    this.refs.push(PENDING);
    const name = this.readString('a registered type name');
    const module = this.read();
    const spec = registeredTypeByName(name);
    if (!spec) {
      const where = typeof module === 'string' ? `decode it with decodeAsync(), which imports ${module}, or import that module first` : `import the package that registers it (it calls registerType({ name: "${name}", … })) before decoding`;
      throw new DecodeError(`the message holds a value of type "${name}", which is not registered in this process; ${where}`, {
        offset: this.pos,
      });
    }
    const data = this.read();
    let value: unknown;
    try {
      value = spec.decode(data, this.context);
    } catch (error) {
      if (error instanceof DecodeError) throw error;
      throw new DecodeError(`decoding a value of registered type "${name}" failed: ${(error as Error)?.message ?? String(error)}`, {
        cause: error,
        offset: this.pos,
      });
    }
    this.refs[index] = value;
    return value;
  }

  // ---- scanning (decodeAsync): the same grammar, nothing built ----

  private skip(): void {
    const t = this.byte();
    if (t < 0x80 || t >= 0xe0) return;
    if (t < 0x90) return this.skipEntries(t & 0x0f);
    if (t < 0xa0) return this.skipItems(t & 0x0f);
    if (t < 0xc0) return this.skipBytes(t & 0x1f);
    switch (t) {
      case 0xc0:
      case 0xc2:
      case 0xc3:
        return;
      case 0xc4:
      case 0xd9:
        return this.skipBytes(this.byte());
      case 0xc5:
      case 0xda:
        return this.skipBytes(this.u16());
      case 0xc6:
      case 0xdb:
        return this.skipBytes(this.u32());
      case 0xc7:
        return this.skipExt(this.byte());
      case 0xc8:
        return this.skipExt(this.u16());
      case 0xc9:
        return this.skipExt(this.u32());
      case 0xca:
        return this.skipBytes(4);
      case 0xcb:
        return this.skipBytes(8);
      case 0xcc:
      case 0xd0:
        return this.skipBytes(1);
      case 0xcd:
      case 0xd1:
        return this.skipBytes(2);
      case 0xce:
      case 0xd2:
        return this.skipBytes(4);
      case 0xcf:
      case 0xd3:
        return this.skipBytes(8);
      case 0xd4:
        return this.skipExt(1);
      case 0xd5:
        return this.skipExt(2);
      case 0xd6:
        return this.skipExt(4);
      case 0xd7:
        return this.skipExt(8);
      case 0xd8:
        return this.skipExt(16);
      case 0xdc:
        return this.skipItems(this.u16());
      case 0xdd:
        return this.skipItems(this.u32());
      case 0xde:
        return this.skipEntries(this.u16());
      case 0xdf:
        return this.skipEntries(this.u32());
      default:
        this.pos--;
        throw this.fail(`byte 0x${t.toString(16)} does not start any MessagePack value`);
    }
  }

  private skipBytes(n: number): void {
    this.need(n);
    this.pos += n;
  }

  private skipItems(n: number): void {
    if (n > this.end - this.pos) throw this.truncated();
    for (let i = 0; i < n; i++) this.skip();
  }

  private skipEntries(n: number): void {
    if (n > (this.end - this.pos) / 2) throw this.truncated();
    for (let i = 0; i < 2 * n; i++) this.skip();
  }

  private skipExt(length: number): void {
    this.need(length + 1);
    const type = this.src.readInt8(this.pos++);
    const start = this.pos;
    const end = start + length;
    switch (type) {
      case ExtType.Function:
      case ExtType.Instance:
      case ExtType.Reduce:
      case ExtType.Error:
      case ExtType.Map:
      case ExtType.Set:
      case ExtType.RegExp:
      case ExtType.Registered:
      case ExtType.NullProto:
        break;
      default:
        this.pos = end;
        return;
    }
    const outer = this.end;
    this.end = end;
    if (type === ExtType.Function || type === ExtType.Instance || type === ExtType.Reduce) {
      const module = this.readString('a module');
      const name = this.readString('an export name');
      if (!isReferenceLoaded(module, name)) (this.required ??= new Set()).add(module);
    } else if (type === ExtType.Registered) {
      const name = this.readString('a registered type name');
      const module = this.read();
      if (typeof module === 'string' && !registeredTypeByName(name)) (this.required ??= new Set()).add(module);
    } else if (type === ExtType.Error) {
      const n = this.readMapHeader();
      for (let i = 0; i < n; i++) {
        const key = this.readString('an error field name');
        if (key === 'classes') {
          const classes = this.read();
          for (const [module, name] of candidateReferences(classes)) if (!isReferenceLoaded(module, name)) (this.optional ??= new Set()).add(module);
        } else this.skip();
      }
    }
    while (this.pos < end) this.skip();
    if (this.pos !== end) throw this.fail(`extension of type ${type} overruns its payload`);
    this.end = outer;
  }
}
