/**
 * Server-side synchronisation objects of `SyncManager`: plain JS objects in
 * the manager's process whose blocking methods are async waits. Each proxy
 * call runs on its own connection, so one waiting call never blocks another.
 * Lock owners are identified by the calling process (`owner`), which the
 * proxies pass along.
 */
import { BrokenBarrierError, Empty, Full, ValueError, normalizeTimeout, type Timeout } from '@mpjs/util';

/** A FIFO of parked callers, each woken with `true` or timed out with `false`. */
class WaitList {
  readonly #waiters: Array<(woken: boolean) => void> = [];
  get size(): number {
    return this.#waiters.length;
  }
  wait(timeout: Timeout): Promise<boolean> {
    const ms = normalizeTimeout(timeout);
    if (ms === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = (woken: boolean): void => {
        if (timer) clearTimeout(timer);
        resolve(woken);
      };
      this.#waiters.push(waiter);
      if (ms !== Infinity) {
        timer = setTimeout(() => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          resolve(false);
        }, ms);
      }
    });
  }
  wakeOne(): boolean {
    const waiter = this.#waiters.shift();
    waiter?.(true);
    return waiter !== undefined;
  }
  wakeAll(): void {
    for (const waiter of this.#waiters.splice(0)) waiter(true);
  }
}

/** Server side of `manager.Lock()`. */
export class LockReferent {
  #locked = false;
  readonly #waiters = new WaitList();
  async acquire(blocking = true, timeout: Timeout = null): Promise<boolean> {
    if (!this.#locked) return (this.#locked = true);
    if (!blocking) return false;
    // release() hands the lock straight to the woken waiter.
    return this.#waiters.wait(timeout);
  }
  release(): void {
    if (!this.#locked) throw new ValueError('release unlocked lock');
    if (!this.#waiters.wakeOne()) this.#locked = false;
  }
  locked(): boolean {
    return this.#locked;
  }
  toString(): string {
    return `<Lock(${this.#locked ? 'locked' : 'unlocked'})>`;
  }
}

/** Server side of `manager.RLock()`: re-entrant per owner (calling process). */
export class RLockReferent {
  #owner: string | null = null;
  #count = 0;
  readonly #waiters = new WaitList();
  async acquire(blocking = true, timeout: Timeout = null, owner = ''): Promise<boolean> {
    if (this.#owner === owner) {
      this.#count++;
      return true;
    }
    if (this.#owner === null) {
      this.#owner = owner;
      this.#count = 1;
      return true;
    }
    if (!blocking) return false;
    const pending = { owner };
    this.#queue.push(pending);
    const got = await this.#waiters.wait(timeout);
    if (!got) this.#queue.splice(this.#queue.indexOf(pending), 1);
    return got;
  }
  readonly #queue: Array<{ owner: string }> = [];
  release(owner = ''): void {
    if (this.#owner !== owner) throw new ValueError('cannot release un-acquired lock');
    if (--this.#count > 0) return;
    const next = this.#queue.shift();
    if (next) {
      this.#owner = next.owner;
      this.#count = 1;
      this.#waiters.wakeOne();
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
  async reacquire(owner: string, count: number): Promise<void> {
    await this.acquire(true, null, owner);
    this.#count = count;
  }
  isOwned(owner: string): boolean {
    return this.#owner === owner;
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
    if (!Number.isInteger(value) || value < 0) throw new ValueError('semaphore initial value must be a non-negative integer');
    this.value = value;
  }
  async acquire(blocking = true, timeout: Timeout = null): Promise<boolean> {
    if (this.value > 0) {
      this.value--;
      return true;
    }
    if (!blocking) return false;
    return this.#waiters.wait(timeout);
  }
  release(n = 1): void {
    for (let i = 0; i < n; i++) if (!this.#waiters.wakeOne()) this.value++;
  }
  getValue(): number {
    return this.value;
  }
  toString(): string {
    return `<${this.constructor.name.replace('Referent', '')}(value=${this.value})>`;
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

/** Server side of `manager.Condition()`: its own re-entrant lock plus a wait list. */
export class ConditionReferent {
  readonly lock = new RLockReferent();
  readonly #waiters = new WaitList();
  acquire(blocking = true, timeout: Timeout = null, owner = ''): Promise<boolean> {
    return this.lock.acquire(blocking, timeout, owner);
  }
  release(owner = ''): void {
    this.lock.release(owner);
  }
  async wait(timeout: Timeout = null, owner = ''): Promise<boolean> {
    const count = this.lock.releaseAll(owner);
    try {
      return await this.#waiters.wait(timeout);
    } finally {
      await this.lock.reacquire(owner, count);
    }
  }
  notify(n = 1, owner = ''): void {
    if (!this.lock.isOwned(owner)) throw new ValueError('cannot notify on un-acquired lock');
    for (let i = 0; i < n && this.#waiters.wakeOne(); i++);
  }
  notifyAll(owner = ''): void {
    if (!this.lock.isOwned(owner)) throw new ValueError('cannot notify on un-acquired lock');
    this.#waiters.wakeAll();
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
  async wait(timeout: Timeout = null): Promise<boolean> {
    if (this.#flag) return true;
    await this.#waiters.wait(timeout);
    return this.#flag;
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
    if (!Number.isInteger(parties) || parties < 1) throw new ValueError('parties must be a positive integer');
  }
  async wait(timeout: Timeout = this.timeout): Promise<number> {
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
    const woken = await this.#waiters.wait(timeout);
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
}

/** Server side of `manager.Queue(maxsize)`. */
export class QueueReferent {
  readonly items: unknown[] = [];
  readonly #notEmpty = new WaitList();
  readonly #notFull = new WaitList();
  constructor(readonly maxsize = 0) {}
  async put(item: unknown, block = true, timeout: Timeout = null): Promise<void> {
    while (this.full()) {
      if (!block || !(await this.#notFull.wait(timeout))) throw new Full();
    }
    this.items.push(item);
    this.onPut();
    this.#notEmpty.wakeOne();
  }
  async get(block = true, timeout: Timeout = null): Promise<unknown> {
    while (this.items.length === 0) {
      if (!block || !(await this.#notEmpty.wait(timeout))) throw new Empty();
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
  protected onPut(): void {}
}

/** Server side of `manager.JoinableQueue(maxsize)`. */
export class JoinableQueueReferent extends QueueReferent {
  #unfinished = 0;
  readonly #allDone = new WaitList();
  protected override onPut(): void {
    this.#unfinished++;
  }
  taskDone(): void {
    if (this.#unfinished <= 0) throw new ValueError('task_done() called too many times');
    if (--this.#unfinished === 0) this.#allDone.wakeAll();
  }
  async join(): Promise<void> {
    while (this.#unfinished > 0) await this.#allDone.wait(null);
  }
}
