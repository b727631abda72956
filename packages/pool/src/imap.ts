/**
 * `imap` / `imapUnordered`: an async iterator over results that reads its
 * input lazily. While the pool runs, a chunk is taken from the input only
 * when a worker has room and fewer than `highWater` chunks are waiting to be
 * consumed, so an endless input never fills memory. Once the pool is closed,
 * the rest of the input is read and its results wait for the consumer.
 */
import { setLongTimeout, TimeoutError, waitArguments, type AbortOptions, type LongTimer, type Timeout, type TimeoutOptions } from '@mpjs/util';
import type { Input } from './checks.js';
import type { Job, Task } from './jobs.js';
import type { TaskFunction } from './worker.js';

/** The results of one chunk, consumed one by one (`ok` false: `values[0]` is the error). */
interface ChunkResults {
  ok: boolean;
  values: unknown[];
  /** How many of `values` were consumed. */
  pos: number;
}

/** One result taken from the queue. */
interface Entry {
  ok: boolean;
  value: unknown;
}

interface Waiter {
  resolve(result: IteratorResult<unknown>): void;
  reject(error: unknown): void;
}

/** How an {@link IMapIterator} is wired to its pool. */
export interface IMapSettings {
  chunksize: number;
  ordered: boolean;
  /** Most chunks taken from the input and not yet consumed. */
  highWater: number;
  /** Asks the pool to hand out tasks (more input arrived, or room was freed). */
  wake(): void;
  onSettled(job: Job): void;
}

/** The job side of an imap: hands out chunks of the input, collects their results. */
class IMapJob implements Job {
  readonly #fn: TaskFunction;
  readonly #settings: IMapSettings;
  readonly #sync: Iterator<unknown> | undefined;
  readonly #async: AsyncIterator<unknown> | undefined;
  /** A chunk fetched from an async input, waiting for a worker. */
  #prefetched: unknown[] | undefined;
  #fetching = false;
  #sourceDone = false;
  #taken = 0;
  #arrived = 0;
  #released = 0;
  readonly #early = new Map<number, ChunkResults>();
  #nextIndex = 0;
  /** Chunks whose results wait for the consumer, oldest first. */
  readonly queue: ChunkResults[] = [];
  failure: { error: unknown } | undefined;
  cancelled = false;
  /** The pool was closed: the input is read to its end without waiting for the consumer. */
  #draining = false;
  /** The pool, held until the job settles so that it is not collected (and terminated) under it. */
  #owner: object | undefined;
  notify: () => void = () => undefined;

  constructor(fn: TaskFunction, input: Input, settings: IMapSettings, owner?: object) {
    this.#fn = fn;
    this.#settings = settings;
    this.#owner = owner;
    if (input.async) this.#async = input.iterator;
    else this.#sync = input.iterator;
  }

  get exhausted(): boolean {
    return this.cancelled || this.failure !== undefined || (this.#sourceDone && this.#prefetched === undefined);
  }

  /** Everything taken has arrived and the input is done. */
  get complete(): boolean {
    return this.#sourceDone && this.#prefetched === undefined && !this.#fetching && this.#arrived === this.#taken;
  }

  take(): Task | undefined {
    if (this.exhausted) return undefined;
    if (!this.#draining && this.#taken - this.#released >= this.#settings.highWater) return undefined;
    let calls: unknown[] | undefined;
    if (this.#sync) calls = this.#pullSync();
    else if (this.#prefetched) {
      calls = this.#prefetched;
      this.#prefetched = undefined;
      this.#fetchAhead();
    } else this.#fetchAhead();
    if (!calls || calls.length === 0) {
      this.#checkComplete();
      return undefined;
    }
    return { job: this, index: this.#taken++, fn: this.#fn, calls, star: false };
  }

  #pullSync(): unknown[] | undefined {
    const calls: unknown[] = [];
    try {
      while (calls.length < this.#settings.chunksize) {
        const step = this.#sync!.next();
        if (step.done) {
          this.#sourceDone = true;
          break;
        }
        calls.push(step.value);
      }
    } catch (error) {
      this.#inputFailed(error);
    }
    return calls;
  }

  /** Starts reading the next chunk of an async input unless one is read or waiting. */
  #fetchAhead(): void {
    if (this.#fetching || this.#prefetched || this.#sourceDone || this.cancelled) return;
    this.#fetching = true;
    void (async () => {
      const calls: unknown[] = [];
      try {
        while (calls.length < this.#settings.chunksize) {
          const step = await this.#async!.next();
          if (step.done) {
            this.#sourceDone = true;
            break;
          }
          calls.push(step.value);
        }
      } catch (error) {
        this.#fetching = false;
        if (calls.length > 0) this.#prefetched = calls;
        this.#inputFailed(error);
        this.#settings.wake();
        return;
      }
      this.#fetching = false;
      if (calls.length > 0 && !this.cancelled) this.#prefetched = calls;
      this.#settings.wake();
      this.#checkComplete();
    })();
  }

  /** An error of the input itself comes out of the iterator after what was taken before it. */
  #inputFailed(error: unknown): void {
    this.#sourceDone = true;
    const index = this.#taken++;
    this.#arrive(index, { ok: false, values: [error], pos: 0 });
  }

  chunkDone(index: number, ok: boolean, value: unknown): void {
    if (this.cancelled || this.failure) return;
    this.#arrive(index, ok ? { ok, values: value as unknown[], pos: 0 } : { ok, values: [value], pos: 0 });
  }

  #arrive(index: number, chunk: ChunkResults): void {
    this.#arrived++;
    if (!this.#settings.ordered) {
      this.#enqueue(chunk);
    } else {
      this.#early.set(index, chunk);
      for (let next = this.#early.get(this.#nextIndex); next; next = this.#early.get(this.#nextIndex)) {
        this.#early.delete(this.#nextIndex++);
        this.#enqueue(next);
      }
    }
    this.#checkComplete();
    this.notify();
  }

  #checkComplete(): void {
    if (this.complete) this.#settled();
    this.notify();
  }

  /** Nothing more to hand out or collect: the pool no longer tracks this job (its results may still wait here). */
  #settled(): void {
    this.#owner = undefined;
    this.#settings.onSettled(this);
  }

  #enqueue(chunk: ChunkResults): void {
    if (chunk.values.length > 0) this.queue.push(chunk);
    else this.#release();
  }

  /** Takes the next result for the consumer (the queue must not be empty). */
  shift(): Entry {
    const chunk = this.queue[0]!;
    const entry: Entry = { ok: chunk.ok, value: chunk.values[chunk.pos++] };
    if (chunk.pos === chunk.values.length) {
      this.queue.shift();
      this.#release();
    }
    return entry;
  }

  /** A chunk was wholly consumed: room for another one. */
  #release(): void {
    this.#released++;
    this.#settings.wake();
  }

  fail(error: unknown): void {
    if (this.failure || this.cancelled) return;
    this.failure = { error };
    this.#settled();
    this.notify();
  }

  /**
   * No more submissions (the pool was closed): read the rest of the input and
   * keep its results for the consumer, so that the workers can finish and
   * join() complete, as Python's imap allows (`it = pool.imap(…); pool.close();
   * pool.join(); list(it)`). An endless input then keeps the pool busy until
   * the iterator is returned.
   */
  drain(): void {
    this.#draining = true;
    this.#settings.wake();
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.#prefetched = undefined;
    this.#settled();
    try {
      void this.#sync?.return?.();
      void this.#async?.return?.()?.catch(() => undefined);
    } catch {
      // The input's own cleanup failed; nothing more to read from it anyway.
    }
    this.notify();
    this.#settings.wake(); // a closed pool whose workers wait for nothing else now lets them go
  }
}

/**
 * The iterator returned by `imap`/`imapUnordered` (Python's `IMapIterator`):
 * use it with `for await`, or call `next(timeout)`, which rejects with
 * TimeoutError when no result is ready within `timeout` ms. A task's error is
 * thrown at its position; iteration can go on after it. `return()` (also
 * called when a `for await` loop is left early) stops reading the input.
 */
export class IMapIterator<T> implements AsyncIterableIterator<T> {
  /** @internal The pool's side. */
  readonly job: IMapJob;
  readonly #waiters: Waiter[] = [];

  /** @internal Made by the pool, which `owner` is. */
  constructor(fn: TaskFunction, input: Input, settings: IMapSettings, owner?: object) {
    this.job = new IMapJob(fn, input, settings, owner);
    this.job.notify = () => this.#pump();
  }

  /**
   * The next result: `{ value }`, `{ done: true }` at the end, or the task's
   * error. Rejects with TimeoutError when none is ready within `timeout` ms
   * (also `next({ timeout, signal })`). Aborting `signal` rejects with
   * `signal.reason` and stops only this wait: the result it would have had
   * comes with the next call.
   */
  next(timeout?: Timeout | TimeoutOptions, options?: AbortOptions): Promise<IteratorResult<T>> {
    let ms = Infinity;
    let signal: AbortSignal | undefined;
    if (timeout !== undefined || options !== undefined) {
      try {
        ({ ms, signal } = waitArguments('IMapIterator.next()', timeout, options));
      } catch (error) {
        return Promise.reject(error);
      }
      if (signal?.aborted) return Promise.reject(signal.reason);
    }
    if (this.#waiters.length === 0 && this.job.queue.length > 0 && !this.job.cancelled) {
      // Fast path: a result is waiting.
      const entry = this.job.shift();
      return entry.ok ? Promise.resolve({ done: false, value: entry.value as T }) : Promise.reject(entry.value);
    }
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      // Leaving the queue of waiters, a wait that gives up takes no result: the next call has it.
      const giveUp = (error: unknown): void => {
        const at = this.#waiters.indexOf(waiter);
        if (at < 0) return;
        this.#waiters.splice(at, 1);
        cleanup();
        reject(error);
      };
      const onAbort = (): void => giveUp(signal!.reason);
      let timer: LongTimer | undefined;
      const cleanup = (): void => {
        timer?.clear();
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        resolve: (result) => {
          cleanup();
          resolve(result as IteratorResult<T>);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      this.#waiters.push(waiter);
      this.#pump();
      if (!this.#waiters.includes(waiter)) return; // answered at once
      if (ms !== Infinity) timer = setLongTimeout(() => giveUp(new TimeoutError(`no result was ready within ${ms} ms`)), ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stops: reads no more input and ignores the results still to come. */
  async return(): Promise<IteratorResult<T>> {
    this.job.cancel();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #pump(): void {
    const job = this.job;
    while (this.#waiters.length > 0) {
      if (job.queue.length > 0 && !job.cancelled) {
        // Take the waiter off the list first: taking a result may free room, read more input and,
        // when a result arrives at once, re-enter this loop, which must not find this waiter queued.
        const waiter = this.#waiters.shift()!;
        const entry = job.shift();
        if (entry.ok) waiter.resolve({ done: false, value: entry.value });
        else waiter.reject(entry.value);
      } else if (job.failure) {
        this.#waiters.shift()!.reject(job.failure.error);
      } else if (job.cancelled || job.complete) {
        this.#waiters.shift()!.resolve({ done: true, value: undefined });
      } else {
        return;
      }
    }
  }
}
