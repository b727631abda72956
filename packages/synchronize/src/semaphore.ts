/**
 * `Semaphore` and `BoundedSemaphore`: Python's counting semaphores, in shared
 * memory. Acquiring takes one unit (a compare-exchange on the value word);
 * releasing adds one and wakes a sleeper only when one has announced itself.
 *
 * Cell words: 0 the value (the futex word; sleepers wait while it is 0),
 * 1 the number of sleepers, 2 the bound (`BoundedSemaphore` only), 15 the tag.
 */
import { futexWait, futexWaitAsync, futexWake, schedYield } from '@mpjs/native';
import { ValueError, WordPoller } from '@mpjs/util';
import { Held, hold, holdSync } from './held.js';
import { deadline, parseAcquire, remaining, type AcquireOptions, type AcquireSyncOptions, type HoldOptions } from './options.js';
import { adoptCell, claimCell, Tag, type Cell } from './shared-state.js';
import { cellOfShareable, shareableOf, type ShareableBoundedSemaphore, type ShareableSemaphore } from './shareable.js';
import { kCell, kFromCell } from './symbols.js';

const VALUE = 0;
const SLEEPERS = 1;
const BOUND = 2;
/** Linux's SEM_VALUE_MAX. */
const MAX_VALUE = 2 ** 31 - 1;
const TRUE = Promise.resolve(true);

function checkValue(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${what}: the initial value must be a whole number, got ${String(value)}`);
  }
  if (value < 0) throw new ValueError(`${what}: semaphore initial value must be >= 0, got ${value}`);
  if (value > MAX_VALUE) throw new ValueError(`${what}: the initial value must be at most ${MAX_VALUE}, got ${value}`);
  return value;
}

/** Takes one unit if there is one. */
function tryTake(view: Int32Array, i: number): boolean {
  let v = Atomics.load(view, i);
  while (v > 0) {
    const seen = Atomics.compareExchange(view, i, v, v - 1);
    if (seen === v) return true;
    v = seen;
  }
  return false;
}

/**
 * A counting semaphore shared between processes and threads (Python's
 * `multiprocessing.Semaphore`): `acquire()` takes one unit, waiting while
 * there is none; `release()` gives one back.
 */
export class Semaphore {
  readonly #cell: Cell;
  readonly #view: Int32Array;
  readonly #i: number;
  readonly #poller = new WordPoller(schedYield);

  /** @param value Units available at first (default 1). */
  constructor(value = 1) {
    const bounded = new.target === BoundedSemaphore || new.target.prototype instanceof BoundedSemaphore;
    const tag = bounded ? Tag.BoundedSemaphore : Tag.Semaphore;
    const { cell, fresh } = claimCell(tag);
    this.#cell = cell;
    this.#view = cell.chunk.view;
    this.#i = cell.base;
    if (fresh) {
      const v = checkValue(new.target.name, value);
      Atomics.store(this.#view, this.#i + BOUND, tag === Tag.BoundedSemaphore ? v : 0);
      Atomics.store(this.#view, this.#i + VALUE, v);
    }
  }

  /**
   * Takes one unit, without blocking the event loop. Resolves `true` once
   * taken, `false` if `block` is false and there is none, or if `timeout`
   * milliseconds pass first. Aborting `signal` rejects with its reason.
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    if (options === undefined && tryTake(this.#view, this.#i)) return TRUE;
    return this.#acquireSlow(options);
  }

  async #acquireSlow(options: AcquireOptions | undefined): Promise<boolean> {
    const { ms, signal } = parseAcquire(`${this.constructor.name}.acquire`, options);
    if (signal?.aborted) throw signal.reason;
    const view = this.#view;
    const i = this.#i;
    if (tryTake(view, i)) return true;
    if (ms === 0) return false;
    const end = deadline(ms);
    if (this.#poller.whileEqual(view, i + VALUE, 0, end) && tryTake(view, i)) return true;
    Atomics.add(view, i + SLEEPERS, 1);
    try {
      for (;;) {
        if (tryTake(view, i)) return true;
        const left = remaining(end);
        if (left === 0) return false;
        await futexWaitAsync(view, i + VALUE, 0, { timeout: left, signal });
      }
    } finally {
      Atomics.sub(view, i + SLEEPERS, 1);
    }
  }

  /** Blocking form of {@link Semaphore.acquire} (for worker threads and CPU-bound code). */
  acquireSync(options?: AcquireSyncOptions): boolean {
    const view = this.#view;
    const i = this.#i;
    const ms = options === undefined ? Infinity : parseAcquire(`${this.constructor.name}.acquireSync`, options).ms;
    if (tryTake(view, i)) return true;
    if (ms === 0) return false;
    const end = deadline(ms);
    if (this.#poller.whileEqual(view, i + VALUE, 0, end) && tryTake(view, i)) return true;
    Atomics.add(view, i + SLEEPERS, 1);
    try {
      for (;;) {
        if (tryTake(view, i)) return true;
        const left = remaining(end);
        if (left === 0) return false;
        futexWait(view, i + VALUE, 0, left);
      }
    } finally {
      Atomics.sub(view, i + SLEEPERS, 1);
    }
  }

  /**
   * Gives one unit back and lets one waiter in. A `BoundedSemaphore` throws
   * a `ValueError` instead of going above its initial value.
   */
  release(): void {
    const view = this.#view;
    const i = this.#i;
    const bound = view[i + BOUND]!;
    let v = Atomics.load(view, i);
    for (;;) {
      if (bound !== 0 ? v >= bound : v >= MAX_VALUE) {
        throw new ValueError(
          bound !== 0
            ? `semaphore or lock released too many times: this BoundedSemaphore would go above its initial value ${bound}`
            : `semaphore or lock released too many times: the value would go above ${MAX_VALUE}`,
        );
      }
      const seen = Atomics.compareExchange(view, i, v, v + 1);
      if (seen === v) break;
      v = seen;
    }
    if (Atomics.load(view, i + SLEEPERS) > 0) futexWake(view, i + VALUE, 1);
  }

  /** The number of units available now (Python's `get_value()`). */
  getValue(): number {
    return Atomics.load(this.#view, this.#i);
  }

  /** Takes a unit and returns a guard that gives it back when disposed: `await using _ = await sem.hold()`. */
  hold(options?: HoldOptions): Promise<Held> {
    return hold(this, this.constructor.name, options);
  }

  /** Blocking form of {@link Semaphore.hold}. */
  holdSync(options?: Omit<HoldOptions, 'signal'>): Held {
    return holdSync(this, this.constructor.name, options);
  }

  /** A description `postMessage` can carry to a worker thread; `Semaphore.fromShareable()` there gives the same semaphore. */
  toShareable(): ShareableSemaphore {
    return shareableOf(this instanceof BoundedSemaphore ? 'BoundedSemaphore' : 'Semaphore', this.#cell);
  }

  /** The semaphore described by {@link Semaphore.toShareable} in another thread (a `BoundedSemaphore` if it was one). */
  static fromShareable(data: ShareableSemaphore): Semaphore {
    const cell = cellOfShareable(data, ['Semaphore', 'BoundedSemaphore'], 'Semaphore');
    return data.type === 'BoundedSemaphore' ? BoundedSemaphore[kFromCell](cell) : Semaphore[kFromCell](cell);
  }

  /** @internal */
  static [kFromCell](cell: Cell): Semaphore {
    return adoptCell(cell, Tag.Semaphore, 'Semaphore', () => new Semaphore());
  }

  /** @internal */
  get [kCell](): Cell {
    return this.#cell;
  }

  /** @internal */
  toString(): string {
    return `${this.constructor.name}(value=${this.getValue()})`;
  }
}

/**
 * A semaphore that refuses to go above its initial value (Python's
 * `multiprocessing.BoundedSemaphore`): a `release()` too many throws a
 * `ValueError`, which catches a release without a matching acquire.
 */
export class BoundedSemaphore extends Semaphore {
  /** @param value Units available at first, and the most there can ever be (default 1). */
  constructor(value = 1) {
    super(value);
  }

  /** The semaphore described by {@link BoundedSemaphore.toShareable} in another thread. */
  static override fromShareable(data: ShareableBoundedSemaphore): BoundedSemaphore {
    return BoundedSemaphore[kFromCell](cellOfShareable(data, ['BoundedSemaphore'], 'BoundedSemaphore'));
  }

  /** @internal */
  static override [kFromCell](cell: Cell): BoundedSemaphore {
    return adoptCell(cell, Tag.BoundedSemaphore, 'BoundedSemaphore', () => new BoundedSemaphore());
  }
}
