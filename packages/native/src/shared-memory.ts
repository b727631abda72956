/**
 * Shared memory as `SharedArrayBuffer`s: anonymous blocks passed between
 * processes as file descriptors, and named POSIX blocks (`/dev/shm`) that
 * Python's `multiprocessing.shared_memory.SharedMemory(name)` can open too.
 *
 * Anonymous blocks cannot leak: the kernel frees them when the last
 * descriptor and the last mapping are gone, whichever way the processes end
 * (`SIGKILL` included). Named blocks live until {@link shmUnlink}.
 */
import { constants } from 'node:os';
import { ValueError } from '@mpjs/util';
import { native } from './binding.js';
import { systemError } from './system-error.js';
import { checkFd, checkInteger, checkOptions, describe } from './validate.js';

/** A block of shared memory: its descriptor, its size in bytes, and a mapping of it. */
export interface SharedMemoryBlock {
  /** The file descriptor (close-on-exec); pass it to another process to share the block. Close it with {@link closeFd}. */
  readonly fd: number;
  /** Size of the mapping in bytes. */
  readonly size: number;
  /** The mapped bytes; unmapped when the last `SharedArrayBuffer` over them is collected. */
  readonly buffer: SharedArrayBuffer;
}

/** A named block from {@link shmOpen}. */
export interface NamedSharedMemoryBlock extends SharedMemoryBlock {
  /** The name without its leading slash, as Python's `SharedMemory.name` shows it. */
  readonly name: string;
  /** Whether this call created the block (and so should {@link shmUnlink} it eventually). */
  readonly created: boolean;
}

/** Options of {@link shmOpen}. */
export interface ShmOpenOptions {
  /** Create the block if it does not exist (default `false`). */
  create?: boolean;
  /** With `create`: fail with `EEXIST` if the block exists (default `true`, as Python's `create=True`). */
  exclusive?: boolean;
  /**
   * Bytes. Required when a block is created. When opening an existing block,
   * maps only this many bytes (at most the block's size); omitted maps it all.
   */
  size?: number;
}

const { ENOENT, EEXIST } = constants.errno;

/** Largest size accepted: what a JavaScript number holds exactly. */
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

function checkSize(fn: string, name: string, size: unknown): number {
  return checkInteger(fn, name, size, 1, MAX_SIZE);
}

/** Maps `size` bytes of `fd`, or throws a Node-style error. */
function map(fd: number, size: number, target?: string): SharedArrayBuffer {
  const result = native.mmapShared(fd, size);
  if (typeof result === 'number') {
    throw systemError(result, 'mmap', target === undefined ? { message: `cannot map ${size} bytes of fd ${fd}` } : { target });
  }
  return result;
}

/**
 * Creates an anonymous block of shared memory (`memfd_create`) of `size`
 * bytes, zero-filled, and maps it. Its size is sealed: no process can shrink
 * it under another's mapping.
 *
 * Share it by handing `fd` to another process (in its stdio table at spawn,
 * or with {@link sendFds}) and calling {@link mapSharedMemory} there.
 */
export function createSharedMemory(size: number): SharedMemoryBlock {
  checkSize('createSharedMemory', 'size', size);
  const fd = native.memfdCreate(size);
  if (fd < 0) throw systemError(fd, 'memfd_create', { message: `cannot create ${size} bytes of shared memory` });
  try {
    return { fd, size, buffer: map(fd, size) };
  } catch (error) {
    native.closeFd(fd);
    throw error;
  }
}

/**
 * Maps shared memory given by a file descriptor (from
 * {@link createSharedMemory}, {@link shmOpen} or any shareable file) as a
 * `SharedArrayBuffer`. The descriptor can be closed afterwards; the mapping
 * stays valid.
 *
 * @param size Bytes to map from the start; omitted maps the whole block. Never more than the block holds.
 */
export function mapSharedMemory(fd: number, size?: number): SharedArrayBuffer {
  const fn = 'mapSharedMemory';
  checkFd(fn, 'fd', fd);
  if (size !== undefined) checkSize(fn, 'size', size);
  const actual = native.fstatSize(fd);
  if (actual < 0) throw systemError(actual, 'fstat', { message: `fd ${fd} is not an open file descriptor` });
  if (actual === 0) {
    throw new ValueError(`${fn}: the shared memory behind fd ${fd} is empty (0 bytes); there is nothing to map`);
  }
  if (size !== undefined && size > actual) {
    throw new RangeError(`${fn}: "size" is ${size} bytes but the shared memory behind fd ${fd} holds only ${actual}`);
  }
  return map(fd, size ?? actual);
}

/** Closes a file descriptor (of shared memory, a socket, …). */
export function closeFd(fd: number): void {
  checkFd('closeFd', 'fd', fd);
  const rc = native.closeFd(fd);
  if (rc < 0) throw systemError(rc, 'close', { message: `cannot close fd ${fd}` });
}

/** Checks a POSIX shared memory name; returns it with and without the leading slash. */
function normalizeName(fn: string, name: unknown): { path: string; name: string } {
  if (typeof name !== 'string') {
    throw new TypeError(`${fn}: "name" must be a string such as "psm_1a2b3c", got ${describe(name)}`);
  }
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (bare === '' || bare.includes('/') || bare.includes('\0') || bare === '.' || bare === '..') {
    throw new ValueError(
      `${fn}: ${JSON.stringify(name)} is not a valid shared memory name: use a non-empty name with no "/" ` +
        'other than an optional leading one, e.g. "psm_1a2b3c"',
    );
  }
  if (Buffer.byteLength(bare) > 254) {
    throw new ValueError(`${fn}: the name ${JSON.stringify(name)} is too long (at most 254 bytes)`);
  }
  return { path: `/${bare}`, name: bare };
}

function namedError(errno: number, syscall: string, name: string): NodeJS.ErrnoException {
  if (errno === -ENOENT) {
    return systemError(errno, syscall, {
      target: `/${name}`,
      message: `no shared memory block named '${name}' (it was never created or has been unlinked)`,
    });
  }
  if (errno === -EEXIST) {
    return systemError(errno, syscall, {
      target: `/${name}`,
      message: `a shared memory block named '${name}' already exists; choose another name, or open it with { create: false }`,
    });
  }
  return systemError(errno, syscall, { target: `/${name}` });
}

/**
 * Opens (or creates) a named POSIX shared memory block, as Python's
 * `SharedMemory(name, create, size)` does, and maps it. Names are accepted
 * with or without the leading slash (`'psm_1a2b'` or `'/psm_1a2b'`).
 *
 * A created block outlives every process until {@link shmUnlink}; prefer
 * {@link createSharedMemory} when Python interoperability by name is not needed.
 */
export function shmOpen(name: string, options?: ShmOpenOptions): NamedSharedMemoryBlock {
  const fn = 'shmOpen';
  const { path, name: bare } = normalizeName(fn, name);
  const opts = checkOptions<ShmOpenOptions>(fn, options);
  const create = opts.create ?? false;
  const exclusive = opts.exclusive ?? true;
  if (typeof create !== 'boolean') throw new TypeError(`${fn}: "create" must be a boolean, got ${describe(create)}`);
  if (typeof exclusive !== 'boolean') throw new TypeError(`${fn}: "exclusive" must be a boolean, got ${describe(exclusive)}`);
  if (opts.size !== undefined) checkSize(fn, 'size', opts.size);
  if (create && opts.size === undefined) {
    throw new TypeError(`${fn}: "size" (bytes, at least 1) is required to create the block '${bare}'`);
  }

  let created = false;
  let fd: number;
  if (create) {
    fd = native.shmOpen(path, true, true);
    created = fd >= 0;
    if (fd === -EEXIST && !exclusive) fd = native.shmOpen(path, false, false);
  } else {
    fd = native.shmOpen(path, false, false);
  }
  if (fd < 0) throw namedError(fd, 'shm_open', bare);

  try {
    if (created) {
      const rc = native.ftruncate(fd, opts.size!);
      if (rc < 0) throw systemError(rc, 'ftruncate', { target: path });
    }
    const actual = native.fstatSize(fd);
    if (actual < 0) throw systemError(actual, 'fstat', { target: path });
    const size = opts.size ?? actual;
    if (size > actual) {
      if (actual === 0 && create) {
        // Created by another process that has not sized it yet: size it (never shrink).
        const rc = native.ftruncate(fd, size);
        if (rc < 0) throw systemError(rc, 'ftruncate', { target: path });
      } else {
        throw new ValueError(`${fn}: the shared memory block '${bare}' holds ${actual} bytes, fewer than the ${size} asked for`);
      }
    }
    if (size === 0) {
      throw new ValueError(`${fn}: the shared memory block '${bare}' is empty (0 bytes); there is nothing to map`);
    }
    return { fd, size, buffer: map(fd, size, path), name: bare, created };
  } catch (error) {
    native.closeFd(fd);
    if (created) native.shmUnlink(path);
    throw error;
  }
}

/**
 * Removes a named block (Python's `SharedMemory.unlink()`): the name goes
 * away at once, the memory when the last mapping and descriptor are gone.
 */
export function shmUnlink(name: string): void {
  const { path, name: bare } = normalizeName('shmUnlink', name);
  const rc = native.shmUnlink(path);
  if (rc < 0) throw namedError(rc, 'shm_unlink', bare);
}
