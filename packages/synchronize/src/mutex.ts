/**
 * The futex mutex under Lock and RLock: one word, 0 free, 1 taken, 2 taken
 * and maybe wanted. Taking a free word is one `Atomics.compareExchange` in
 * JavaScript; only a thread that must sleep calls into the native futex, and
 * only an unlock that finds 2 calls `futexWake`.
 */
import { futexWait, futexWaitAsync, futexWake } from '@mpjs/native';
import { remaining } from './options.js';

/**
 * Rounds of polling (5–7 ns each) before a contended acquire sleeps: a lock is
 * held for moments, and its holder is often running on another CPU, about to
 * release. Semaphores and events do not poll: their other side is usually
 * asleep, and polling measurably slowed their hand-offs.
 */
const SPIN = 64;

/** Takes a free word (the fast path). */
export function tryLock(view: Int32Array, i: number): boolean {
  return Atomics.compareExchange(view, i, 0, 1) === 0;
}

function spin(view: Int32Array, i: number): boolean {
  for (let n = 0; n < SPIN; n++) {
    if (Atomics.load(view, i) === 0 && Atomics.compareExchange(view, i, 0, 1) === 0) return true;
  }
  return false;
}

/** Takes the word, blocking the thread until `end` (a `performance.now()` time). */
export function lockSync(view: Int32Array, i: number, end: number): boolean {
  if (end !== Infinity && remaining(end) === 0) return tryLock(view, i);
  if (spin(view, i)) return true;
  while (Atomics.exchange(view, i, 2) !== 0) {
    const left = remaining(end);
    if (left === 0) return false;
    futexWait(view, i, 2, left);
  }
  return true;
}

/** Takes the word without blocking the event loop; rejects with `signal.reason` on abort. */
export async function lockAsync(view: Int32Array, i: number, end: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) throw signal.reason;
  if (end !== Infinity && remaining(end) === 0) return tryLock(view, i);
  if (spin(view, i)) return true;
  while (Atomics.exchange(view, i, 2) !== 0) {
    const left = remaining(end);
    if (left === 0) return false;
    await futexWaitAsync(view, i, 2, { timeout: left, signal });
  }
  return true;
}

/** Frees the word; returns what it held (0 means it was not taken). Wakes one sleeper when there may be one. */
export function unlock(view: Int32Array, i: number): number {
  const prev = Atomics.exchange(view, i, 0);
  if (prev === 2) futexWake(view, i, 1);
  return prev;
}
