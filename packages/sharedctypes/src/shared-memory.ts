/**
 * `SharedMemory`: Python's `multiprocessing.shared_memory.SharedMemory`, a
 * named POSIX block (`/dev/shm/<name>`) that any process — another Node
 * program, or Python — can attach to by name.
 *
 * Cleanup, as Python's resource tracker does it: a block this process
 * *creates* is unlinked by a small tracker process when this process ends
 * without having called `unlink()` — after a normal exit, an uncaught error
 * or `SIGKILL` alike (with a warning on stderr). Attaching does not track a
 * block. Pass `track: false` to create a block that outlives its creator
 * until someone unlinks it.
 */
import { closeFd, mapSharedMemory, shmOpen, shmUnlink, type NamedSharedMemoryBlock } from '@mpjs/native';
import { ValueError, randomBytes } from '@mpjs/util';
import { describe } from './ctypes.js';
import { track, untrack } from './resource-tracker.js';

/** Options of {@link SharedMemory}, as Python's `SharedMemory(name=None, create=False, size=0, *, track=True)`. */
export interface SharedMemoryOptions {
  /** The block's name (with or without a leading `/`); omitted with `create`, a fresh `psm_…` name is chosen. */
  name?: string;
  /** Create a new block (it must not exist); default `false`: attach to an existing one. */
  create?: boolean;
  /** Bytes of a new block (required with `create`); ignored when attaching (the whole block is mapped). */
  size?: number;
  /** Unlink a created block when this process ends without unlinking it (default `true`). */
  track?: boolean;
}

/** What travels between processes (internal). */
export interface SharedMemoryState {
  readonly name: string;
  readonly size: number;
  /** An open descriptor of the block, when it travelled with the message. */
  readonly fd?: number;
}

let attachFd: SharedMemoryState | null = null;
let stateOf: (shm: SharedMemory) => SharedMemoryState;

function freshName(): string {
  // Python's names: 'psm_' and 8 hex digits (14 characters with the slash, for FreeBSD).
  return `psm_${randomBytes(4).toString('hex')}`;
}

/**
 * A named block of shared memory (Python's `SharedMemory`).
 *
 * ```ts
 * const shm = new SharedMemory({ create: true, size: 1024 });
 * shm.buf.write('hello');
 * // elsewhere: new SharedMemory({ name: shm.name }).buf.toString('utf8', 0, 5) === 'hello'
 * shm.close();
 * shm.unlink();
 * ```
 */
export class SharedMemory implements Disposable {
  #name: string;
  #size: number;
  #fd: number;
  #buf: Buffer | null;
  #tracked: boolean;

  /**
   * Creates a block (`{ create: true, size }`) or attaches to one by name
   * (`{ name }`, or just the name as a string).
   */
  constructor(options: SharedMemoryOptions | string = {}) {
    const received = attachFd;
    attachFd = null;
    if (received !== null) {
      // Rebuilt from a descriptor that travelled with a message.
      this.#name = received.name;
      this.#fd = received.fd!;
      this.#size = received.size;
      this.#buf = Buffer.from(mapSharedMemory(this.#fd, received.size), 0, received.size);
      this.#tracked = false;
      return;
    }
    const opts = typeof options === 'string' ? { name: options } : options;
    if (opts === null || typeof opts !== 'object') {
      throw new TypeError(`SharedMemory: expected options such as { name, create, size } or a name, got ${describe(options)}`);
    }
    const create = opts.create ?? false;
    const size = opts.size ?? 0;
    const tracked = opts.track ?? true;
    if (typeof create !== 'boolean') throw new TypeError(`SharedMemory: "create" must be a boolean, got ${describe(create)}`);
    if (typeof tracked !== 'boolean') throw new TypeError(`SharedMemory: "track" must be a boolean, got ${describe(tracked)}`);
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
      throw new ValueError(`SharedMemory: "size" must be a positive integer (bytes), got ${describe(opts.size)}`);
    }
    if (create && size === 0) throw new ValueError('SharedMemory: "size" must be a positive number different from zero to create a block');
    if (opts.name === undefined && !create) {
      throw new ValueError('SharedMemory: "name" can only be omitted with { create: true }; give the name of the block to attach to');
    }

    let block: NamedSharedMemoryBlock;
    if (opts.name === undefined) {
      for (;;) {
        try {
          block = shmOpen(freshName(), { create: true, size });
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
      }
    } else {
      block = create ? shmOpen(opts.name, { create: true, size }) : shmOpen(opts.name);
    }
    this.#name = block.name;
    this.#fd = block.fd;
    this.#size = block.size;
    this.#buf = Buffer.from(block.buffer, 0, block.size);
    this.#tracked = create && tracked;
    if (this.#tracked) {
      try {
        track(block.name);
      } catch (error) {
        closeFd(block.fd);
        shmUnlink(block.name);
        throw error;
      }
    }
  }

  /** The bytes of the block: a `Buffer` over the shared memory (Python's `buf`). Throws after `close()`. */
  get buf(): Buffer {
    if (this.#buf === null) throw new ValueError(`SharedMemory '${this.#name}' is closed; attach to it again to use its memory`);
    return this.#buf;
  }

  /** The block's name, without the leading slash (as Python shows it). */
  get name(): string {
    return this.#name;
  }

  /** Size in bytes. */
  get size(): number {
    return this.#size;
  }

  /**
   * Closes this process's access to the block (not the block itself): `buf`
   * is unusable afterwards. Views taken from `buf` keep the mapping alive
   * until they are collected. Calling it again does nothing.
   */
  close(): void {
    if (this.#buf === null) return;
    this.#buf = null;
    closeFd(this.#fd);
    this.#fd = -1;
  }

  /**
   * Removes the block's name (Python's `unlink()`): the memory is freed once
   * every process has closed it. Call it once, from any one process.
   */
  unlink(): void {
    try {
      shmUnlink(this.#name);
    } finally {
      // Gone either way (ENOENT: another process unlinked it): the tracker must not unlink the name later.
      if (this.#tracked) {
        this.#tracked = false;
        untrack(this.#name);
      }
    }
  }

  /** Closes (the `using` protocol); the block is not unlinked. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `SharedMemory('psm_1a2b3c4d', size=1024)`, as Python shows it. */
  toString(): string {
    return `SharedMemory('${this.#name}', size=${this.#size})`;
  }

  static {
    stateOf = (shm) => (shm.#fd >= 0 ? { name: shm.#name, size: shm.#size, fd: shm.#fd } : { name: shm.#name, size: shm.#size });
  }
}

/** What travels of a block (internal): the name and size, and the descriptor while it is open. */
export function sharedMemoryState(shm: SharedMemory): SharedMemoryState {
  return stateOf(shm);
}

/** Rebuilds a block that travelled (internal); takes ownership of the descriptor that came with it. */
export function sharedMemoryFromState(state: SharedMemoryState): SharedMemory {
  if (state.fd === undefined) return new SharedMemory({ name: state.name });
  attachFd = state;
  try {
    return new SharedMemory();
  } finally {
    attachFd = null;
  }
}
