/**
 * Where shared objects live (internal): arenas of anonymous shared memory
 * (`memfd`) from which values and arrays are carved, as Python's
 * `multiprocessing.heap` carves them from mmap arenas.
 *
 * An arena travels to another process as one file descriptor; the receiver
 * maps it whole and finds each object at its offset. Memory never leaks: the
 * kernel frees an arena when the last descriptor and mapping of it are gone,
 * however the processes end. Blocks are never reused within an arena (a child
 * may still use a block whose owner the parent has dropped), so an arena is
 * given back only when no object in this process refers to it any more.
 */
import { fstatSync } from 'node:fs';
import { closeFd, createSharedMemory, mapSharedMemory } from '@mpjs/native';

/** Bytes addressable by typed arrays and a `DataView`: an arena, or local memory. */
export interface Region {
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  /** A view over the whole buffer, for struct fields. */
  readonly dv: DataView;
  /** The arena, when the memory is shared (can travel to another process). */
  readonly arena: Arena | null;
}

/** A block of anonymous shared memory, mapped in this process. */
export interface Arena extends Region {
  readonly buffer: SharedArrayBuffer;
  readonly arena: Arena;
  /** The descriptor that lets the arena travel; closed when the arena is collected. */
  readonly fd: number;
  readonly size: number;
  /** Next free byte (arenas this process allocates from); `size` for received ones. */
  top: number;
  /** The memfd's inode, to recognise an arena that arrives twice. */
  readonly inode: number;
}

/** Arenas this size serve small objects; bigger objects get an arena of their own. */
const ARENA_SIZE = 1 << 20;
const OWN_ARENA_THRESHOLD = ARENA_SIZE / 4;
const PAGE = 4096;
/** Every block starts on this boundary: enough for any C type. */
export const BLOCK_ALIGNMENT = 16;

const fdCloser = new FinalizationRegistry<number>((fd) => {
  try {
    closeFd(fd);
  } catch {
    // Already closed (the process is going away): nothing to give back.
  }
});

function makeArena(fd: number, buffer: SharedArrayBuffer, top: number): Arena {
  const arena = {
    buffer,
    dv: new DataView(buffer),
    fd,
    size: buffer.byteLength,
    top,
    inode: fstatSync(fd).ino,
  } as Omit<Arena, 'arena'> as Arena;
  (arena as { arena: Arena }).arena = arena;
  fdCloser.register(arena, fd);
  known.set(arena.inode, new WeakRef(arena));
  forget.register(arena, arena.inode);
  return arena;
}

/** Arenas mapped in this process by inode, so an arena that arrives again is mapped once. */
const known = new Map<number, WeakRef<Arena>>();
const forget = new FinalizationRegistry<number>((inode) => {
  const ref = known.get(inode);
  if (ref !== undefined && ref.deref() === undefined) known.delete(inode);
});

let current: Arena | null = null;

function newArena(size: number): Arena {
  const block = createSharedMemory(size);
  return makeArena(block.fd, block.buffer, 0);
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/** A zero-filled block of shared memory of `size` bytes (at least one), aligned to {@link BLOCK_ALIGNMENT}. */
export function allocate(size: number): { arena: Arena; offset: number } {
  const bytes = alignUp(Math.max(size, 1), BLOCK_ALIGNMENT);
  if (bytes > OWN_ARENA_THRESHOLD) return { arena: newArena(alignUp(bytes, PAGE)), offset: 0 };
  if (current === null || current.top + bytes > current.size) current = newArena(ARENA_SIZE);
  const offset = current.top;
  current.top += bytes;
  return { arena: current, offset };
}

/** Local (unshared) memory for objects built outside shared memory, such as `new Point(1, 2)`. */
export function localRegion(size: number): Region {
  const buffer = new ArrayBuffer(Math.max(size, 1));
  return { buffer, dv: new DataView(buffer), arena: null };
}


/**
 * The arena behind a descriptor that arrived from another process. Takes
 * ownership of `fd`: it is kept open (so the arena can travel on) and closed
 * when the arena is collected, or closed at once if the arena is mapped here
 * already.
 */
export function adoptArena(fd: number): Arena {
  const mapped = known.get(fstatSync(fd).ino)?.deref();
  if (mapped !== undefined) {
    if (mapped.fd !== fd) closeFd(fd);
    return mapped;
  }
  const buffer = mapSharedMemory(fd);
  return makeArena(fd, buffer, buffer.byteLength);
}
