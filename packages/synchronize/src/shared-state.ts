/**
 * Where the primitives keep their state: 64-byte cells of shared memory,
 * carved out of 4 KiB chunks.
 *
 * A chunk is one anonymous memfd (`createSharedMemory`) mapped as a
 * `SharedArrayBuffer`. Cell 0 of a chunk is its header (a magic word and a
 * random 64-bit id); cells 1–63 each hold one primitive (16 32-bit words,
 * one cache line, so two primitives never share a line). A thread allocates
 * from its own current chunk and never reuses a cell, so allocation is a
 * bump of an index: no syscall, no lock, no file descriptor per primitive.
 * A chunk lives as long as any process or thread maps it or holds its
 * descriptor; the kernel frees it when the last one is gone, however the
 * processes end (SIGKILL included). Nothing is ever named in `/dev/shm`.
 *
 * A chunk travels to another process as its file descriptor (a handle of the
 * codec's side channel) plus its id; a receiver that already maps the chunk
 * (two primitives of one chunk, or the same primitive twice) keeps one
 * mapping and closes the extra descriptor. To another thread of the same
 * process it travels as its `SharedArrayBuffer`.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { endianness } from 'node:os';
import { isMainThread, threadId } from 'node:worker_threads';
import { closeFd, createSharedMemory, mapSharedMemory } from '@mpjs/native';
import { DecodeError, SerializationError, type DecodeContext, type EncodeContext, type HandleRecord } from '@mpjs/serialization';
import { lazyBuiltin } from '@mpjs/util';

/** Loaded when this process first makes shared state, not with the package. */
const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');

/** 32-bit words per cell. */
export const CELL_WORDS = 16;
/** Bytes per chunk: one page. */
export const CHUNK_BYTES = 4096;
const CELLS_PER_CHUNK = CHUNK_BYTES / (CELL_WORDS * 4);
/** 'mpsy': marks a chunk header. */
const CHUNK_MAGIC = 0x6d707379;
/** The last word of every cell holds the tag of the primitive living there. */
export const TAG_WORD = CELL_WORDS - 1;
/** What the codec calls a chunk's descriptor. */
export const HANDLE_KIND = 'mpjs.synchronize.chunk';

/** Which primitive a cell holds (checked when a primitive is rebuilt from a cell). */
export const Tag = {
  Lock: 0x4c4f434b,
  RLock: 0x524c434b,
  Semaphore: 0x53454d41,
  BoundedSemaphore: 0x42534d41,
  Condition: 0x434f4e44,
  Event: 0x45564e54,
  Barrier: 0x42415252,
} as const;
export type Tag = (typeof Tag)[keyof typeof Tag];

/** This thread as the owner of a lock: the pid, and the thread id plus one (so no word is ever 0 for an owner). */
export const ownerPid: number = process.pid;
export const ownerTid: number = threadId + 1;

/** Index (in 32-bit words) of the low half of a 64-bit word at even index `i`. */
export const lowHalf: (i: number) => number = endianness() === 'LE' ? (i) => i : (i) => i + 1;

/** One block of shared memory holding up to 63 primitives. */
export class Chunk {
  /** Random id written in the header: how receivers recognise a chunk they already map. */
  readonly id: string;
  readonly buffer: SharedArrayBuffer;
  readonly view: Int32Array;
  /** Our descriptor of the memory, or -1 when this thread has none (see {@link cellFromShareable}). */
  readonly fd: number;
  /** Whether `fd` was opened with `node:fs` (Node tracks those in worker threads: they must be closed with it). */
  readonly viaFs: boolean;
  /** Next free cell (only the creating thread allocates). */
  next = 1;
  #identity: { dev: number; ino: number } | undefined;

  constructor(id: string, buffer: SharedArrayBuffer, fd: number, viaFs = false) {
    this.id = id;
    this.buffer = buffer;
    this.view = new Int32Array(buffer);
    this.fd = fd;
    this.viaFs = viaFs;
  }

  /** Device and inode of the memory, to recognise its descriptor from another thread. */
  identity(): { dev: number; ino: number } | undefined {
    if (this.#identity === undefined && this.fd >= 0) {
      const st = fstatSync(this.fd);
      this.#identity = { dev: st.dev, ino: st.ino };
    }
    return this.#identity;
  }
}

/** A primitive's place: its chunk and the index of its first word. */
export interface Cell {
  readonly chunk: Chunk;
  /** Index of the cell's first 32-bit word in `chunk.view`. */
  readonly base: number;
}

/** Chunks this thread maps, by id, so each is mapped (and its descriptor held) once. */
const known = new Map<string, WeakRef<Chunk>>();
/** Descriptors held by this thread's chunks (→ opened with `node:fs`), closed when the chunk object is collected. */
const owned = new Map<number, boolean>();
const cleanup = new FinalizationRegistry<{ id: string; fd: number }>(({ id, fd }) => {
  if (known.get(id)?.deref() === undefined) known.delete(id);
  const viaFs = owned.get(fd);
  if (viaFs !== undefined) {
    owned.delete(fd);
    closeQuietly(fd, viaFs);
  }
});

function closeQuietly(fd: number, viaFs = false): void {
  try {
    if (viaFs) closeSync(fd);
    else closeFd(fd);
  } catch {
    // already closed: nothing to release
  }
}

// A worker thread's descriptors belong to the whole process: close them when the worker ends.
if (!isMainThread) {
  process.once('exit', () => {
    for (const [fd, viaFs] of owned) closeQuietly(fd, viaFs);
    owned.clear();
  });
}

function remember(chunk: Chunk): Chunk {
  known.set(chunk.id, new WeakRef(chunk));
  if (chunk.fd >= 0) owned.set(chunk.fd, chunk.viaFs);
  cleanup.register(chunk, { id: chunk.id, fd: chunk.fd });
  return chunk;
}

function headerId(view: Int32Array): string | null {
  if (view.length < CELL_WORDS || Atomics.load(view, 0) !== CHUNK_MAGIC) return null;
  return ((view[1]! >>> 0).toString(16).padStart(8, '0') + (view[2]! >>> 0).toString(16).padStart(8, '0'));
}

function newChunk(): Chunk {
  const block = createSharedMemory(CHUNK_BYTES);
  const view = new Int32Array(block.buffer);
  const id = crypto().randomFillSync(new Int32Array(2));
  view[1] = id[0]!;
  view[2] = id[1]!;
  Atomics.store(view, 0, CHUNK_MAGIC);
  return remember(new Chunk(headerId(view)!, block.buffer, block.fd));
}

let current: Chunk | null = null;
let adopted: { cell: Cell; tag: Tag } | null = null;

/**
 * The cell for a primitive being constructed: the one handed over by
 * {@link adoptCell} (when a primitive is rebuilt from shared memory that
 * already holds it), or a fresh, zeroed one tagged `tag`.
 */
export function claimCell(tag: Tag): { cell: Cell; fresh: boolean } {
  if (adopted !== null) {
    const { cell } = adopted;
    adopted = null;
    return { cell, fresh: false };
  }
  if (current === null || current.next >= CELLS_PER_CHUNK) current = newChunk();
  const cell = { chunk: current, base: current.next++ * CELL_WORDS };
  Atomics.store(current.view, cell.base + TAG_WORD, tag);
  return { cell, fresh: true };
}

/**
 * Runs `construct` (a `new` of a primitive class) so that its constructor
 * takes over `cell` instead of allocating one, after checking that the cell
 * holds a primitive of that kind.
 */
export function adoptCell<T>(cell: Cell, tag: Tag, what: string, construct: () => T): T {
  const { view } = cell.chunk;
  if (!Number.isInteger(cell.base) || cell.base < CELL_WORDS || cell.base % CELL_WORDS !== 0 || cell.base + CELL_WORDS > view.length) {
    throw new DecodeError(`a ${what} refers to cell ${String(cell.base)}, which is not a cell of its shared memory`);
  }
  if (Atomics.load(view, cell.base + TAG_WORD) !== tag) {
    throw new DecodeError(`the shared memory sent as a ${what} does not hold a ${what}`);
  }
  adopted = { cell, tag };
  try {
    return construct();
  } finally {
    adopted = null;
  }
}

/** How a cell is described inside an encoded message. */
export interface CellData {
  /** Index of the chunk's descriptor in the message's handles. */
  h: number;
  /** Chunk id. */
  id: string;
  /** First word of the cell. */
  at: number;
}

/**
 * Describes `cell` for the codec and puts its chunk's descriptor on the
 * side channel (once per message). Without an encode context there is no
 * way for the descriptor to travel: Python's error.
 */
export function encodeCell(cell: Cell, context: EncodeContext | undefined, what: string): CellData {
  if (context === undefined) {
    throw new SerializationError(
      `${what} objects should only be shared between processes through inheritance: pass it in the args of a ` +
        'Process, or send it over a Connection made by Pipe(); to share it with a worker thread, post ' +
        `${what.charAt(0).toLowerCase()}${what.slice(1)}.toShareable() and rebuild it with ${what}.fromShareable()`,
    );
  }
  const { chunk } = cell;
  if (chunk.fd < 0) {
    throw new SerializationError(
      `this ${what} came from another thread whose copy of its shared memory is gone, so it cannot be passed to ` +
        'another process from this thread; pass it from the thread that created it, or keep that copy alive',
    );
  }
  let h = context.handles.findIndex((r) => r.fd === chunk.fd && r.kind === HANDLE_KIND);
  if (h < 0) h = context.handles.push({ fd: chunk.fd, kind: HANDLE_KIND, meta: { id: chunk.id } }) - 1;
  return { h, id: chunk.id, at: cell.base };
}

/** Descriptors of a message already turned into chunks (one message may name a chunk many times). */
const consumed = new WeakMap<HandleRecord, Chunk>();

/** The cell an encoded message describes; takes ownership of the descriptor that came with it. */
export function decodeCell(data: unknown, context: DecodeContext | undefined, what: string): Cell {
  const d = data as Partial<CellData> | null;
  if (d === null || typeof d !== 'object' || typeof d.h !== 'number' || typeof d.id !== 'string' || typeof d.at !== 'number') {
    throw new DecodeError(`malformed ${what}: expected { h, id, at }`);
  }
  const record = context?.handles[d.h];
  if (record === undefined) {
    throw new DecodeError(
      `the shared memory of a ${what} did not arrive with the message (handle ${d.h} is missing); ` +
        'it must travel as a Process argument or over a Connection made by Pipe()',
    );
  }
  let chunk = consumed.get(record);
  if (chunk === undefined) {
    chunk = known.get(d.id)?.deref();
    if (chunk !== undefined) {
      // Already mapped here: keep one mapping and one descriptor.
      if (record.fd !== chunk.fd) closeQuietly(record.fd);
    } else {
      const buffer = mapSharedMemory(record.fd);
      const id = headerId(new Int32Array(buffer));
      if (id !== d.id) {
        throw new DecodeError(`the shared memory that arrived for a ${what} is not the one it was sent with (expected chunk ${d.id}, got ${String(id)})`);
      }
      chunk = remember(new Chunk(id, buffer, record.fd));
    }
    consumed.set(record, chunk);
  }
  return { chunk, base: d.at };
}

/** What a cell becomes in a {@link toShareable}-style description for another thread. */
export interface ShareableCell {
  /** The chunk's memory (shared, not copied, by `postMessage`). */
  buffer: SharedArrayBuffer;
  /** Chunk id. */
  chunk: string;
  /** First word of the cell. */
  at: number;
  /** The sender's descriptor of the memory (descriptors are per process, so the receiving thread can open its own from it), or -1. */
  fd: number;
  /** Device of the memory, to check that `fd` still refers to it. */
  dev: number;
  /** Inode of the memory, to check that `fd` still refers to it. */
  ino: number;
}

/** Describes `cell` for `postMessage` to a worker thread of this process. */
export function shareCell(cell: Cell): ShareableCell {
  const { chunk } = cell;
  const identity = chunk.identity();
  return { buffer: chunk.buffer, chunk: chunk.id, at: cell.base, fd: identity ? chunk.fd : -1, dev: identity?.dev ?? 0, ino: identity?.ino ?? 0 };
}

/**
 * Opens our own descriptor of the memory another thread holds as `fd`, if it
 * still does (with `node:fs`, which in a worker thread also closes it when the
 * worker ends, should nothing else have).
 */
function reopen(fd: number, dev: number, ino: number): number {
  if (fd < 0) return -1;
  let own: number;
  try {
    own = openSync(`/proc/self/fd/${fd}`, 'r+');
  } catch {
    return -1;
  }
  try {
    const st = fstatSync(own);
    if (st.dev === dev && st.ino === ino) return own;
  } catch {
    // fall through: not the memory we were told about
  }
  closeSync(own);
  return -1;
}

/** The cell a {@link ShareableCell} describes, in this thread. */
export function cellFromShareable(data: ShareableCell, what: string): Cell {
  if (data === null || typeof data !== 'object' || !(data.buffer instanceof SharedArrayBuffer) || typeof data.chunk !== 'string' || typeof data.at !== 'number') {
    throw new TypeError(`${what}.fromShareable() expects what ${what.charAt(0).toLowerCase()}${what.slice(1)}.toShareable() returned (posted to this thread)`);
  }
  let chunk = known.get(data.chunk)?.deref();
  if (chunk === undefined) {
    const id = headerId(new Int32Array(data.buffer));
    if (id !== data.chunk) throw new TypeError(`${what}.fromShareable(): the buffer is not the shared memory of a ${what}`);
    const fd = reopen(data.fd, data.dev, data.ino);
    chunk = remember(new Chunk(id, data.buffer, fd, fd >= 0));
  }
  return { chunk, base: data.at };
}
