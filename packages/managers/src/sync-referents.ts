/**
 * Server-side synchronisation objects of `SyncManager`: plain JS objects in
 * the manager's process whose blocking methods are async waits. A call that
 * may wait is given an options object with a `signal`, which the server
 * aborts when the caller gives up or goes; the wait then ends without taking
 * anything. A result the server could not deliver is undone through
 * `[undeliveredSymbol]` (an item got goes back to the front of the queue, a
 * lock acquired is released). Lock owners are identified by the calling
 * process (`owner`), which the proxies pass along.
 */
import { BrokenBarrierError, Empty, Full, ValueError, normalizeTimeout, setLongTimeout, type LongTimer, type Timeout } from '@mpjs/util';
import { localReferent } from './proxy.js';
import { callerGone, undeliveredSymbol } from './token.js';

/** The options a waiting method receives: as the local primitives' (`{ block, timeout, signal }`), plus the caller's identity. */
export interface ReferentWaitOptions {
  /** Wait (default true); false tries once. */
  block?: boolean;
  /** Milliseconds to wait at most; null/undefined: no limit. */
  timeout?: Timeout;
  /** Aborted when the caller gives up or goes: the wait ends, rejecting with its reason. */
  signal?: AbortSignal;
  /** The calling process, for re-entrant locks and conditions. */
  owner?: string;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value === 'object' || typeof value === 'function' ? typeof value : String(value);
}

interface Parsed {
  /** Milliseconds to wait: 0 for a try, Infinity for no limit. */
  ms: number;
  signal: AbortSignal | undefined;
  owner: string;
}

/**
 * Reads a waiting method's arguments: an options object (what the proxies
 * send), or Python's positional `(block, timeout)` for callers in this process.
 */
function parseWait(fn: string, first: unknown, timeout: unknown, owner: unknown): Parsed {
  if (first !== null && typeof first === 'object') {
    const o = first as ReferentWaitOptions;
    const block = o.block ?? true;
    if (typeof block !== 'boolean') throw new TypeError(`${fn}: "block" must be a boolean, got ${describe(block)}`);
    const ms = normalizeTimeout(o.timeout, `${fn}: "timeout"`);
    return { ms: block ? ms : 0, signal: o.signal, owner: o.owner ?? '' };
  }
  if (first !== undefined && typeof first !== 'boolean') {
    throw new TypeError(`${fn}: pass an options object such as { block, timeout }, got ${describe(first)}`);
  }
  const ms = normalizeTimeout(timeout as Timeout, `${fn}: "timeout"`);
  return { ms: first === false ? 0 : ms, signal: undefined, owner: typeof owner === 'string' ? owner : '' };
}

/** The `(timeout, { signal, owner })` pair of a `wait`. */
function parseTimeout(fn: string, timeout: unknown, options: unknown, fallback: Timeout = null): Parsed {
  const o = options !== null && typeof options === 'object' ? (options as ReferentWaitOptions) : {};
  const t = timeout ?? fallback;
  return { ms: normalizeTimeout(t as Timeout, `${fn}: "timeout"`), signal: o.signal, owner: o.owner ?? '' };
}

/** Not plain data: `_getvalue()` of its proxy is refused (Python's fails to pickle it). */
function notCopyable(name: string): never {
  throw new TypeError(`a ${name} held by a manager cannot be copied out of it (it is not plain data); use the methods of its proxy`);
}

interface Waiter {
  wake(): void;
}

/**
 * A FIFO of parked callers. `wait` resolves true when woken, false when its
 * time is up, and rejects with `signal.reason` when aborted; a waiter that
 * leaves takes no later wake-up.
 */
class WaitList {
  readonly #waiters: Waiter[] = [];
  get size(): number {
    return this.#waiters.length;
  }
  wait(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      let timer: LongTimer | undefined;
      const leave = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        timer?.clear();
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        leave();
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        wake: () => {
          leave();
          resolve(true);
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (ms !== Infinity) {
        timer = setLongTimeout(() => {
          leave();
          resolve(false);
        }, ms);
      }
    });
  }
  wakeOne(): boolean {
    const waiter = this.#waiters[0];
    waiter?.wake();
    return waiter !== undefined;
  }
  wakeAll(): void {
    for (const waiter of [...this.#waiters]) waiter.wake();
  }
}

/** Milliseconds left until `end` (a `performance.now()` time, or Infinity). */
function left(end: number): number {
  return end === Infinity ? Infinity : Math.max(0, end - performance.now());
}

function endOf(ms: number): number {
  return ms === Infinity ? Infinity : performance.now() + ms;
}

/** Server side of `manager.Lock()`. */
export class LockReferent {
  #locked = false;
  readonly #waiters = new WaitList();
  /** `acquire({ block, timeout, signal })`, or `acquire(block, timeout)`: resolves true once acquired. */
  async acquire(options?: ReferentWaitOptions | boolean, timeout?: Timeout): Promise<boolean> {
    const { ms, signal } = parseWait('Lock.acquire()', options, timeout, undefined);
    signal?.throwIfAborted();
    if (!this.#locked) return (this.#locked = true);
    // release() hands the lock straight to the woken waiter.
    return this.#waiters.wait(ms, signal);
  }
  release(): void {
    if (!this.#locked) throw new ValueError('release unlocked lock');
    if (!this.#waiters.wakeOne()) this.#locked = false;
  }
  locked(): boolean {
    return this.#locked;
  }
  _getvalue(): never {
    return notCopyable('Lock');
  }
  /** An acquisition whose caller never learnt of it is released. */
  [undeliveredSymbol](method: string, _args: unknown[], result: unknown): void {
    if (method === 'acquire' && result === true) this.release();
  }
  toString(): string {
    return `<Lock(${this.#locked ? 'locked' : 'unlocked'})>`;
  }
}

/** Server side of `manager.RLock()`: re-entrant per owner (calling process). */
export class RLockReferent {
  #owner: string | null = null;
  #count = 0;
  /** Owners waiting, in order; the first is handed the lock by release(). */
  readonly #queue: Array<{ owner: string; wake: () => void }> = [];
  /** `acquire({ block, timeout, signal, owner })`, or `acquire(block, timeout, owner)`. */
  async acquire(options?: ReferentWaitOptions | boolean, timeout?: Timeout, owner?: string): Promise<boolean> {
    const parsed = parseWait('RLock.acquire()', options, timeout, owner);
    parsed.signal?.throwIfAborted();
    return this.#acquire(parsed.owner, parsed.ms, parsed.signal);
  }
  #acquire(owner: string, ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.#owner === owner) {
      this.#count++;
      return Promise.resolve(true);
    }
    if (this.#owner === null) {
      this.#owner = owner;
      this.#count = 1;
      return Promise.resolve(true);
    }
    const waiters = new WaitList();
    const entry = { owner, wake: () => void waiters.wakeOne() };
    this.#queue.push(entry);
    const got = waiters.wait(ms, signal);
    const leave = (): void => {
      const i = this.#queue.indexOf(entry);
      if (i >= 0) this.#queue.splice(i, 1);
    };
    // Woken: release() made this owner the holder before waking it.
    return got.then(
      (woken) => {
        if (!woken) leave();
        return woken;
      },
      (error: unknown) => {
        leave();
        throw error;
      },
    );
  }
  release(owner = ''): void {
    if (this.#owner !== owner) throw new ValueError('cannot release un-acquired lock');
    if (--this.#count > 0) return;
    const next = this.#queue.shift();
    if (next) {
      this.#owner = next.owner;
      this.#count = 1;
      next.wake();
    } else {
      this.#owner = null;
    }
  }
  /** Releases fully and returns the recursion count (for Condition.wait). */
  releaseAll(owner: string): number {
    if (this.#owner !== owner) throw new ValueError('cannot wait on un-acquired lock');
    const count = this.#count;
    this.#count = 1;
    this.release(owner);
    return count;
  }
  /** Takes the lock back with its recursion count (after Condition.wait). */
  async reacquire(owner: string, count: number): Promise<void> {
    await this.#acquire(owner, Infinity, undefined);
    this.#count = count;
  }
  isOwned(owner: string): boolean {
    return this.#owner === owner;
  }
  _getvalue(): never {
    return notCopyable('RLock');
  }
  [undeliveredSymbol](method: string, args: unknown[], result: unknown): void {
    if (method !== 'acquire' || result !== true) return;
    const owner = parseWait('RLock.acquire()', args[0], args[1], args[2]).owner;
    if (this.#owner === owner) this.release(owner);
  }
  toString(): string {
    return `<RLock(owner=${this.#owner ?? 'None'}, count=${this.#count})>`;
  }
}

/** Server side of `manager.Semaphore(value)`. */
export class SemaphoreReferent {
  protected value: number;
  readonly #waiters = new WaitList();
  constructor(value = 1) {
    if (!Number.isInteger(value) || value < 0) throw new ValueError(`semaphore initial value must be a non-negative integer, got ${describe(value)}`);
    this.value = value;
  }
  /** `acquire({ block, timeout, signal })`, or `acquire(block, timeout)`. */
  async acquire(options?: ReferentWaitOptions | boolean, timeout?: Timeout): Promise<boolean> {
    const { ms, signal } = parseWait(`${this.#name()}.acquire()`, options, timeout, undefined);
    signal?.throwIfAborted();
    if (this.value > 0) {
      this.value--;
      return true;
    }
    return this.#waiters.wait(ms, signal);
  }
  release(n = 1): void {
    if (!Number.isInteger(n) || n < 1) throw new ValueError(`release(n): n must be one or more, got ${describe(n)}`);
    for (let i = 0; i < n; i++) if (!this.#waiters.wakeOne()) this.value++;
  }
  getValue(): number {
    return this.value;
  }
  _getvalue(): never {
    return notCopyable(this.#name());
  }
  [undeliveredSymbol](method: string, _args: unknown[], result: unknown): void {
    if (method === 'acquire' && result === true) this.#giveBack();
  }
  /** One unit back, past any bound (it was taken, not released too often). */
  #giveBack(): void {
    if (!this.#waiters.wakeOne()) this.value++;
  }
  #name(): string {
    return this.constructor.name.replace('Referent', '');
  }
  toString(): string {
    return `<${this.#name()}(value=${this.value})>`;
  }
}

/** Server side of `manager.BoundedSemaphore(value)`. */
export class BoundedSemaphoreReferent extends SemaphoreReferent {
  readonly #initial: number;
  constructor(value = 1) {
    super(value);
    this.#initial = value;
  }
  override release(n = 1): void {
    if (this.value + n > this.#initial) throw new ValueError('Semaphore released too many times');
    super.release(n);
  }
}

/** The two kinds of lock a condition can use, behind one interface. */
interface ConditionLock {
  acquire(owner: string, ms: number, signal: AbortSignal | undefined): Promise<boolean>;
  release(owner: string): void;
  isOwned(owner: string): boolean;
  /** Releases fully; resolves the state to restore. */
  releaseAll(owner: string): number;
  reacquire(owner: string, saved: number): Promise<void>;
}

function rlockAdapter(lock: RLockReferent): ConditionLock {
  return {
    acquire: (owner, ms, signal) => lock.acquire({ block: true, timeout: ms === Infinity ? null : ms, signal, owner }),
    release: (owner) => lock.release(owner),
    isOwned: (owner) => lock.isOwned(owner),
    releaseAll: (owner) => lock.releaseAll(owner),
    reacquire: (owner, count) => lock.reacquire(owner, count),
  };
}

/** A plain Lock has no owner: held counts as owned, as Python's Condition assumes for a Lock. */
function lockAdapter(lock: LockReferent): ConditionLock {
  return {
    acquire: (_owner, ms, signal) => lock.acquire({ block: true, timeout: ms === Infinity ? null : ms, signal }),
    release: () => lock.release(),
    isOwned: () => lock.locked(),
    releaseAll: () => {
      if (!lock.locked()) throw new ValueError('cannot wait on un-acquired lock');
      lock.release();
      return 1;
    },
    reacquire: async () => {
      await lock.acquire();
    },
  };
}

/**
 * Server side of `manager.Condition(lock?)`: a wait list over a lock — its
 * own re-entrant lock, or the Lock or RLock of the same manager it was given.
 */
export class ConditionReferent {
  readonly #lock: ConditionLock;
  /** The proxy the lock came as: it keeps the lock's reference while the condition uses it. */
  readonly #lockProxy: unknown;
  readonly #waiters = new WaitList();
  constructor(lock: unknown = null) {
    this.#lockProxy = lock;
    if (lock === null || lock === undefined) {
      this.#lock = rlockAdapter(new RLockReferent());
      return;
    }
    const referent = localReferent(lock)?.referent;
    if (referent instanceof RLockReferent) this.#lock = rlockAdapter(referent);
    else if (referent instanceof LockReferent) this.#lock = lockAdapter(referent);
    else {
      throw new TypeError(
        'Condition(lock): the lock must be a Lock or RLock proxy of the same manager (await manager.Lock() or manager.RLock()), ' +
          `got ${referent === undefined ? describe(lock) : `a proxy of a ${(referent as object).constructor.name.replace('Referent', '')}`}`,
      );
    }
  }
  /** `acquire({ block, timeout, signal, owner })`, or `acquire(block, timeout, owner)`. */
  async acquire(options?: ReferentWaitOptions | boolean, timeout?: Timeout, owner?: string): Promise<boolean> {
    const parsed = parseWait('Condition.acquire()', options, timeout, owner);
    parsed.signal?.throwIfAborted();
    return this.#lock.acquire(parsed.owner, parsed.ms, parsed.signal);
  }
  release(owner = ''): void {
    this.#lock.release(owner);
  }
  /**
   * `wait(timeout, { owner, signal })`: releases the lock, waits for a
   * notification or the timeout, takes the lock back (also when aborted, as
   * a local Condition does), resolves false on timeout.
   */
  async wait(timeout: Timeout = null, options: ReferentWaitOptions | string = {}): Promise<boolean> {
    const o = typeof options === 'string' ? { owner: options } : options;
    const { ms, signal, owner } = parseTimeout('Condition.wait()', timeout, o);
    signal?.throwIfAborted();
    if (!this.#lock.isOwned(owner)) throw new ValueError('cannot wait on un-acquired lock');
    const saved = this.#lock.releaseAll(owner);
    try {
      return await this.#waiters.wait(ms, signal);
    } finally {
      await this.#lock.reacquire(owner, saved);
      // Nobody is left to release it: the caller's process went away.
      if (callerGone(signal)) for (let i = 0; i < saved && this.#lock.isOwned(owner); i++) this.#lock.release(owner);
    }
  }
  notify(n = 1, owner = ''): void {
    if (!this.#lock.isOwned(owner)) throw new ValueError('cannot notify on un-acquired lock');
    for (let i = 0; i < n && this.#waiters.wakeOne(); i++);
  }
  notifyAll(owner = ''): void {
    if (!this.#lock.isOwned(owner)) throw new ValueError('cannot notify on un-acquired lock');
    this.#waiters.wakeAll();
  }
  _getvalue(): never {
    return notCopyable('Condition');
  }
  [undeliveredSymbol](method: string, args: unknown[], result: unknown): void {
    if (method === 'acquire' && result === true) this.#lock.release(parseWait('Condition.acquire()', args[0], args[1], args[2]).owner);
  }
  toString(): string {
    return `<Condition(waiters=${this.#waiters.size}${this.#lockProxy ? `, lock=${String(this.#lockProxy)}` : ''})>`;
  }
}

/** Server side of `manager.Event()`. */
export class EventReferent {
  #flag = false;
  readonly #waiters = new WaitList();
  isSet(): boolean {
    return this.#flag;
  }
  set(): void {
    this.#flag = true;
    this.#waiters.wakeAll();
  }
  clear(): void {
    this.#flag = false;
  }
  /** `wait(timeout, { signal })`: resolves the flag (false after a timeout). */
  async wait(timeout: Timeout = null, options: ReferentWaitOptions = {}): Promise<boolean> {
    const { ms, signal } = parseTimeout('Event.wait()', timeout, options);
    signal?.throwIfAborted();
    if (this.#flag) return true;
    await this.#waiters.wait(ms, signal);
    return this.#flag;
  }
  _getvalue(): never {
    return notCopyable('Event');
  }
  toString(): string {
    return `<Event(${this.#flag ? 'set' : 'unset'})>`;
  }
}

/** Server side of `manager.Barrier(parties, action?, timeout?)`. */
export class BarrierReferent {
  #count = 0;
  #generation = 0;
  #broken = false;
  #waiters = new WaitList();
  /** Generations ended by reset(): their waiters get BrokenBarrierError. */
  readonly #reset = new Set<number>();
  constructor(
    readonly parties: number,
    readonly action: (() => unknown) | null = null,
    readonly timeout: Timeout = null,
  ) {
    if (!Number.isInteger(parties) || parties < 1) throw new ValueError(`parties must be a positive integer, got ${describe(parties)}`);
    if (action !== null && action !== undefined && typeof action !== 'function') throw new TypeError('Barrier(parties, action): action must be a function or null');
    normalizeTimeout(timeout, 'Barrier(parties, action, timeout): "timeout"');
  }
  /**
   * `wait(timeout, { signal })`: waits for all parties; the barrier's own
   * timeout when `timeout` is null or omitted. A timeout or an abort breaks
   * the barrier for every party, as a local Barrier's does.
   */
  async wait(timeout: Timeout = null, options: ReferentWaitOptions = {}): Promise<number> {
    const { ms, signal } = parseTimeout('Barrier.wait()', timeout, options, this.timeout);
    signal?.throwIfAborted();
    if (this.#broken) throw new BrokenBarrierError();
    const index = this.#count++;
    const generation = this.#generation;
    if (this.#count === this.parties) {
      try {
        await this.action?.();
      } catch (error) {
        this.abort();
        throw error;
      }
      this.#count = 0;
      this.#generation++;
      this.#waiters.wakeAll();
      return index;
    }
    let woken: boolean;
    try {
      woken = await this.#waiters.wait(ms, signal);
    } catch (error) {
      if (this.#generation === generation && !this.#broken) this.abort();
      throw error;
    }
    if (!woken && this.#generation === generation && !this.#broken) this.abort();
    if (this.#broken || this.#generation === generation || this.#reset.has(generation)) throw new BrokenBarrierError();
    return index;
  }
  abort(): void {
    this.#broken = true;
    this.#count = 0;
    this.#waiters.wakeAll();
  }
  reset(): void {
    if (this.#count > 0) this.#reset.add(this.#generation);
    this.#waiters.wakeAll();
    this.#broken = false;
    this.#count = 0;
    this.#generation++;
  }
  nWaiting(): number {
    return this.#count;
  }
  broken(): boolean {
    return this.#broken;
  }
  getParties(): number {
    return this.parties;
  }
  _getvalue(): never {
    return notCopyable('Barrier');
  }
  toString(): string {
    return `<Barrier(parties=${this.parties}, n_waiting=${this.#count}, broken=${this.#broken})>`;
  }
}

/**
 * Server side of `manager.Queue(maxsize)` and `manager.JoinableQueue(maxsize)`:
 * Python's `queue.Queue`, which has `task_done()` and `join()` too.
 */
export class QueueReferent {
  readonly items: unknown[] = [];
  readonly maxsize: number;
  readonly #notEmpty = new WaitList();
  readonly #notFull = new WaitList();
  #unfinished = 0;
  readonly #allDone = new WaitList();
  constructor(maxsize = 0) {
    if (!Number.isInteger(maxsize)) throw new TypeError(`Queue(maxsize): maxsize must be an integer (0 or less: unbounded), got ${describe(maxsize)}`);
    this.maxsize = maxsize;
  }
  /** `put(item, { block, timeout, signal })`, or `put(item, block, timeout)`: Full when there is no room in time. */
  async put(item: unknown, options?: ReferentWaitOptions | boolean, timeout?: Timeout): Promise<void> {
    const { ms, signal } = parseWait('Queue.put()', options, timeout, undefined);
    signal?.throwIfAborted();
    const end = endOf(ms);
    while (this.full()) {
      if (!(await this.#notFull.wait(left(end), signal))) throw new Full();
    }
    this.items.push(item);
    this.#unfinished++;
    this.#notEmpty.wakeOne();
  }
  /** `get({ block, timeout, signal })`, or `get(block, timeout)`: Empty when no item comes in time. */
  async get(options?: ReferentWaitOptions | boolean, timeout?: Timeout): Promise<unknown> {
    const { ms, signal } = parseWait('Queue.get()', options, timeout, undefined);
    signal?.throwIfAborted();
    const end = endOf(ms);
    while (this.items.length === 0) {
      if (!(await this.#notEmpty.wait(left(end), signal))) throw new Empty();
    }
    const item = this.items.shift();
    this.#notFull.wakeOne();
    // A waiter woken for an item another caller took goes back to sleep above; pass the wake on.
    if (this.items.length > 0) this.#notEmpty.wakeOne();
    return item;
  }
  putNowait(item: unknown): Promise<void> {
    return this.put(item, false);
  }
  getNowait(): Promise<unknown> {
    return this.get(false);
  }
  qsize(): number {
    return this.items.length;
  }
  empty(): boolean {
    return this.items.length === 0;
  }
  full(): boolean {
    return this.maxsize > 0 && this.items.length >= this.maxsize;
  }
  /** Marks one item got as processed (Python's `task_done()`). */
  taskDone(): void {
    if (this.#unfinished <= 0) throw new ValueError('task_done() called too many times');
    if (--this.#unfinished === 0) this.#allDone.wakeAll();
  }
  /** `join({ signal })`: waits until every item put has been marked done. */
  async join(options: ReferentWaitOptions = {}): Promise<void> {
    const signal = options !== null && typeof options === 'object' ? options.signal : undefined;
    signal?.throwIfAborted();
    while (this.#unfinished > 0) await this.#allDone.wait(Infinity, signal);
  }
  _getvalue(): never {
    return notCopyable('Queue');
  }
  /** An item got whose caller never received it goes back to the front. */
  [undeliveredSymbol](method: string, _args: unknown[], result: unknown): void {
    if (method !== 'get' && method !== 'getNowait') return;
    this.items.unshift(result);
    this.#notEmpty.wakeOne();
  }
  toString(): string {
    return `<Queue(qsize=${this.items.length}, maxsize=${this.maxsize})>`;
  }
}

/** Server side of `manager.JoinableQueue(maxsize)` (the same as a manager's Queue, as in Python). */
export class JoinableQueueReferent extends QueueReferent {}
