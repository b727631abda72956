/**
 * `Condition`: Python's `multiprocessing.Condition`, a condition variable
 * over a shared {@link Lock} or {@link RLock} (a new RLock by default).
 *
 * Cell words: 0 the sleepers not yet notified, 1 the notifications not yet
 * taken (the futex word; sleepers wait while it is 0), 15 the tag.
 * `notify(n)` moves at most n sleepers to notifications (under the lock) and
 * wakes as many; a sleeper leaves by taking a notification. A sleeper that
 * times out or is aborted withdraws: it removes itself from the sleepers if
 * it is still counted there, and otherwise takes the notification meant for
 * it, so no notification is lost and none wakes more than one waiter. At any
 * time sleepers + notifications equals the waiters that have not left.
 */
import { futexWait, futexWaitAsync, futexWake, schedYield } from '@mpjs/native';
import { AssertionError, ValueError, WordPoller, type Timeout } from '@mpjs/util';
import { Held, hold, holdSync } from './held.js';
import { Lock } from './lock.js';
import { deadline, parseAcquire, parseWait, remaining, type AcquireOptions, type AcquireSyncOptions, type HoldOptions, type WaitOptions } from './options.js';
import { RLock } from './rlock.js';
import { adoptCell, claimCell, Tag, type Cell } from './shared-state.js';
import { cellOfShareable, shareableOf, type ShareableCondition } from './shareable.js';
import { kCell, kFromCell, kIsMine, kReleaseAll, kRestore, kRestoreSync, type ConditionLock } from './symbols.js';

const SLEEPERS = 0;
const NOTES = 1;

/** Takes a notification if there is one. */
function takeNote(view: Int32Array, i: number): boolean {
  let n = Atomics.load(view, i + NOTES);
  while (n > 0) {
    const seen = Atomics.compareExchange(view, i + NOTES, n, n - 1);
    if (seen === n) return true;
    n = seen;
  }
  return false;
}

/**
 * Leaves after a timeout or an abort. Returns `true` if a notification had
 * already been made for this waiter (it then counts as notified).
 */
function withdraw(view: Int32Array, i: number): boolean {
  for (let tries = 0; tries < 1_000_000; tries++) {
    let s = Atomics.load(view, i + SLEEPERS);
    while (s > 0) {
      const seen = Atomics.compareExchange(view, i + SLEEPERS, s, s - 1);
      if (seen === s) return false;
      s = seen;
    }
    if (takeNote(view, i)) return true;
  }
  return false;
}

/** A predicate of {@link Condition.waitFor}. */
export type Predicate<T> = () => T | PromiseLike<T>;

/**
 * A condition variable shared between processes and threads (Python's
 * `multiprocessing.Condition`). Hold its lock to `wait()` (which releases the
 * lock while waiting and takes it back before returning) and to `notify()`.
 *
 * @example
 * ```ts
 * const cond = new Condition();
 * // consumer
 * await cond.acquire();
 * try { await cond.waitFor(() => ready.value === 1); } finally { cond.release(); }
 * // producer
 * await cond.acquire();
 * try { ready.value = 1; cond.notifyAll(); } finally { cond.release(); }
 * ```
 */
export class Condition {
  readonly #cell: Cell;
  readonly #view: Int32Array;
  readonly #i: number;
  readonly #poller = new WordPoller(schedYield);
  readonly #lock: Lock | RLock;

  /** @param lock The lock to use: a {@link Lock} or {@link RLock} of this package (default: a new RLock). */
  constructor(lock?: Lock | RLock | null) {
    const { cell } = claimCell(Tag.Condition);
    if (lock !== undefined && lock !== null && !(lock instanceof Lock) && !(lock instanceof RLock)) {
      throw new TypeError('Condition(lock): the lock must be a Lock or an RLock of @mpjs/synchronize (they live in shared memory)');
    }
    this.#cell = cell;
    this.#view = cell.chunk.view;
    this.#i = cell.base;
    this.#lock = lock ?? new RLock();
  }

  /** The lock the condition uses. */
  get lock(): Lock | RLock {
    return this.#lock;
  }

  get #impl(): ConditionLock {
    return this.#lock;
  }

  /** Acquires the underlying lock (see `Lock.acquire`). */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /** Blocking form of {@link Condition.acquire}. */
  acquireSync(options?: AcquireSyncOptions): boolean {
    return this.#lock.acquireSync(options);
  }

  /** Releases the underlying lock. */
  release(): void {
    this.#lock.release();
  }

  /** Acquires the lock and returns a guard that releases it when disposed: `await using _ = await cond.hold()`. */
  hold(options?: HoldOptions): Promise<Held> {
    return hold(this, 'Condition', options);
  }

  /** Blocking form of {@link Condition.hold}. */
  holdSync(options?: Omit<HoldOptions, 'signal'>): Held {
    return holdSync(this, 'Condition', options);
  }

  #checkOwned(what: string): void {
    if (!this.#impl[kIsMine]()) {
      throw new AssertionError(
        `cannot ${what} on un-acquired lock: acquire the condition (await cond.acquire() or cond.hold()) in this process and thread first`,
      );
    }
  }

  /**
   * Releases the lock, waits until notified or until `timeout` milliseconds
   * pass, then takes the lock back (also when it fails). Resolves `true` if
   * notified, `false` on timeout; rejects with `signal.reason` on abort.
   * Throws an `AssertionError` if the calling process and thread do not hold
   * the lock.
   *
   * @param timeout Milliseconds (or an options object `{ timeout, signal }`).
   */
  async wait(timeout?: Timeout | WaitOptions, options?: WaitOptions): Promise<boolean> {
    const { ms, signal } = parseWait('Condition.wait', timeout, options);
    this.#checkOwned('wait');
    if (signal?.aborted) throw signal.reason;
    const view = this.#view;
    const i = this.#i;
    Atomics.add(view, i + SLEEPERS, 1);
    const saved = this.#impl[kReleaseAll]();
    try {
      const end = deadline(ms);
      if (this.#poller.whileEqual(view, i + NOTES, 0, end) && takeNote(view, i)) return true;
      for (;;) {
        if (takeNote(view, i)) return true;
        const left = remaining(end);
        if (left === 0) return withdraw(view, i);
        try {
          await futexWaitAsync(view, i + NOTES, 0, { timeout: left, signal });
        } catch (error) {
          withdraw(view, i);
          throw error;
        }
      }
    } finally {
      await this.#impl[kRestore](saved);
    }
  }

  /** Blocking form of {@link Condition.wait}. */
  waitSync(timeout?: Timeout): boolean {
    const { ms } = parseWait('Condition.waitSync', timeout, undefined);
    this.#checkOwned('wait');
    const view = this.#view;
    const i = this.#i;
    Atomics.add(view, i + SLEEPERS, 1);
    const saved = this.#impl[kReleaseAll]();
    try {
      const end = deadline(ms);
      if (this.#poller.whileEqual(view, i + NOTES, 0, end) && takeNote(view, i)) return true;
      for (;;) {
        if (takeNote(view, i)) return true;
        const left = remaining(end);
        if (left === 0) return withdraw(view, i);
        futexWait(view, i + NOTES, 0, left);
      }
    } finally {
      this.#impl[kRestoreSync](saved);
    }
  }

  /**
   * Waits until `predicate()` is truthy (Python's `wait_for`): checks it,
   * then waits for notifications and checks again after each, for at most
   * `timeout` milliseconds in all. Resolves the predicate's last value. The
   * predicate may return a promise.
   */
  async waitFor<T>(predicate: Predicate<T>, timeout?: Timeout | WaitOptions, options?: WaitOptions): Promise<T> {
    if (typeof predicate !== 'function') throw new TypeError('Condition.waitFor: "predicate" must be a function');
    const { ms, signal } = parseWait('Condition.waitFor', timeout, options);
    let result = await predicate();
    const end = deadline(ms);
    while (!result) {
      const left = remaining(end);
      if (left === 0) break;
      await this.wait(left, { signal });
      result = await predicate();
    }
    return result;
  }

  /** Blocking form of {@link Condition.waitFor}; the predicate must be synchronous. */
  waitForSync<T>(predicate: () => T, timeout?: Timeout): T {
    if (typeof predicate !== 'function') throw new TypeError('Condition.waitForSync: "predicate" must be a function');
    const { ms } = parseWait('Condition.waitForSync', timeout, undefined);
    let result = predicate();
    const end = deadline(ms);
    while (!result) {
      const left = remaining(end);
      if (left === 0) break;
      this.waitSync(left);
      result = predicate();
    }
    return result;
  }

  /**
   * Wakes at most `n` waiters (default 1); does nothing if none waits.
   * Throws an `AssertionError` if the calling process and thread do not hold
   * the lock.
   */
  notify(n = 1): void {
    if (typeof n !== 'number' || Number.isNaN(n) || (n !== Infinity && !Number.isInteger(n))) {
      throw new TypeError(`Condition.notify: "n" must be a whole number of waiters, got ${String(n)}`);
    }
    if (n < 0) throw new ValueError(`Condition.notify: "n" must not be negative, got ${n}`);
    this.#checkOwned('notify');
    const view = this.#view;
    const i = this.#i;
    let s = Atomics.load(view, i + SLEEPERS);
    let k: number;
    for (;;) {
      k = Math.min(n, s);
      if (k === 0) return;
      const seen = Atomics.compareExchange(view, i + SLEEPERS, s, s - k);
      if (seen === s) break;
      s = seen;
    }
    Atomics.add(view, i + NOTES, k);
    futexWake(view, i + NOTES, k);
  }

  /** Wakes every waiter (Python's `notify_all()`). */
  notifyAll(): void {
    this.notify(Infinity);
  }

  /** A description `postMessage` can carry to a worker thread (with the lock); `Condition.fromShareable()` there gives the same condition. */
  toShareable(): ShareableCondition {
    return { ...shareableOf('Condition', this.#cell), lock: this.#lock.toShareable() };
  }

  /** The condition described by {@link Condition.toShareable} in another thread. */
  static fromShareable(data: ShareableCondition): Condition {
    const cell = cellOfShareable(data, ['Condition'], 'Condition');
    const lock = data.lock.type === 'Lock' ? Lock.fromShareable(data.lock) : RLock.fromShareable(data.lock);
    return Condition[kFromCell](cell, lock);
  }

  /** @internal */
  static [kFromCell](cell: Cell, lock: Lock | RLock): Condition {
    return adoptCell(cell, Tag.Condition, 'Condition', () => new Condition(lock));
  }

  /** @internal */
  get [kCell](): Cell {
    return this.#cell;
  }

  /** @internal */
  toString(): string {
    return `Condition(${String(this.#lock)}, waiters=${Atomics.load(this.#view, this.#i + SLEEPERS)})`;
  }
}
