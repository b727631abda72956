// Loads the registrations that let shared objects travel to other processes.
export {} from './travel.js';

export {
  c_char,
  c_wchar,
  c_byte,
  c_ubyte,
  c_short,
  c_ushort,
  c_int,
  c_uint,
  c_long,
  c_ulong,
  c_longlong,
  c_ulonglong,
  c_float,
  c_double,
  c_bool,
  c_size_t,
  c_ssize_t,
  c_int8,
  c_uint8,
  c_int16,
  c_uint16,
  c_int32,
  c_uint32,
  c_int64,
  c_uint64,
  typecodeToType,
  isCType,
} from './ctypes.js';
export type {
  AnyCType,
  CType,
  CharInput,
  Elements,
  InputOf,
  IntInput,
  SimpleType,
  TypeCode,
  TypeCodeInputs,
  TypeCodeValues,
  TypeOrCode,
  ValueOf,
} from './ctypes.js';
export { Structure, StructBase } from './structure.js';
export type { FieldInfo, Fields, Struct, StructInit, StructType, StructureFunction, StructureOptions } from './structure.js';
export { RawValue, RawArray, arrayOf } from './raw.js';
export type { ArrayInit, ArrayType, ArrayValueOf, ElementsOf, SliceOf, TypeCodeElements } from './raw.js';
export { Value, SharedArray, synchronized, copy, isSynchronized } from './synchronized.js';
export type { SharedArrayConstructor, SyncLock, SynchronizedOptions, ValueConstructor } from './synchronized.js';
export { SharedMemory } from './shared-memory.js';
export type { SharedMemoryOptions } from './shared-memory.js';
export { ShareableList } from './shareable-list.js';
export type { ShareableInput, ShareableListOptions, ShareableValue } from './shareable-list.js';
export { Lock, RLock } from '@mpjs/synchronize';
export { ValueError } from '@mpjs/util';
