/**
 * Waiters of one kind in this thread (connections with a receiver waiting,
 * ports of a thread pool…), polled together for a moment before they are left
 * to the event loop: see `POLL_MICROS`.
 */
import { enqueueMicrotask } from './microtask.js';
import { POLL_MICROS, PollBackoff } from './poll-budget.js';

/** What one poll of a waiter came to. */
export type PollOutcome =
  /** A waiting receiver got what it waited for. */
  | 'delivered'
  /** Nothing yet. */
  | 'nothing'
  /** Nobody waits any more, or this waiter cannot be polled (now): leave it to the event loop. */
  | 'leave';

/** How a {@link PollGroup} polls its members. */
export interface PollGroupOptions<T> {
  /** Tries once, without blocking, to get what `waiter` waits for. */
  poll(waiter: T): PollOutcome;
  /** The waiter's own back-off state. */
  backoff(waiter: T): PollBackoff;
  /** Gives the CPU to another runnable thread, if any, between rounds (`schedYield` of `@mpjs/native`). */
  yieldCpu(): void;
}

export class PollGroup<T> {
  readonly #waiting = new Set<T>();
  readonly #options: PollGroupOptions<T>;
  #scheduled = false;
  readonly #polled: Array<T | undefined> = [];

  constructor(options: PollGroupOptions<T>) {
    this.#options = options;
  }

  /**
   * Polls `waiter`, with every other member waiting, once the current code
   * has run (a microtask): code that starts several waits (a pool handing
   * tasks to several workers) finishes first, and one wait does not hold up
   * another. Does nothing when polling is off.
   */
  add(waiter: T): void {
    if (POLL_MICROS === 0) return;
    this.#waiting.add(waiter);
    if (this.#scheduled) return;
    this.#scheduled = true;
    enqueueMicrotask(this.#pollWaiting);
  }

  /** Stops polling `waiter` (it was closed). */
  delete(waiter: T): void {
    this.#waiting.delete(waiter);
  }

  /**
   * Polls every member, in turn, for at most the poll budget, and stops as
   * soon as one got what it waited for (its code runs next and usually waits
   * again). Members whose polls keep finding nothing back off on their own:
   * a slow one does not stop a chatty one from polling.
   */
  readonly #pollWaiting = (): void => {
    this.#scheduled = false;
    const { backoff } = this.#options;
    // One array for every round, its slots cleared after (not its length: V8 would free its storage).
    const polled = this.#polled;
    let count = 0;
    for (const waiter of this.#waiting) if (backoff(waiter).shouldPoll()) polled[count++] = waiter;
    if (count === 0) return;
    try {
      this.#pollRound(polled, count);
    } finally {
      polled.fill(undefined, 0, count);
    }
  };

  /** Polls the first `count` members of `polled` (undefined once they leave). */
  #pollRound(polled: Array<T | undefined>, count: number): void {
    const { poll, backoff, yieldCpu } = this.#options;
    let left = count;
    const stop = performance.now() + POLL_MICROS / 1000;
    for (;;) {
      for (let i = 0; i < count; i++) {
        const waiter = polled[i];
        if (waiter === undefined) continue;
        const outcome = poll(waiter);
        if (outcome === 'delivered') {
          backoff(waiter).hit();
          return;
        }
        if (outcome === 'leave') {
          this.#waiting.delete(waiter);
          polled[i] = undefined;
          left--;
        }
      }
      if (left === 0) return;
      if (performance.now() >= stop) break;
      yieldCpu(); // on a busy machine, the partner may be waiting for this CPU
    }
    for (let i = 0; i < count; i++) {
      const waiter = polled[i];
      if (waiter !== undefined) backoff(waiter).miss();
    }
  }
}
