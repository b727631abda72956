/**
 * The pool's bookkeeping: a job (one `apply`, `map`, … call) hands out its
 * work as tasks (chunks of calls) and collects their outcomes.
 */
import { AsyncResult, kSettle } from './async-result.js';
import type { TaskFunction } from './worker.js';

/** One unit of work for a worker: a chunk of calls of one job. */
export interface Task {
  readonly job: Job;
  /** Position of the chunk in its job. */
  readonly index: number;
  readonly fn: TaskFunction;
  readonly calls: unknown[];
  readonly star: boolean;
}

/** What the pool needs from a job: tasks to hand out and a place for outcomes. */
export interface Job {
  /** The next task to run, or undefined when there is none right now. */
  take(): Task | undefined;
  /** True once the job will hand out no more tasks. */
  readonly exhausted: boolean;
  /** A chunk finished: `value` is its list of results, or the error. */
  chunkDone(index: number, ok: boolean, value: unknown): void;
  /** The whole job fails (the pool was terminated). */
  fail(error: unknown): void;
  /**
   * The pool was closed: no other submission will come, so a job that holds
   * back its input (imap) hands out all of it now, for join() to complete.
   */
  drain?(): void;
}

/** Python's chunk size of `map`: about four chunks per worker. */
export function defaultChunksize(length: number, processes: number): number {
  if (length === 0) return 0;
  const chunksize = Math.floor(length / (processes * 4));
  return length % (processes * 4) ? chunksize + 1 : chunksize;
}

/** `apply` and `map`/`starmap` (async or not): a list known in advance, split into chunks. */
export class ListJob<T> implements Job {
  readonly result: AsyncResult<T>;
  readonly #fn: TaskFunction;
  readonly #items: unknown[];
  readonly #chunksize: number;
  readonly #star: boolean;
  /** `apply`: the result is the single call's value rather than a list. */
  readonly #single: boolean;
  readonly #chunks: number;
  readonly #values: unknown[];
  #next = 0;
  #remaining: number;
  readonly #onSettled: (job: Job) => void;

  constructor(
    result: AsyncResult<T>,
    fn: TaskFunction,
    items: unknown[],
    chunksize: number,
    star: boolean,
    single: boolean,
    onSettled: (job: Job) => void,
  ) {
    this.result = result;
    this.#fn = fn;
    this.#items = items;
    this.#chunksize = chunksize;
    this.#star = star;
    this.#single = single;
    this.#onSettled = onSettled;
    this.#chunks = items.length === 0 ? 0 : Math.ceil(items.length / chunksize);
    this.#remaining = this.#chunks;
    this.#values = new Array<unknown>(items.length);
    if (this.#chunks === 0) this.#settle(true, []);
  }

  get exhausted(): boolean {
    return this.#next >= this.#chunks || this.result.ready();
  }

  take(): Task | undefined {
    if (this.exhausted) return undefined;
    const index = this.#next++;
    const start = index * this.#chunksize;
    const calls = this.#chunks === 1 ? this.#items : this.#items.slice(start, start + this.#chunksize);
    return { job: this, index, fn: this.#fn, calls, star: this.#star };
  }

  chunkDone(index: number, ok: boolean, value: unknown): void {
    if (this.result.ready()) return;
    if (!ok) {
      this.#settle(false, value);
      return;
    }
    const values = value as unknown[];
    const start = index * this.#chunksize;
    for (let i = 0; i < values.length; i++) this.#values[start + i] = values[i];
    if (--this.#remaining === 0) this.#settle(true, this.#single ? this.#values[0] : this.#values);
  }

  fail(error: unknown): void {
    this.#settle(false, error);
  }

  /**
   * The submission's signal aborted. `apply`: the call is cancelled unless a
   * worker has it, in which case it runs on and its outcome stands. `map`:
   * the chunks not yet handed out are cancelled and the result rejects with
   * `reason` (the chunks workers have run on; their results are dropped).
   */
  abort(reason: unknown): void {
    if (this.result.ready() || (this.#single && this.#next >= this.#chunks)) return;
    this.#next = this.#chunks;
    this.#settle(false, reason);
  }

  #settle(ok: boolean, value: unknown): void {
    if (this.result[kSettle](ok, value)) this.#onSettled(this);
  }
}
