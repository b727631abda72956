/**
 * `RLock`: Python's `multiprocessing.RLock`, a recursive lock in shared
 * memory. The owner is a process *and* thread (pid plus `threadId`); the
 * owner may acquire it again without waiting and must release it as many
 * times. Only the owner may release it.
 *
 * Ownership is per thread, as in Python: async tasks of one thread share it
 * (a second task's `acquire()` while the first holds the lock only counts a
 * level). To keep the tasks of one thread apart, use a {@link Lock}.
 *
 * Cell words: 0 the mutex word, 1–2 the owner's pid and thread id + 1 (0 when
 * unowned), 3 the recursion level (touched only by the owner), 15 the tag.
 */
import { AssertionError } from '@mpjs/util';
import { Held, hold, holdSync } from './held.js';
import { lockAsync, lockSync, tryLock, unlock } from './mutex.js';
import { deadline, parseAcquire, type AcquireOptions, type AcquireSyncOptions, type HoldOptions } from './options.js';
import { adoptCell, claimCell, ownerPid, ownerTid, Tag, type Cell } from './shared-state.js';
import { cellOfShareable, shareableOf, type ShareableRLock } from './shareable.js';
import { kCell, kFromCell, kIsMine, kReleaseAll, kRestore, kRestoreSync, type ConditionLock } from './symbols.js';

const OWNER_PID = 1;
const OWNER_TID = 2;
const COUNT = 3;
const TRUE = Promise.resolve(true);

/**
 * A recursive lock shared between processes and threads (Python's
 * `multiprocessing.RLock`): the process and thread that acquired it may
 * acquire it again, and must release it once per acquisition.
 */
export class RLock implements ConditionLock {
  readonly #cell: Cell;
  readonly #view: Int32Array;
  readonly #i: number;

  constructor() {
    const { cell } = claimCell(Tag.RLock);
    this.#cell = cell;
    this.#view = cell.chunk.view;
    this.#i = cell.base;
  }

  #mine(): boolean {
    const view = this.#view;
    const i = this.#i;
    return view[i + OWNER_PID] === ownerPid && view[i + OWNER_TID] === ownerTid;
  }

  #own(count: number): void {
    const view = this.#view;
    const i = this.#i;
    view[i + OWNER_PID] = ownerPid;
    view[i + OWNER_TID] = ownerTid;
    view[i + COUNT] = count;
  }

  /**
   * Acquires the lock, or one more level of it when this process and thread
   * own it already. Resolves `true` once acquired, `false` if `block` is
   * false or `timeout` milliseconds pass while another owner holds it.
   * Aborting `signal` rejects with its reason.
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    if (options === undefined) {
      if (this.#mine()) {
        this.#view[this.#i + COUNT] = this.#view[this.#i + COUNT]! + 1;
        return TRUE;
      }
      if (tryLock(this.#view, this.#i)) {
        this.#own(1);
        return TRUE;
      }
    }
    return this.#acquireSlow(options);
  }

  async #acquireSlow(options: AcquireOptions | undefined): Promise<boolean> {
    const { ms, signal } = parseAcquire('RLock.acquire', options);
    if (signal?.aborted) throw signal.reason;
    if (this.#mine()) {
      this.#view[this.#i + COUNT] = this.#view[this.#i + COUNT]! + 1;
      return true;
    }
    if (!(await lockAsync(this.#view, this.#i, deadline(ms), signal))) return false;
    this.#own(1);
    return true;
  }

  /** Blocking form of {@link RLock.acquire} (for worker threads and CPU-bound code). */
  acquireSync(options?: AcquireSyncOptions): boolean {
    const view = this.#view;
    const i = this.#i;
    const ms = options === undefined ? Infinity : parseAcquire('RLock.acquireSync', options).ms;
    if (this.#mine()) {
      view[i + COUNT] = view[i + COUNT]! + 1;
      return true;
    }
    if (!tryLock(view, i) && (ms === 0 || !lockSync(view, i, deadline(ms)))) return false;
    this.#own(1);
    return true;
  }

  /**
   * Releases one level; the last one frees the lock and lets one waiter in.
   * Throws an `AssertionError` when this process and thread do not own it
   * (also when nobody does), as Python's `RLock.release()`.
   */
  release(): void {
    const view = this.#view;
    const i = this.#i;
    if (!this.#mine()) {
      throw new AssertionError(
        'attempt to release recursive lock not owned by thread: only the process and thread that acquired an RLock may release it',
      );
    }
    const count = view[i + COUNT]! - 1;
    if (count > 0) {
      view[i + COUNT] = count;
      return;
    }
    view[i + COUNT] = 0;
    view[i + OWNER_PID] = 0;
    view[i + OWNER_TID] = 0;
    unlock(view, i);
  }

  /** Acquires and returns a guard that releases when disposed: `await using _ = await rlock.hold()`. */
  hold(options?: HoldOptions): Promise<Held> {
    return hold(this, 'RLock', options);
  }

  /** Blocking form of {@link RLock.hold}. */
  holdSync(options?: Omit<HoldOptions, 'signal'>): Held {
    return holdSync(this, 'RLock', options);
  }

  /** A description `postMessage` can carry to a worker thread; `RLock.fromShareable()` there gives the same lock. */
  toShareable(): ShareableRLock {
    return shareableOf('RLock', this.#cell);
  }

  /** The lock described by {@link RLock.toShareable} in another thread. */
  static fromShareable(data: ShareableRLock): RLock {
    return RLock[kFromCell](cellOfShareable(data, ['RLock'], 'RLock'));
  }

  /** @internal */
  static [kFromCell](cell: Cell): RLock {
    return adoptCell(cell, Tag.RLock, 'RLock', () => new RLock());
  }

  /** @internal */
  get [kCell](): Cell {
    return this.#cell;
  }

  /** @internal */
  [kIsMine](): boolean {
    return this.#mine();
  }

  /** @internal Frees every level; returns how many there were. */
  [kReleaseAll](): number {
    const view = this.#view;
    const i = this.#i;
    const count = view[i + COUNT]!;
    view[i + COUNT] = 0;
    view[i + OWNER_PID] = 0;
    view[i + OWNER_TID] = 0;
    unlock(view, i);
    return count;
  }

  /** @internal Takes the lock itself (never as a recursion level: another task of this thread may hold it). */
  async [kRestore](count: number): Promise<void> {
    if (!tryLock(this.#view, this.#i)) await lockAsync(this.#view, this.#i, Infinity, undefined);
    this.#own(count);
  }

  /** @internal */
  [kRestoreSync](count: number): void {
    if (!tryLock(this.#view, this.#i)) lockSync(this.#view, this.#i, Infinity);
    this.#own(count);
  }

  /** @internal */
  toString(): string {
    const view = this.#view;
    const i = this.#i;
    if (Atomics.load(view, i) === 0) return 'RLock(unowned, 0)';
    return `RLock(${this.#mine() ? 'owned here' : `owned by pid ${view[i + OWNER_PID]}`}, ${view[i + COUNT]})`;
  }
}
