/**
 * `Structure({ x: c_double, y: c_double })`: C structs with C's layout
 * (each field at its natural alignment, the size rounded up to the largest
 * alignment), as subclasses of Python's `ctypes.Structure` define them.
 *
 * An instance is a view: its fields read and write the bytes it stands on, so
 * an element of a shared array of structs is changed in place (`A[0].x = 1`).
 * `new Point({ x: 1, y: 2 })` or `new Point([1, 2])` makes one in local
 * (unshared) memory; `new RawValue(Point, [1, 2])` in shared memory.
 */
import { inspect } from 'node:util';
import { describe, isCType, kImpl, type AnyCType, type CType, type InputOf, type TypeDescriptor, type TypeImpl, type ValueOf } from './ctypes.js';
import { localRegion, type Region } from './memory.js';

/** The fields of a structure: name → type, in layout order. */
export type Fields = Readonly<Record<string, AnyCType>>;

/** An instance of a structure type: one accessor per field. */
export type Struct<F extends Fields> = StructBase & { -readonly [K in keyof F]: ValueOf<F[K]> };

/** What a structure value can be set from: an object of fields, a positional array, or another instance. */
export type StructInit<F extends Fields> = { readonly [K in keyof F]?: InputOf<F[K]> } | readonly unknown[] | Struct<F>;

/** A field of a structure type: its name, type and byte offset. */
export interface FieldInfo {
  readonly name: string;
  readonly type: AnyCType;
  readonly offset: number;
}

/** Options of {@link Structure}. */
export interface StructureOptions {
  /** The type's name (its class name, in messages and `inspect`); default `'Structure'`. */
  name?: string;
  /** As ctypes' `_pack_`: no field is aligned to more than this many bytes (1, 2, 4 or 8). */
  pack?: number;
}

/** A structure type made by {@link Structure}: a C type and a class of instances. */
export interface StructType<F extends Fields> extends CType<Struct<F>, StructInit<F>> {
  /** An instance in local (unshared) memory, zero-filled, then set from `init`. */
  new (init?: StructInit<F>): Struct<F>;
  readonly prototype: Struct<F>;
  /** The fields in layout order, with their offsets. */
  readonly fields: readonly FieldInfo[];
  /** The ctypes-style field list: `[name, type]` pairs. */
  readonly _fields_: ReadonlyArray<readonly [string, AnyCType]>;
}

const kRegion: unique symbol = Symbol('mpjs.sharedctypes.region') as never;
const kOffset: unique symbol = Symbol('mpjs.sharedctypes.offset') as never;
const kView = Symbol('mpjs.sharedctypes.view');

/** Where a structure instance lives (internal). */
export function structLocation(s: StructBase): { region: Region; offset: number } {
  return { region: s[kRegion], offset: s[kOffset] };
}

/**
 * The base of every structure instance: `p instanceof Structure` holds for
 * any of them.
 */
export abstract class StructBase {
  /** @internal */
  readonly [kRegion]: Region;
  /** @internal */
  readonly [kOffset]: number;

  /** @internal */
  constructor(region: Region, offset: number) {
    this[kRegion] = region;
    this[kOffset] = offset;
  }

  /** A plain object with the values of the fields (nested structures and arrays as plain data too; `c_char` as a `Buffer`, 64-bit integers as bigints). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const { name } of typeOf(this).fields) {
      const v = (this as unknown as Record<string, unknown>)[name];
      out[name] = v !== null && typeof v === 'object' && !ArrayBuffer.isView(v) && typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON(): unknown }).toJSON() : v;
    }
    return out;
  }

  /** `Point(x=1.5, y=2)`, as Python would show the fields. */
  toString(): string {
    const parts = typeOf(this).fields.map(({ name }) => `${name}=${String((this as unknown as Record<string, unknown>)[name])}`);
    return `${typeOf(this).name}(${parts.join(', ')})`;
  }

  /** @internal */
  [inspect.custom](depth: number, options: object, inspectFn: typeof inspect): string {
    return `${typeOf(this).name} ${inspectFn(this.toJSON(), { ...options, depth: depth - 1 })}`;
  }
}

function typeOf(s: StructBase): StructType<Fields> {
  return s.constructor as StructType<Fields>;
}

/** Structure types by their layout, so a type that travels comes back as the same class. */
const bySignature = new Map<string, StructType<Fields>>();

/** The structure type registered with this descriptor, if any (internal). */
export function structTypeFor(descriptor: TypeDescriptor): StructType<Fields> | undefined {
  return bySignature.get(JSON.stringify(descriptor));
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

const identifier = /^[A-Za-z_$][\w$]*$/;

/** Writes a structure value at `offset` (no rollback; callers write to scratch memory first). */
function writeStruct(fields: readonly FieldInfo[], typeName: string, region: Region, offset: number, value: unknown): void {
  if (Array.isArray(value)) {
    if (value.length > fields.length) {
      throw new TypeError(`${typeName}: too many initializers (${value.length} for ${fields.length} fields)`);
    }
    value.forEach((v, i) => {
      const f = fields[i]!;
      f.type[kImpl].store(region, offset + f.offset, v);
    });
    return;
  }
  if (value === null || typeof value !== 'object') {
    throw new TypeError(`${typeName}: expected an object of fields, an array of field values or a ${typeName}, got ${describe(value)}`);
  }
  const names = new Map(fields.map((f) => [f.name, f]));
  for (const [key, v] of Object.entries(value)) {
    const f = names.get(key);
    if (f === undefined) throw new TypeError(`${typeName} has no field ${JSON.stringify(key)}; its fields are ${[...names.keys()].join(', ')}`);
    f.type[kImpl].store(region, offset + f.offset, v);
  }
}

/**
 * Defines a C struct type, as a subclass of Python's `ctypes.Structure` with
 * `_fields_` does. Fields are laid out in the order given, each at its C
 * alignment; the result is usable wherever a C type is (`RawValue`,
 * `SharedArray`, fields of other structures) and as a class of local instances.
 *
 * ```ts
 * const Point = Structure({ x: c_double, y: c_double }, { name: 'Point' });
 * const p = new Point({ x: 1, y: 2 });   // or new Point([1, 2])
 * Point.size;                            // 16
 * ```
 */
function StructureFactory<F extends Fields>(fields: F, options: StructureOptions = {}): StructType<F> {
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
    throw new TypeError(`Structure: expected an object of fields such as { x: c_double, y: c_double }, got ${describe(fields)}`);
  }
  const typeName = options.name ?? 'Structure';
  if (typeof typeName !== 'string' || !identifier.test(typeName)) {
    throw new TypeError(`Structure: "name" must be an identifier such as "Point", got ${describe(options.name)}`);
  }
  const pack = options.pack ?? 0;
  if (![0, 1, 2, 4, 8].includes(pack)) throw new RangeError(`Structure: "pack" must be 1, 2, 4 or 8, got ${describe(options.pack)}`);

  const infos: FieldInfo[] = [];
  let offset = 0;
  let alignment = 1;
  for (const [name, type] of Object.entries(fields)) {
    if (!identifier.test(name)) throw new TypeError(`Structure: field name ${JSON.stringify(name)} is not an identifier`);
    if (name === 'toJSON' || name === 'toString' || name === 'constructor') {
      throw new TypeError(`Structure: a field cannot be named ${JSON.stringify(name)} (a method of structure instances has that name)`);
    }
    if (!isCType(type)) {
      throw new TypeError(`Structure: field ${JSON.stringify(name)} must be a type such as c_int, a Structure or arrayOf(…), got ${describe(type)}`);
    }
    const a = pack === 0 ? type.alignment : Math.min(type.alignment, pack);
    offset = alignUp(offset, a);
    infos.push(Object.freeze({ name, type, offset }));
    offset += type.size;
    alignment = Math.max(alignment, a);
  }
  const size = alignUp(offset, alignment);
  const descriptor: TypeDescriptor = {
    struct: infos.map((f) => [f.name, f.type[kImpl].descriptor] as const),
    name: typeName,
    pack,
  };

  const impl: TypeImpl = {
    kind: 'struct',
    size,
    alignment,
    elements: null,
    fromElement: null,
    toElement: null,
    load: (region, at) => new Struct(kView, region, at),
    store: (region, at, value) => {
      if (value instanceof Struct) {
        const src = value as unknown as StructBase;
        new Uint8Array(region.buffer, at, size).set(new Uint8Array(src[kRegion].buffer, src[kOffset], size));
        return;
      }
      // Build the whole value aside, then copy: a refused field leaves the target untouched.
      const scratch = localRegion(size);
      writeStruct(infos, typeName, scratch, 0, value);
      new Uint8Array(region.buffer, at, size).set(new Uint8Array(scratch.buffer, 0, size));
    },
    descriptor,
  };

  class Struct extends StructBase {
    constructor(init?: unknown, region?: Region, at?: number) {
      const view = init === kView;
      super(view ? region! : localRegion(size), view ? at! : 0);
      if (!view && init !== undefined) impl.store(this[kRegion], 0, init);
    }
  }

  for (const f of infos) {
    const fieldImpl = f.type[kImpl];
    const at = f.offset;
    Object.defineProperty(Struct.prototype, f.name, {
      enumerable: true,
      configurable: false,
      get(this: StructBase) {
        return fieldImpl.load(this[kRegion], this[kOffset] + at);
      },
      set(this: StructBase, value: unknown) {
        fieldImpl.store(this[kRegion], this[kOffset] + at, value);
      },
    });
  }

  Object.defineProperties(Struct, {
    name: { value: typeName },
    code: { value: undefined, enumerable: true },
    size: { value: size, enumerable: true },
    alignment: { value: alignment, enumerable: true },
    fields: { value: Object.freeze(infos), enumerable: true },
    _fields_: { value: Object.freeze(infos.map((f) => Object.freeze([f.name, f.type] as const))), enumerable: true },
    [kImpl]: { value: impl },
  });

  const type = Struct as unknown as StructType<F>;
  const signature = JSON.stringify(descriptor);
  // The first type defined with a layout is the one a received value of that layout gets.
  if (!bySignature.has(signature)) bySignature.set(signature, type as unknown as StructType<Fields>);
  return type;
}

/** {@link Structure}: a factory of struct types, and the base for `instanceof`. */
export interface StructureFunction {
  <F extends Fields>(fields: F, options?: StructureOptions): StructType<F>;
  /** `value instanceof Structure` holds for every structure instance. */
  readonly prototype: StructBase;
}

/**
 * Defines a C struct type (Python's `class Point(ctypes.Structure): _fields_ = …`):
 * `const Point = Structure({ x: c_double, y: c_double }, { name: 'Point' })`.
 * `p instanceof Structure` holds for instances of every structure type.
 */
export const Structure: StructureFunction = Object.defineProperty(StructureFactory, 'prototype', {
  value: StructBase.prototype,
}) as unknown as StructureFunction;
