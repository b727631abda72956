/**
 * `Lock`: Python's `multiprocessing.Lock`, a non-recursive lock in shared
 * memory. Once a process or thread has acquired it, any other attempt to
 * acquire it — from any process, thread or async task — waits until it is
 * released; any process or thread may release it.
 *
 * Cell words: 0 the mutex word (0 free, 1 taken, 2 taken and wanted), 1–2 the
 * pid and thread of the last acquirer (cleared on release; what a Condition
 * checks), 15 the tag.
 */
import { ValueError } from '@mpjs/util';
import { Held, hold, holdSync } from './held.js';
import { lockAsync, lockSync, tryLock, unlock } from './mutex.js';
import { deadline, parseAcquire, type AcquireOptions, type AcquireSyncOptions, type HoldOptions } from './options.js';
import { adoptCell, claimCell, ownerPid, ownerTid, Tag, type Cell } from './shared-state.js';
import { kCell, kFromCell, kIsMine, kReleaseAll, kRestore, kRestoreSync, type ConditionLock } from './symbols.js';
import { cellOfShareable, shareableOf, type ShareableLock } from './shareable.js';

const OWNER_PID = 1;
const OWNER_TID = 2;
const TRUE = Promise.resolve(true);

/**
 * A non-recursive lock shared between processes and threads (Python's
 * `multiprocessing.Lock`). Pass it to a child as a `Process` argument, send
 * it over a `Pipe()`, or post `toShareable()` to a worker thread.
 *
 * @example
 * ```ts
 * const lock = new Lock();
 * await lock.acquire();
 * try { console.log('only one at a time'); } finally { lock.release(); }
 * // or, releasing at the end of the scope:
 * await using _ = await lock.hold();
 * ```
 */
export class Lock implements ConditionLock {
  readonly #cell: Cell;
  readonly #view: Int32Array;
  readonly #i: number;

  constructor() {
    const { cell } = claimCell(Tag.Lock);
    this.#cell = cell;
    this.#view = cell.chunk.view;
    this.#i = cell.base;
  }

  /**
   * Acquires the lock (Python's `acquire(block=True, timeout=None)`),
   * without blocking the event loop. Resolves `true` once acquired, `false`
   * if `block` is false and the lock is taken, or if `timeout` milliseconds
   * pass first (a negative timeout is 0; `block: false` ignores it).
   * Aborting `signal` rejects with its reason.
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    const view = this.#view;
    const i = this.#i;
    if (options === undefined && tryLock(view, i)) {
      view[i + OWNER_PID] = ownerPid;
      view[i + OWNER_TID] = ownerTid;
      return TRUE;
    }
    return this.#acquireSlow(options);
  }

  async #acquireSlow(options: AcquireOptions | undefined): Promise<boolean> {
    const { ms, signal } = parseAcquire('Lock.acquire', options);
    if (!(await lockAsync(this.#view, this.#i, deadline(ms), signal))) return false;
    this.#view[this.#i + OWNER_PID] = ownerPid;
    this.#view[this.#i + OWNER_TID] = ownerTid;
    return true;
  }

  /**
   * Blocking form of {@link Lock.acquire}: the calling thread sleeps until
   * the lock is acquired or the timeout passes. Meant for worker threads and
   * CPU-bound code; on the main thread it stalls the event loop while it
   * waits (and waits for ever if the holder is an async task of the same thread).
   */
  acquireSync(options?: AcquireSyncOptions): boolean {
    const view = this.#view;
    const i = this.#i;
    if (options === undefined) {
      if (!tryLock(view, i) && !lockSync(view, i, Infinity)) return false;
    } else {
      const { ms } = parseAcquire('Lock.acquireSync', options);
      if (!tryLock(view, i) && (ms === 0 || !lockSync(view, i, deadline(ms)))) return false;
    }
    view[i + OWNER_PID] = ownerPid;
    view[i + OWNER_TID] = ownerTid;
    return true;
  }

  /**
   * Releases the lock; any process or thread may call it. Releasing a lock
   * that is not locked throws a `ValueError`, as in Python.
   */
  release(): void {
    const view = this.#view;
    const i = this.#i;
    view[i + OWNER_PID] = 0;
    view[i + OWNER_TID] = 0;
    if (unlock(view, i) === 0) {
      throw new ValueError('semaphore or lock released too many times: release() was called on a Lock that is not locked');
    }
  }

  /**
   * Acquires the lock and returns a guard that releases it when disposed:
   * `await using _ = await lock.hold()` (Python's `with lock:`). Rejects with
   * a `TimeoutError` if `timeout` passes first.
   */
  hold(options?: HoldOptions): Promise<Held> {
    return hold(this, 'Lock', options);
  }

  /** Blocking form of {@link Lock.hold}: `using _ = lock.holdSync()`. */
  holdSync(options?: Omit<HoldOptions, 'signal'>): Held {
    return holdSync(this, 'Lock', options);
  }

  /**
   * A description of this lock that `postMessage` can carry to a worker
   * thread of this process (the shared memory is shared, not copied);
   * `Lock.fromShareable()` there gives the same lock.
   */
  toShareable(): ShareableLock {
    return shareableOf('Lock', this.#cell);
  }

  /** The lock described by {@link Lock.toShareable} in another thread. */
  static fromShareable(data: ShareableLock): Lock {
    return Lock[kFromCell](cellOfShareable(data, ['Lock'], 'Lock'));
  }

  /** @internal The lock living in `cell` (rebuilt after travelling). */
  static [kFromCell](cell: Cell): Lock {
    return adoptCell(cell, Tag.Lock, 'Lock', () => new Lock());
  }

  /** @internal */
  get [kCell](): Cell {
    return this.#cell;
  }

  /** @internal Whether this process and thread acquired the lock last and it is still locked. */
  [kIsMine](): boolean {
    const view = this.#view;
    const i = this.#i;
    return Atomics.load(view, i) !== 0 && view[i + OWNER_PID] === ownerPid && view[i + OWNER_TID] === ownerTid;
  }

  /** @internal */
  [kReleaseAll](): number {
    this.release();
    return 1;
  }

  /** @internal */
  async [kRestore](): Promise<void> {
    await this.acquire();
  }

  /** @internal */
  [kRestoreSync](): void {
    this.acquireSync();
  }

  /** @internal */
  toString(): string {
    return `Lock(${Atomics.load(this.#view, this.#i) === 0 ? 'unlocked' : 'locked'})`;
  }
}
