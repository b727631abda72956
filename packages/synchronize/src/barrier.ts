/**
 * `Barrier`: Python's `multiprocessing.Barrier` (a clone of
 * `threading.Barrier`) for processes and threads.
 *
 * The whole state is one 64-bit word, changed only by 64-bit
 * compare-exchange, so no lock is ever held (a party killed anywhere cannot
 * wedge the others, and abort()/reset() never wait):
 *
 * ```
 * low 32 bits  (the futex word)   generation << 1 | broken
 * high 32 bits                    history << 16 | count
 * ```
 *
 * `count` is the number of parties that arrived in this generation; the last
 * one sets it to `parties` while it runs the action, then starts the next
 * generation (count 0), which releases the others. `reset()` also starts the
 * next generation, and records in bit `generation % 16` of `history` that this
 * generation ended by a reset, so its waiters raise BrokenBarrierError instead
 * of returning. Word 2 holds `parties`; word 15 the tag.
 */
import { futexWait, futexWaitAsync, futexWake } from '@mpjs/native';
import { defaultCodec } from '@mpjs/serialization';
import { BrokenBarrierError, normalizeTimeout, ValueError, type Timeout } from '@mpjs/util';
import { deadline, parseWait, remaining, type WaitOptions } from './options.js';
import { adoptCell, claimCell, lowHalf, Tag, type Cell } from './shared-state.js';
import { cellOfShareable, shareableOf, type ShareableBarrier } from './shareable.js';
import { kCell, kFromCell } from './symbols.js';

const PARTIES = 2;
/** Largest number of parties (count has 16 bits). */
export const MAX_PARTIES = 0xffff;
const HISTORY = 16;
const GENERATIONS = 2 ** 31;

/** What runs once per cycle, in the last party to arrive, before the others are released. */
export type BarrierAction = () => unknown;

/** Options of the {@link Barrier} constructor. */
export interface BarrierOptions {
  /** Runs once per cycle, in the last party to arrive (in its process), before any party is released. */
  action?: BarrierAction | null;
  /** Default timeout of `wait()` in milliseconds. */
  timeout?: Timeout;
}

interface State {
  gen: number;
  broken: boolean;
  count: number;
  history: number;
}

function unpack(word: bigint): State {
  const lo = Number(word & 0xffffffffn);
  const hi = Number(word >> 32n);
  return { gen: lo >>> 1, broken: (lo & 1) === 1, count: hi & 0xffff, history: hi >>> 16 };
}

function pack(s: State): bigint {
  const lo = ((s.gen << 1) | (s.broken ? 1 : 0)) >>> 0;
  const hi = (((s.history & 0xffff) << 16) | (s.count & 0xffff)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function broken(why: string): BrokenBarrierError {
  return new BrokenBarrierError(why);
}

/** What a {@link Barrier} takes to another process or thread besides its cell. */
export interface BarrierExtra {
  timeout: number | null;
  action: BarrierAction | null;
}

/**
 * A barrier for a fixed number of parties, across processes and threads
 * (Python's `multiprocessing.Barrier`): each `wait()` blocks until `parties`
 * of them are waiting, then all are released at once, each with a distinct
 * index from 0 to `parties - 1`.
 */
export class Barrier {
  readonly #cell: Cell;
  readonly #view: Int32Array;
  readonly #state: BigUint64Array;
  /** Index of the state in `#state`. */
  readonly #s: number;
  /** Index of the futex word (low half of the state) in `#view`. */
  readonly #w: number;
  readonly #parties: number;
  #action: BarrierAction | null;
  /** An action that came from another thread by reference and is not resolved yet (see fromShareable). */
  #pendingAction: Uint8Array | null = null;
  readonly #timeout: number | null;

  /**
   * @param parties How many parties must wait before all are released (1 to 65535).
   * @param options `action` to run once per cycle, default `timeout` of `wait()`.
   */
  constructor(parties: number, options: BarrierOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('Barrier(parties, options): options must be an object such as { action, timeout }');
    }
    const { action = null, timeout } = options;
    if (action !== null && typeof action !== 'function') throw new TypeError('Barrier: "action" must be a function');
    const t = normalizeTimeout(timeout, 'Barrier: "timeout"');
    const { cell, fresh } = claimCell(Tag.Barrier);
    const view = cell.chunk.view;
    if (fresh) {
      if (typeof parties !== 'number' || !Number.isInteger(parties)) {
        throw new TypeError(`Barrier: "parties" must be a whole number, got ${String(parties)}`);
      }
      if (parties < 1 || parties > MAX_PARTIES) throw new ValueError(`Barrier: "parties" must be from 1 to ${MAX_PARTIES}, got ${parties}`);
      Atomics.store(view, cell.base + PARTIES, parties);
    }
    this.#cell = cell;
    this.#view = view;
    this.#state = new BigUint64Array(cell.chunk.buffer);
    this.#s = cell.base / 2;
    this.#w = lowHalf(cell.base);
    this.#parties = Atomics.load(view, cell.base + PARTIES);
    this.#action = action;
    this.#timeout = t === Infinity ? null : t;
  }

  /** The number of parties the barrier waits for. */
  get parties(): number {
    return this.#parties;
  }

  /** How many parties are waiting now (0 when broken), Python's `n_waiting`. */
  get nWaiting(): number {
    const s = this.#load();
    return s.broken ? 0 : Math.min(s.count, this.#parties);
  }

  /** Whether the barrier is broken (by `abort()`, a timeout, or a failed action) until `reset()`. */
  get broken(): boolean {
    return this.#load().broken;
  }

  /** The action given to the constructor. */
  get action(): BarrierAction | null {
    return this.#action;
  }

  /** The default timeout of `wait()` in milliseconds (`null`: none). */
  get timeout(): number | null {
    return this.#timeout;
  }

  #load(): State {
    return unpack(Atomics.load(this.#state, this.#s));
  }

  #cas(from: State, to: State): boolean {
    const expected = pack(from);
    return Atomics.compareExchange(this.#state, this.#s, expected, pack(to)) === expected;
  }

  #wakeAll(): void {
    futexWake(this.#view, this.#w);
  }

  /** The low word of `s`, as the futex compares it. */
  #word(s: State): number {
    return ((s.gen << 1) | (s.broken ? 1 : 0)) | 0;
  }

  /**
   * Puts the barrier in the broken state, unless generation `gen` has ended
   * already. Wakes everyone.
   */
  #break(gen: number): void {
    for (;;) {
      const s = this.#load();
      if (s.gen !== gen || s.broken) break;
      if (this.#cas(s, { ...s, broken: true })) break;
    }
    this.#wakeAll();
  }

  /**
   * How generation `gen` ended, seen from state `s` of a later generation:
   * by a reset (BrokenBarrierError for its waiters) or a release.
   */
  #endedByReset(gen: number, s: State): boolean {
    const passed = (s.gen - gen + GENERATIONS) % GENERATIONS;
    return passed <= HISTORY && ((s.history >>> (gen % HISTORY)) & 1) === 1;
  }

  /**
   * Arrives: returns this party's index, or -1 after taking the last place
   * (the caller then runs the action and releases), or a state to wait on
   * while a previous cycle's action runs. Throws when broken.
   */
  #arrive(): { index: number; gen: number } | { busy: State } {
    for (;;) {
      const s = this.#load();
      if (s.broken) throw broken('the barrier is broken: it was aborted, a party timed out, or the action failed; call reset() to use it again');
      if (s.count >= this.#parties) return { busy: s };
      if (this.#cas(s, { ...s, count: s.count + 1 })) return { index: s.count, gen: s.gen };
    }
  }

  /** After the action: starts the next generation, releasing the waiters of `gen`. */
  #release(gen: number): void {
    for (;;) {
      const s = this.#load();
      if (s.gen !== gen) throw broken('the barrier was reset while its action ran');
      if (s.broken) throw broken('the barrier was aborted while its action ran');
      const next: State = { gen: (gen + 1) % GENERATIONS, broken: false, count: 0, history: s.history & ~(1 << (gen % HISTORY)) };
      if (this.#cas(s, next)) break;
    }
    this.#wakeAll();
  }

  /**
   * Checks on a waiter of generation `gen`: `'released'`, or a state to keep
   * waiting on (`busy` when the action runs: timeouts no longer apply).
   * Throws BrokenBarrierError when the cycle broke or was reset.
   */
  #check(gen: number): 'released' | { s: State; busy: boolean } {
    const s = this.#load();
    if (s.gen !== gen) {
      if (this.#endedByReset(gen, s)) throw broken('the barrier was reset while this party waited');
      return 'released';
    }
    if (s.broken) throw broken('the barrier broke while this party waited (aborted, another party timed out, or the action failed)');
    return { s, busy: s.count >= this.#parties };
  }

  /**
   * Waits until `parties` parties wait, without blocking the event loop;
   * resolves this party's index (0 to `parties - 1`, distinct within a cycle).
   * The last party to arrive runs the action first (awaiting it if it returns
   * a promise). Rejects with `BrokenBarrierError` if the barrier is or gets
   * broken or reset; a timeout (this one, or the default given to the
   * constructor) breaks the barrier for every party, as in Python. Aborting
   * `signal` breaks it likewise and rejects with `signal.reason`.
   *
   * @param timeout Milliseconds (or an options object `{ timeout, signal }`).
   */
  async wait(timeout?: Timeout | WaitOptions, options?: WaitOptions): Promise<number> {
    const { ms, signal } = parseWait('Barrier.wait', timeout, options, this.#timeout);
    if (signal?.aborted) throw signal.reason;
    if (this.#pendingAction !== null) {
      this.#action = (await defaultCodec.decodeAsync(this.#pendingAction)) as BarrierAction;
      this.#pendingAction = null;
    }
    const end = deadline(ms);
    let arrival = this.#arrive();
    while ('busy' in arrival) {
      // A previous cycle is still running its action: wait for its end (Python's draining).
      await futexWaitAsync(this.#view, this.#w, this.#word(arrival.busy), { signal });
      arrival = this.#arrive();
    }
    const { index, gen } = arrival;
    if (index === this.#parties - 1) {
      try {
        await this.#action?.();
      } catch (error) {
        this.#break(gen);
        throw error;
      }
      this.#release(gen);
      return index;
    }
    for (;;) {
      const c = this.#check(gen);
      if (c === 'released') return index;
      const left = c.busy ? Infinity : remaining(end);
      if (left === 0) {
        this.#break(gen);
        continue; // released just before the timeout, or broken now
      }
      try {
        await futexWaitAsync(this.#view, this.#w, this.#word(c.s), { timeout: left, signal });
      } catch (error) {
        this.#break(gen);
        throw error;
      }
    }
  }

  /**
   * Blocking form of {@link Barrier.wait}. The action must be synchronous
   * here: one that returns a promise breaks the barrier and throws a TypeError.
   */
  waitSync(timeout?: Timeout): number {
    const { ms } = parseWait('Barrier.waitSync', timeout, undefined, this.#timeout);
    if (this.#pendingAction !== null) {
      throw new TypeError(
        "Barrier.waitSync: this barrier's action came from another thread and its module is not loaded here yet; " +
          'pass it to Barrier.fromShareable(data, { action }), or call await barrier.wait() (which imports it)',
      );
    }
    const end = deadline(ms);
    let arrival = this.#arrive();
    while ('busy' in arrival) {
      futexWait(this.#view, this.#w, this.#word(arrival.busy));
      arrival = this.#arrive();
    }
    const { index, gen } = arrival;
    if (index === this.#parties - 1) {
      let result: unknown;
      try {
        result = this.#action?.();
      } catch (error) {
        this.#break(gen);
        throw error;
      }
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
        (result as Promise<unknown>).then(undefined, () => {});
        this.#break(gen);
        throw new TypeError('Barrier.waitSync: the action returned a promise, which a blocking wait cannot await; use await barrier.wait()');
      }
      this.#release(gen);
      return index;
    }
    for (;;) {
      const c = this.#check(gen);
      if (c === 'released') return index;
      const left = c.busy ? Infinity : remaining(end);
      if (left === 0) {
        this.#break(gen);
        continue;
      }
      futexWait(this.#view, this.#w, this.#word(c.s), left);
    }
  }

  /**
   * Puts the barrier in the broken state: waiting parties, and any that call
   * `wait()` until `reset()`, get `BrokenBarrierError`.
   */
  abort(): void {
    for (;;) {
      const s = this.#load();
      if (s.broken || this.#cas(s, { ...s, broken: true })) break;
    }
    this.#wakeAll();
  }

  /**
   * Returns the barrier to its empty state: parties waiting now get
   * `BrokenBarrierError`; a broken barrier becomes usable again.
   */
  reset(): void {
    for (;;) {
      const s = this.#load();
      const next: State = { gen: (s.gen + 1) % GENERATIONS, broken: false, count: 0, history: s.history | (1 << (s.gen % HISTORY)) };
      if (this.#cas(s, next)) break;
    }
    this.#wakeAll();
  }

  /**
   * A description `postMessage` can carry to a worker thread;
   * `Barrier.fromShareable()` there gives the same barrier. The action
   * travels by reference (an exported function), as it does to processes.
   */
  toShareable(): ShareableBarrier {
    return {
      ...shareableOf('Barrier', this.#cell),
      timeout: this.#timeout,
      action: this.#action === null ? null : defaultCodec.encode(this.#action).slice(),
    };
  }

  /**
   * The barrier described by {@link Barrier.toShareable} in another thread.
   * The action travels by reference: give it as `options.action` (the
   * thread's own import of the same function), or let it be resolved from
   * its module — at once when the codec has seen that module, else by the
   * first `await barrier.wait()`.
   */
  static fromShareable(data: ShareableBarrier, options: { action?: BarrierAction | null } = {}): Barrier {
    const cell = cellOfShareable(data, ['Barrier'], 'Barrier');
    const encoded = data.action ?? null;
    let action: BarrierAction | null = options.action ?? null;
    let pending: Uint8Array | null = null;
    if (action === null && encoded !== null) {
      try {
        action = defaultCodec.decode(encoded) as BarrierAction;
      } catch {
        pending = encoded; // the module is not loaded yet: wait() imports it
      }
    }
    const barrier = Barrier[kFromCell](cell, { timeout: data.timeout ?? null, action });
    barrier.#pendingAction = pending;
    return barrier;
  }

  /** @internal */
  static [kFromCell](cell: Cell, extra: BarrierExtra): Barrier {
    return adoptCell(cell, Tag.Barrier, 'Barrier', () => new Barrier(0, { action: extra.action, timeout: extra.timeout }));
  }

  /** @internal */
  get [kCell](): Cell {
    return this.#cell;
  }

  /** @internal */
  toString(): string {
    return this.broken ? 'Barrier(broken)' : `Barrier(waiters=${this.nWaiting}/${this.#parties})`;
  }
}
