/**
 * `Event`: Python's `multiprocessing.Event` (a clone of `threading.Event`),
 * a flag in shared memory that processes and threads can wait for.
 *
 * Cell words: 0 the state, `generation << 1 | flag` (the futex word: every
 * `set()` that raises the flag starts a new generation, so a waiter notices a
 * `set()` even if a `clear()` follows at once), 1 the number of waiters (so
 * `set()` calls into the kernel only when someone sleeps), 15 the tag.
 */
import { futexWait, futexWaitAsync, futexWake, schedYield } from '@mpjs/native';
import { WordPoller, type Timeout } from '@mpjs/util';
import { deadline, parseWait, remaining, type WaitOptions } from './options.js';
import { adoptCell, claimCell, Tag, type Cell } from './shared-state.js';
import { cellOfShareable, shareableOf, type ShareableEvent } from './shareable.js';
import { kCell, kFromCell } from './symbols.js';

const STATE = 0;
const WAITERS = 1;

/**
 * A flag shared between processes and threads (Python's
 * `multiprocessing.Event`): `set()` raises it and wakes every waiter,
 * `clear()` lowers it, `wait()` waits until it is raised.
 */
export class Event {
  readonly #cell: Cell;
  readonly #view: Int32Array;
  readonly #i: number;
  readonly #poller = new WordPoller(schedYield);

  constructor() {
    const { cell } = claimCell(Tag.Event);
    this.#cell = cell;
    this.#view = cell.chunk.view;
    this.#i = cell.base;
  }

  /** Whether the flag is raised (Python's `is_set()`). */
  isSet(): boolean {
    return (Atomics.load(this.#view, this.#i + STATE) & 1) === 1;
  }

  /** Raises the flag and wakes every process and thread waiting for it. */
  set(): void {
    const view = this.#view;
    const i = this.#i;
    let state = Atomics.load(view, i + STATE);
    while ((state & 1) === 0) {
      // Flag 0 → 1 and the next generation: (g << 1) + 3 = ((g + 1) << 1) | 1.
      const seen = Atomics.compareExchange(view, i + STATE, state, (state + 3) | 0);
      if (seen === state) break;
      state = seen;
    }
    if (Atomics.load(view, i + WAITERS) > 0) futexWake(view, i + STATE);
  }

  /** Lowers the flag. */
  clear(): void {
    Atomics.and(this.#view, this.#i + STATE, ~1);
  }

  /**
   * Waits until the flag is raised, without blocking the event loop.
   * Resolves `true` if it is raised (or was raised while waiting, even if
   * cleared since, as `threading.Event` does), `false` when `timeout`
   * milliseconds pass first. Aborting `signal` rejects with its reason.
   *
   * @param timeout Milliseconds (or an options object `{ timeout, signal }`).
   */
  async wait(timeout?: Timeout | WaitOptions, options?: WaitOptions): Promise<boolean> {
    const { ms, signal } = parseWait('Event.wait', timeout, options);
    if (signal?.aborted) throw signal.reason;
    const view = this.#view;
    const i = this.#i;
    const start = Atomics.load(view, i + STATE);
    if ((start & 1) === 1) return true;
    if (ms === 0) return false;
    const end = deadline(ms);
    if (this.#poller.whileEqual(view, i + STATE, start, end)) return true;
    Atomics.add(view, i + WAITERS, 1);
    try {
      for (;;) {
        // Any change of the word is a set(): clear() leaves a lowered flag alone.
        if (Atomics.load(view, i + STATE) !== start) return true;
        const left = remaining(end);
        if (left === 0) return false;
        await futexWaitAsync(view, i + STATE, start, { timeout: left, signal });
      }
    } finally {
      Atomics.sub(view, i + WAITERS, 1);
    }
  }

  /** Blocking form of {@link Event.wait} (for worker threads and CPU-bound code). */
  waitSync(timeout?: Timeout): boolean {
    const { ms } = parseWait('Event.waitSync', timeout, undefined);
    const view = this.#view;
    const i = this.#i;
    const start = Atomics.load(view, i + STATE);
    if ((start & 1) === 1) return true;
    if (ms === 0) return false;
    const end = deadline(ms);
    if (this.#poller.whileEqual(view, i + STATE, start, end)) return true;
    Atomics.add(view, i + WAITERS, 1);
    try {
      for (;;) {
        if (Atomics.load(view, i + STATE) !== start) return true;
        const left = remaining(end);
        if (left === 0) return false;
        futexWait(view, i + STATE, start, left);
      }
    } finally {
      Atomics.sub(view, i + WAITERS, 1);
    }
  }

  /** A description `postMessage` can carry to a worker thread; `Event.fromShareable()` there gives the same event. */
  toShareable(): ShareableEvent {
    return shareableOf('Event', this.#cell);
  }

  /** The event described by {@link Event.toShareable} in another thread. */
  static fromShareable(data: ShareableEvent): Event {
    return Event[kFromCell](cellOfShareable(data, ['Event'], 'Event'));
  }

  /** @internal */
  static [kFromCell](cell: Cell): Event {
    return adoptCell(cell, Tag.Event, 'Event', () => new Event());
  }

  /** @internal */
  get [kCell](): Cell {
    return this.#cell;
  }

  /** @internal */
  toString(): string {
    return `Event(${this.isSet() ? 'set' : 'unset'})`;
  }
}
