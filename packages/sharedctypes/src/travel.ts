/**
 * How shared objects travel to other processes: each class is registered with
 * the codec of `@mpjs/serialization`. A value or array encodes as its type,
 * the offset of its memory, and the arena's file descriptor on the codec's
 * side channel; `Process` puts the descriptor in the child's descriptor table
 * (Python's inheritance) and a `Connection` made by `Pipe()` passes it with
 * `SCM_RIGHTS`. The receiver maps the arena once however many objects live
 * in it. Synchronized objects travel as their raw object and their lock;
 * `SharedMemory` and `ShareableList` as their descriptor and name (by name
 * alone when there is no side channel, as in Python).
 */
import { registerType, type DecodeContext, type EncodeContext } from '@mpjs/serialization';
import { kImpl, scalarByName, type AnyCType, type TypeDescriptor } from './ctypes.js';
import { adoptArena, type Arena, type Region } from './memory.js';
import { arrayOf, RawArray, rawArrayAt, RawValue, rawLocation, rawValueAt } from './raw.js';
import { shareableListOn, ShareableList } from './shareable-list.js';
import { SharedMemory, sharedMemoryFromState, sharedMemoryState } from './shared-memory.js';
import { Structure, StructBase, structLocation, structTypeFor } from './structure.js';
import { SharedArray, Value, wrap, type SyncLock } from './synchronized.js';

/** The kind of the handles this package puts on the side channel. */
const HANDLE_KIND = 'shared-memory';

interface Placed {
  /** Index of the arena's descriptor in the message's handles. */
  h: number;
  /** Byte offset in the arena. */
  o: number;
  /** The type. */
  t: TypeDescriptor;
}

function noChannel(what: string): Error {
  return new TypeError(
    `${what} objects should only be shared between processes through inheritance: pass it as a Process argument or send it over a Pipe() (a message without a channel for file descriptors cannot carry shared memory)`,
  );
}

/** The handle index of `arena` in this message, adding it once. */
function handleOf(arena: Arena, context: EncodeContext | undefined, what: string): number {
  if (context === undefined) throw noChannel(what);
  const found = context.handles.findIndex((h) => h.fd === arena.fd && h.kind === HANDLE_KIND);
  if (found >= 0) return found;
  return context.handles.push({ fd: arena.fd, kind: HANDLE_KIND }) - 1;
}

function place(region: Region, offset: number, type: AnyCType, context: EncodeContext | undefined, what: string): Placed {
  if (region.arena === null) {
    throw new TypeError(`this ${what} lives in local memory (inside a structure made with new ${type.name}(…)?); copy() it into shared memory to send it`);
  }
  return { h: handleOf(region.arena, context, what), o: offset, t: type[kImpl].descriptor };
}

function malformed(what: string): TypeError {
  return new TypeError(`malformed ${what}: the message does not describe a shared object`);
}

/** The type a descriptor describes: the same scalar, an equal structure type (the first defined here), an array type. */
function typeOf(descriptor: unknown, depth = 0): AnyCType {
  if (depth > 64) throw malformed('type');
  if (typeof descriptor === 'string') {
    const type = scalarByName(descriptor);
    if (type === undefined) throw new TypeError(`unknown C type ${JSON.stringify(descriptor)} in a message`);
    return type;
  }
  if (descriptor !== null && typeof descriptor === 'object') {
    const d = descriptor as Record<string, unknown>;
    if (Array.isArray(d.struct) && typeof d.name === 'string' && typeof d.pack === 'number') {
      const known = structTypeFor(descriptor as TypeDescriptor);
      if (known !== undefined) return known as unknown as AnyCType;
      const fields: Record<string, AnyCType> = {};
      for (const entry of d.struct as unknown[]) {
        if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw malformed('structure type');
        fields[entry[0]] = typeOf(entry[1], depth + 1);
      }
      return Structure(fields, { name: d.name, pack: d.pack }) as unknown as AnyCType;
    }
    if (typeof d.length === 'number' && 'array' in d) return arrayOf(typeOf(d.array, depth + 1), d.length) as unknown as AnyCType;
  }
  throw malformed('type');
}

function located(data: unknown, context: DecodeContext | undefined, what: string): { region: Arena; offset: number; type: AnyCType } {
  const d = data as Partial<Placed> | null;
  if (d === null || typeof d !== 'object' || typeof d.h !== 'number' || typeof d.o !== 'number') throw malformed(what);
  const handle = context?.handles[d.h];
  if (handle === undefined) throw new TypeError(`the shared memory of a ${what} did not arrive with the message`);
  const type = typeOf(d.t);
  const region = adoptArena(handle.fd);
  if (!Number.isInteger(d.o) || d.o < 0 || d.o > region.size) throw malformed(what);
  return { region, offset: d.o, type };
}

registerType<RawValue>({
  name: 'mpjs.sharedctypes.RawValue',
  module: import.meta.url,
  type: RawValue,
  encode: (value, context) => {
    const { region, offset, type } = rawLocation(value);
    return place(region, offset, type, context, 'RawValue');
  },
  decode: (data, context) => {
    const { region, offset, type } = located(data, context, 'RawValue');
    return rawValueAt(type, region, offset);
  },
});

registerType<RawArray>({
  name: 'mpjs.sharedctypes.RawArray',
  module: import.meta.url,
  type: RawArray,
  encode: (array, context) => {
    const { region, offset, type, length } = rawLocation(array);
    return { ...place(region, offset, type, context, 'RawArray'), n: length };
  },
  decode: (data, context) => {
    const { region, offset, type } = located(data, context, 'RawArray');
    const n = (data as { n?: unknown }).n;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw malformed('RawArray');
    return rawArrayAt(type, n, region, offset);
  },
});

registerType<StructBase>({
  name: 'mpjs.sharedctypes.Structure',
  module: import.meta.url,
  type: StructBase,
  encode: (struct, context) => {
    const { region, offset } = structLocation(struct);
    return place(region, offset, struct.constructor as unknown as AnyCType, context, 'structure');
  },
  decode: (data, context) => {
    const { region, offset, type } = located(data, context, 'structure');
    if (type[kImpl].kind !== 'struct') throw malformed('structure');
    return type[kImpl].load(region, offset) as StructBase;
  },
});

function registerSynchronized<T extends Value | SharedArray>(name: string, type: abstract new (...args: never[]) => T, raw: typeof RawValue | typeof RawArray): void {
  registerType<T>({
    name: `mpjs.sharedctypes.${name}`,
    module: import.meta.url,
    type,
    encode: (value, context) => {
      if (context === undefined) throw noChannel(name);
      return { obj: value.getObj(), lock: value.getLock() };
    },
    decode: (data) => {
      const { obj, lock } = (data ?? {}) as { obj?: unknown; lock?: unknown };
      if (!(obj instanceof raw) || lock === null || typeof lock !== 'object') throw malformed(name);
      return wrap(obj as RawValue, lock as SyncLock) as unknown as T;
    },
  });
}

registerSynchronized('Value', Value as unknown as abstract new () => Value, RawValue);
registerSynchronized('SharedArray', SharedArray as unknown as abstract new () => SharedArray, RawArray);

registerType<SharedMemory>({
  name: 'mpjs.sharedctypes.SharedMemory',
  module: import.meta.url,
  type: SharedMemory,
  encode: (shm, context) => {
    const { name, size, fd } = sharedMemoryState(shm);
    if (context === undefined || fd === undefined) return { name, size };
    return { name, size, h: context.handles.push({ fd, kind: 'named-shared-memory' }) - 1 };
  },
  decode: (data, context) => {
    const { name, size, h } = (data ?? {}) as { name?: unknown; size?: unknown; h?: unknown };
    if (typeof name !== 'string' || typeof size !== 'number') throw malformed('SharedMemory');
    const fd = typeof h === 'number' ? context?.handles[h]?.fd : undefined;
    return sharedMemoryFromState(fd === undefined ? { name, size } : { name, size, fd });
  },
});

registerType<ShareableList>({
  name: 'mpjs.sharedctypes.ShareableList',
  module: import.meta.url,
  type: ShareableList,
  encode: (list) => ({ shm: list.shm }),
  decode: (data) => {
    const { shm } = (data ?? {}) as { shm?: unknown };
    if (!(shm instanceof SharedMemory)) throw malformed('ShareableList');
    return shareableListOn(shm);
  },
});
