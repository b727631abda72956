/**
 * Polling a word of shared memory for a moment before sleeping on it: a
 * partner on another CPU that changes it within the budget is caught without
 * a sleep and a wake-up (see `POLL_MICROS`). Locks, events and conditions
 * poll their state word this way, queues their ring's tail.
 */
import { POLL_MICROS, PollBackoff } from './poll-budget.js';

/** Loads between two reads of the clock and yields of the CPU (each load takes a few ns). */
const LOADS_PER_CHECK = 64;

/** Polling state of one shared object (a lock, a queue…) in this process. */
export class WordPoller {
  readonly #backoff = new PollBackoff();
  readonly #yieldCpu: () => void;

  /**
   * @param yieldCpu Gives the CPU to another runnable thread, if any, between
   *   checks of the clock (`schedYield` of `@mpjs/native`): on a busy machine
   *   the partner may be waiting for this CPU.
   */
  constructor(yieldCpu: () => void) {
    this.#yieldCpu = yieldCpu;
  }

  /**
   * Polls until `view[i]` no longer equals `value`, for at most the poll
   * budget and never past `end` (a `performance.now()` time). Returns
   * whether the word changed. After polls that found nothing, the next waits
   * skip polling (see {@link PollBackoff}).
   */
  whileEqual(view: Int32Array, i: number, value: number, end = Infinity): boolean {
    if (!this.#backoff.shouldPoll()) return false;
    const stop = Math.min(performance.now() + POLL_MICROS / 1000, end);
    for (;;) {
      for (let n = 0; n < LOADS_PER_CHECK; n++) {
        if (Atomics.load(view, i) !== value) {
          this.#backoff.hit();
          return true;
        }
      }
      if (performance.now() >= stop) break;
      this.#yieldCpu();
    }
    this.#backoff.miss();
    return false;
  }
}
