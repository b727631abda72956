/**
 * `Pool`: Python's `multiprocessing.Pool`, a fixed number of worker
 * processes that run the tasks submitted to it. This is the object users
 * hold: it checks what they pass and submits the work to its
 * {@link PoolCore}, which runs the workers (see pool-core.ts). When it is
 * garbage-collected while its workers still run, they are terminated, as
 * Python's spec says; a pool with work pending is not collected, its results
 * holding it until they settle.
 */
import { cpuCount, type LauncherSource, type StartMethod } from '@mpjs/process';
import { Finalize, ValueError, checkSignal, getLogger, type AbortOptions } from '@mpjs/util';
import { AsyncResult, kSettle, type ResultCallbacks } from './async-result.js';
import { ListJob, defaultChunksize } from './jobs.js';
import { IMapIterator, type IMapSettings } from './imap.js';
import type { WorkerLauncher } from './channel.js';
import type { TaskFunction } from './worker.js';
import { argsOf, argumentLists, checkChunksize, checkFunction, countOption, inputOf, listOf, poolOptions } from './checks.js';
import { PoolCore } from './pool-core.js';

/** Options of `new Pool()`, as Python's keyword arguments. */
export interface PoolOptions {
  /** Number of worker processes; `cpuCount()` when omitted. */
  processes?: number | null;
  /** Called as `initializer(...initargs)` once in each worker when it starts (exported function). */
  initializer?: TaskFunction | null;
  /** Arguments of the initializer. */
  initargs?: Iterable<unknown>;
  /** Tasks a worker does before it is replaced by a fresh one; unlimited when omitted. */
  maxtasksperchild?: number | null;
  /** Context (or start method name) that starts the workers; the default context when omitted. */
  context?: LauncherSource | StartMethod | null;
}

/** Options of `map`, `starmap` and their async forms. */
export interface MapOptions {
  /** Items per task; by default about four tasks per worker, as in Python. */
  chunksize?: number | null;
  /**
   * Aborting it before the result is ready cancels the chunks not yet handed
   * to a worker, and the result rejects at once with the signal's reason. The
   * chunks already handed out (short tasks are handed out a few at a time
   * ahead of need) run to their end in their workers, and their results are
   * dropped. (To stop waiting without cancelling, pass a signal to `get()`.)
   */
  signal?: AbortSignal | null;
}

/** Options of `mapAsync`/`starmapAsync`. */
export type MapAsyncOptions<T> = MapOptions & ResultCallbacks<T>;

/** Options of `apply`. */
export interface ApplyOptions {
  /**
   * Aborting it before the task is handed to a worker cancels it: it never
   * runs, and the result rejects with the signal's reason. Once a worker has
   * it, aborting has no effect: the task runs on and its result (or error)
   * stands. (To stop waiting without cancelling, pass a signal to `get()`.)
   */
  signal?: AbortSignal | null;
}

/** Options of `applyAsync`. */
export type ApplyAsyncOptions<T> = ApplyOptions & ResultCallbacks<T>;

/** Options of `imap`/`imapUnordered`. */
export interface IMapOptions {
  /** Items per task (default 1). */
  chunksize?: number | null;
}

/** How `apply` splits its work: one call, its arguments spread, its value the result. */
const ONE_CALL = Object.freeze({ name: 'Pool.apply()', chunksize: 1, star: true, single: true });
/** Options of a call given none (not a fresh object per call: round trips are many). */
const NO_OPTIONS = Object.freeze({});

let poolCounter = 0;
/** Option key by which a subclass (ThreadPool) supplies its own way of starting workers. */
export const kLauncher = Symbol('mpjs.pool.launcher');

/** The option names of `new Pool()`. */
export const POOL_OPTION_NAMES: readonly string[] = ['processes', 'initializer', 'initargs', 'maxtasksperchild', 'context'];

/** The signal of `join(options)`, which takes no timeout. */
function joinSignal(options: unknown): AbortSignal | undefined {
  if (options === undefined || options === null) return undefined;
  const timeout = typeof options === 'object' ? (options as { timeout?: unknown }).timeout : options;
  if (timeout !== undefined) {
    const ms = typeof timeout === 'number' ? timeout : 'ms';
    throw new TypeError(`Pool.join() takes no timeout, as Python's does not; to stop waiting after a while, pass { signal: AbortSignal.timeout(${ms}) }`);
  }
  return checkSignal('Pool.join()', (options as AbortOptions).signal);
}

/**
 * Terminates the workers of a pool whose `Pool` object was garbage-collected
 * without `terminate()` (Python: "When the pool object is garbage collected
 * terminate() will be called immediately"). Given the core, not the pool.
 */
function terminateCollected(core: PoolCore): void {
  if (core.state !== 'terminate') getLogger().debug('%s was garbage-collected: terminating its workers', core.name);
  void core.terminate().catch(() => undefined);
}

/**
 * A pool of worker processes (Python's `multiprocessing.Pool`). Task
 * functions travel by reference: they must be exported from a module the
 * workers can import. `await using pool = new Pool()` terminates it at the
 * end of the scope; so does its garbage collection, once it has no work
 * pending and nothing refers to it.
 */
export class Pool implements AsyncDisposable {
  readonly #core: PoolCore;
  /** Terminates the core if this object is collected first (it holds the core, never this object). */
  readonly #finalizer: Finalize<[PoolCore]>;

  /**
   * `new Pool(4)` or `new Pool({ processes: 4, initializer, initargs, maxtasksperchild, context })`.
   * Anything else (a string, an array, an unknown option) is a TypeError.
   */
  constructor(options?: number | PoolOptions | null) {
    const fn = `new ${new.target.name}()`;
    const opts = poolOptions<PoolOptions>(options, fn, POOL_OPTION_NAMES);
    const processes = countOption(opts.processes, fn, 'processes', 'how many workers') ?? cpuCount();
    if (!Number.isInteger(processes) || processes < 1) {
      throw new ValueError(`Number of processes must be at least 1 (an integer), got ${String(processes)}`);
    }
    const maxtasks = countOption(opts.maxtasksperchild, fn, 'maxtasksperchild', 'tasks per worker');
    if (maxtasks !== null && (!Number.isInteger(maxtasks) || maxtasks < 1)) {
      throw new ValueError(`maxtasksperchild must be a positive integer or null, got ${String(maxtasks)}`);
    }
    if (opts.initializer != null) checkFunction(opts.initializer, `${fn}: initializer`);
    this.#core = new PoolCore({
      name: `${new.target.name}-${++poolCounter}`,
      processes,
      initializer: opts.initializer ?? null,
      initargs: argsOf(opts.initargs, fn, 'initargs'),
      maxtasks,
      context: opts.context ?? null,
      launcher: (opts as { [kLauncher]?: WorkerLauncher })[kLauncher],
    });
    this.#finalizer = new Finalize(this, terminateCollected, { args: [this.#core] });
  }

  /** Number of worker processes. */
  get processes(): number {
    return this.#core.processes;
  }

  /** Pids of the current worker processes (for monitoring and tests). */
  get pids(): number[] {
    return this.#core.pids;
  }

  // ---- submitting ------------------------------------------------------------

  /** Calls `fn(...args)` in a worker and resolves with its result (rejects with its error). */
  async apply<A extends unknown[], R>(fn: (...args: A) => R, args?: A, options: ApplyOptions = NO_OPTIONS): Promise<Awaited<R>> {
    return this.applyAsync(fn, args, options).get();
  }

  /** Submits `fn(...args)` and returns at once an {@link AsyncResult}; `callback`/`errorCallback` get the outcome. */
  applyAsync<A extends unknown[], R>(
    fn: (...args: A) => R,
    args?: A,
    options: ApplyAsyncOptions<Awaited<R>> = NO_OPTIONS,
  ): AsyncResult<Awaited<R>> {
    checkFunction(fn, 'the task function');
    return this.#submitList(fn, [argsOf(args, 'Pool.apply()', 'args (2nd argument)')], ONE_CALL, options);
  }

  /** Python's `map`: `fn(item)` for each item, in order, spread over the workers in chunks. */
  async map<T, R>(fn: (item: T) => R, iterable: Iterable<T>, options: MapOptions = {}): Promise<Awaited<R>[]> {
    return this.mapAsync(fn, iterable, options).get();
  }

  /** The non-blocking `map`: returns an {@link AsyncResult} of the list. */
  mapAsync<T, R>(fn: (item: T) => R, iterable: Iterable<T>, options: MapAsyncOptions<Awaited<R>[]> = {}): AsyncResult<Awaited<R>[]> {
    return this.#submitMap(fn, iterable, 'Pool.map()', options);
  }

  /** Python's `starmap`: `fn(...args)` for each argument list. */
  async starmap<A extends unknown[], R>(fn: (...args: A) => R, iterable: Iterable<A>, options: MapOptions = {}): Promise<Awaited<R>[]> {
    return this.starmapAsync(fn, iterable, options).get();
  }

  /** The non-blocking `starmap`. */
  starmapAsync<A extends unknown[], R>(
    fn: (...args: A) => R,
    iterable: Iterable<A>,
    options: MapAsyncOptions<Awaited<R>[]> = {},
  ): AsyncResult<Awaited<R>[]> {
    return this.#submitMap(fn, iterable, 'Pool.starmap()', options);
  }

  /**
   * Python's `imap`: an async iterator of `fn(item)` in input order. The
   * input (sync or async iterable, possibly endless) is read only as workers
   * free up and results are consumed, until the pool is closed: then the rest
   * of it is read, so that `join()` can complete (an endless input keeps it
   * waiting until the iterator is returned). `next(timeout)` rejects with
   * TimeoutError when the next result is not ready in time.
   */
  imap<T, R>(fn: (item: T) => R, iterable: Iterable<T> | AsyncIterable<T>, options: IMapOptions = {}): IMapIterator<Awaited<R>> {
    return this.#submitIMap(fn, iterable, 'Pool.imap()', options);
  }

  /** Like {@link Pool.imap}, in the order results arrive. */
  imapUnordered<T, R>(
    fn: (item: T) => R,
    iterable: Iterable<T> | AsyncIterable<T>,
    options: IMapOptions = {},
  ): IMapIterator<Awaited<R>> {
    return this.#submitIMap(fn, iterable, 'Pool.imapUnordered()', options);
  }

  #submitMap<R>(fn: TaskFunction, iterable: Iterable<unknown>, name: 'Pool.map()' | 'Pool.starmap()', options: MapAsyncOptions<R>): AsyncResult<R> {
    this.#core.checkRunning();
    checkFunction(fn, 'the task function');
    const star = name === 'Pool.starmap()';
    const items = listOf(iterable, name);
    const calls = star ? argumentLists(items, name) : items;
    let chunksize = options.chunksize ?? defaultChunksize(items.length, this.#core.processes);
    if (items.length === 0) chunksize = 1;
    else checkChunksize(chunksize);
    return this.#submitList(fn, calls, { name, chunksize, star, single: false }, options);
  }

  #submitList<R>(
    fn: TaskFunction,
    calls: unknown[],
    how: { name: string; chunksize: number; star: boolean; single: boolean },
    options: ApplyAsyncOptions<R>,
  ): AsyncResult<R> {
    this.#core.checkRunning();
    const signal = checkSignal(how.name, options.signal);
    // The result holds this pool until it settles: a pool with work pending is not collected.
    const result = new AsyncResult<R>(options, this);
    if (signal?.aborted) {
      result[kSettle](false, signal.reason);
      return result;
    }
    const job = new ListJob<R>(result, fn, calls, how.chunksize, how.star, how.single, this.#core.onJobSettled);
    if (!result.ready()) {
      this.#core.submit(job);
      if (signal) {
        const onAbort = (): void => job.abort(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        void result.wait().then(() => signal.removeEventListener('abort', onAbort));
      }
    }
    return result;
  }

  #submitIMap<R>(
    fn: TaskFunction,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    name: 'Pool.imap()' | 'Pool.imapUnordered()',
    options: IMapOptions,
  ): IMapIterator<R> {
    this.#core.checkRunning();
    checkFunction(fn, 'the task function');
    const chunksize = options.chunksize ?? 1;
    checkChunksize(chunksize);
    const core = this.#core;
    const settings: IMapSettings = {
      chunksize,
      ordered: name === 'Pool.imap()',
      highWater: core.processes * 4,
      wake: () => core.scheduleDispatch(),
      onSettled: core.onJobSettled,
    };
    // The job holds this pool until it settles, as a result does.
    const iterator = new IMapIterator<R>(fn, inputOf(iterable, name), settings, this);
    core.submit(iterator.job);
    return iterator;
  }

  // ---- ending ----------------------------------------------------------------

  /**
   * Prevents more submissions; the workers exit once the tasks already
   * submitted are done. An `imap` not read to its end then reads the rest of
   * its input, and its results wait for the consumer, so that `join()` can
   * complete before they are read (as in Python); with an endless input,
   * `join()` waits until the iterator is returned.
   */
  close(): void {
    this.#core.close();
  }

  /**
   * Stops the workers at once (SIGTERM); results still pending reject with a
   * ProcessError. Resolves once the worker processes have exited.
   */
  async terminate(): Promise<void> {
    this.#finalizer.cancel();
    await this.#core.terminate();
  }

  /**
   * Waits for the worker processes to exit; call close() or terminate() first
   * (otherwise ValueError). As Python's, it takes no timeout. Aborting
   * `signal` rejects with `signal.reason` and stops only the wait: the
   * workers finish their tasks, and a later `join()` waits for them again.
   */
  async join(options?: AbortOptions): Promise<void> {
    const signal = joinSignal(options);
    if (this.#core.state === 'run') throw new ValueError('Pool is still running: call close() or terminate() before join()');
    if (signal?.aborted) throw signal.reason;
    await this.#core.join(signal);
    this.#finalizer.cancel(); // nothing left to terminate
  }

  /** `await using pool = new Pool()`: terminates the pool, as Python's `with` does. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
  }

  /** A short description: `<Pool state=RUN pool_size=4>`. */
  toString(): string {
    return `<Pool state=${this.#core.state.toUpperCase()} pool_size=${this.#core.processes}>`;
  }
}
