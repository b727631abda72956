/**
 * Polling a shared word for a moment before sleeping on it: a partner on
 * another CPU that hands over within the budget is caught without a sleep
 * and a wake-up (see `POLL_MICROS` in @mpjs/util).
 */
import { schedYield } from '@mpjs/native';
import { POLL_MICROS, PollBackoff } from '@mpjs/util';

/** Loads between two reads of the clock and yields of the CPU (each load takes a few ns). */
const LOADS_PER_CHECK = 64;

/** Per-primitive polling state, in this process. */
export class Poller {
  readonly #backoff = new PollBackoff();

  /**
   * Polls until `view[i]` no longer equals `value`, for at most the poll
   * budget and never past `end` (a `performance.now()` time). Returns
   * whether the word changed.
   */
  whileEqual(view: Int32Array, i: number, value: number, end: number): boolean {
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
      schedYield(); // on a busy machine, the partner may be waiting for this CPU
    }
    this.#backoff.miss();
    return false;
  }
}
