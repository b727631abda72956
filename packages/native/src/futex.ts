/**
 * Futex wait/wake on a 32-bit word of shared memory: the blocking building
 * block of every lock, semaphore, condition and queue, across processes.
 *
 * The words are `Int32Array` elements over a `SharedArrayBuffer` (memory from
 * {@link createSharedMemory}, {@link mapSharedMemory} or {@link shmOpen} is
 * shared with other processes; a plain `new SharedArrayBuffer()` with worker
 * threads of this process). Uncontended paths belong in JavaScript
 * (`Atomics.compareExchange`); these calls are for when a thread must sleep.
 *
 * As with any futex, a wait can end with `'ok'` without a matching wake-up
 * (a signal, a value that changed): callers re-check their condition in a loop.
 */

export type { FutexBackend } from './binding.js';
import { normalizeTimeout, type Timeout } from '@mpjs/util';
import { native, type FutexBackend } from './binding.js';
import { systemError } from './system-error.js';
import { checkInteger, checkOptions, checkSharedInt32Array, checkSignal, describe } from './validate.js';

/** How a futex wait ended: woken, the word did not hold `expected`, or the timeout passed. */
export type FutexWaitResult = 'ok' | 'not-equal' | 'timed-out';

/** Options of {@link futexWaitAsync}. */
export interface FutexWaitAsyncOptions {
  /** Milliseconds to wait; `undefined`/`null`/`Infinity` waits until woken, a negative number does not wait. */
  timeout?: Timeout;
  /** Aborting rejects the promise with `signal.reason` at once. */
  signal?: AbortSignal;
}

// Result codes of the addon (addon/futex.cc).
const OK = 0;
const NOT_EQUAL = 1;
const TIMED_OUT = 2;
const CANCELLED = 3;

const results: readonly FutexWaitResult[] = ['ok', 'not-equal', 'timed-out'];

/** Validates view and index; returns the byte offset of the word in its buffer. */
function wordOffset(fn: string, view: Int32Array, index: number): number {
  checkSharedInt32Array(fn, 'view', view);
  if (typeof index !== 'number') {
    throw new TypeError(`${fn}: "index" must be a number, got ${describe(index)}`);
  }
  if (!Number.isInteger(index)) {
    throw new RangeError(`${fn}: "index" must be a whole element index (the word must be 4-byte aligned), got ${index}`);
  }
  if (index < 0 || index >= view.length) {
    throw new RangeError(
      view.length === 0
        ? `${fn}: "view" is empty, so there is no word at index ${index}`
        : `${fn}: "index" must be from 0 to ${view.length - 1} (the length of "view" minus 1), got ${index}`,
    );
  }
  return view.byteOffset + index * 4;
}

/** Validates `expected`: any 32-bit pattern, signed or unsigned. */
function toInt32(fn: string, expected: number): number {
  if (typeof expected !== 'number') {
    throw new TypeError(`${fn}: "expected" must be a number, got ${describe(expected)}`);
  }
  if (!Number.isInteger(expected) || expected < -(2 ** 31) || expected >= 2 ** 32) {
    throw new RangeError(`${fn}: "expected" must be a 32-bit integer (from -2147483648 to 4294967295), got ${expected}`);
  }
  return expected | 0;
}

/**
 * Blocks the calling thread while `view[index]` equals `expected`, until a
 * {@link futexWake} on the same word (from any process that maps it), or
 * until `timeout` milliseconds pass. Works on the main thread too: this is
 * what the `*Sync` forms of locks are built on.
 *
 * @param view An `Int32Array` over a `SharedArrayBuffer`.
 * @param index The element of `view` to wait on.
 * @param expected The value the word must hold for the wait to start.
 * @param timeout Milliseconds; omitted, `null` or `Infinity` waits until woken.
 * @returns `'ok'` when woken, `'not-equal'` if the word did not hold `expected`, `'timed-out'`.
 */
export function futexWait(view: Int32Array, index: number, expected: number, timeout?: Timeout): FutexWaitResult {
  const offset = wordOffset('futexWait', view, index);
  const value = toInt32('futexWait', expected);
  const ms = normalizeTimeout(timeout, 'futexWait: "timeout"');
  const rc = native.futexWait(view.buffer as SharedArrayBuffer, offset, value, ms === Infinity ? -1 : ms);
  if (rc < 0) throw systemError(rc, 'futex');
  return results[rc]!;
}

/**
 * Waits without blocking the event loop while `view[index]` equals
 * `expected`, until a {@link futexWake} on the same word, the timeout, or an
 * abort. The wait is carried out by the kernel through an io_uring of this
 * thread (Linux 6.7+) or by a native thread (see {@link futexBackend});
 * never by libuv's pool, so thousands of waits starve nothing. It settles on
 * the thread that started it, worker threads included.
 *
 * A pending wait keeps the process alive; once it settles or is aborted, it
 * no longer does. Aborting rejects with `signal.reason` at once, even if the
 * word is never woken.
 *
 * @returns A promise of `'ok'`, `'not-equal'` (checked when called) or `'timed-out'`.
 */
export function futexWaitAsync(
  view: Int32Array,
  index: number,
  expected: number,
  options?: FutexWaitAsyncOptions,
): Promise<FutexWaitResult> {
  return new Promise<FutexWaitResult>((resolve, reject) => {
    const fn = 'futexWaitAsync';
    const offset = wordOffset(fn, view, index);
    const value = toInt32(fn, expected);
    const opts = checkOptions<FutexWaitAsyncOptions>(fn, options);
    const ms = normalizeTimeout(opts.timeout, `${fn}: "timeout"`);
    const signal = checkSignal(fn, opts.signal);
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    if (Atomics.load(view, index) !== value) {
      resolve('not-equal');
      return;
    }
    if (ms === 0) {
      resolve('timed-out');
      return;
    }
    const buffer = view.buffer as SharedArrayBuffer;
    let settled = false;
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      native.futexCancel(id);
      reject(signal!.reason);
    };
    const id = native.futexWaitAsync(buffer, offset, value, ms === Infinity ? -1 : ms, (rc: number) => {
      if (settled) {
        // Aborted while a wake-up was already on its way to this waiter:
        // pass it on so another waiter does not miss it.
        if (rc === OK) native.futexWake(buffer, offset, 1);
        return;
      }
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (rc === OK || rc === TIMED_OUT || rc === NOT_EQUAL) resolve(results[rc]!);
      else if (rc === CANCELLED) reject(new Error(`${fn}: the wait was cancelled`));
      else reject(systemError(rc, 'futex_waitv'));
    });
    if (id < 0) {
      settled = true;
      reject(systemError(id, 'futex_wait', { message: 'cannot start the wait (no ring entry or thread available)' }));
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Wakes up to `count` threads (in any process) waiting on `view[index]`.
 *
 * @param count How many to wake; `Infinity` (the default) wakes all.
 * @returns How many were woken.
 */
export function futexWake(view: Int32Array, index: number, count: number = Infinity): number {
  const offset = wordOffset('futexWake', view, index);
  if (count !== Infinity) checkInteger('futexWake', 'count', count, 0, Number.MAX_SAFE_INTEGER);
  const rc = native.futexWake(view.buffer as SharedArrayBuffer, offset, count >= 2 ** 31 ? -1 : count);
  if (rc < 0) throw systemError(rc, 'futex');
  return rc;
}

/**
 * How {@link futexWaitAsync} waits in this thread: `'io_uring'` (Linux 6.7+:
 * the event loop itself is told of the wake-up, no thread per wait) or
 * `'threads'` (a cache of native threads, one per pending wait; used where
 * io_uring cannot wait on futexes, or when the environment variable
 * `MPJS_FUTEX_BACKEND=threads` was set when the thread started). Both give
 * the same results; the first has about half the wake-up latency.
 */
export function futexBackend(): FutexBackend {
  return native.futexBackend();
}
