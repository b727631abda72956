/**
 * The server side of `manager.Pool()`: a `Pool` of `@mpjs/pool` held by the
 * manager's server, and the results its methods return. `@mpjs/pool` is
 * imported when the first pool is made, so a manager that never makes one
 * does not load it.
 */
import type { AsyncResult, IMapIterator, Pool, PoolOptions } from '@mpjs/pool';
import { getLogger, type Timeout } from '@mpjs/util';
import { releaseSymbol, serverStopSymbol } from './token.js';

type TaskFunction = (...args: never[]) => unknown;

/** Not plain data: `_getvalue()` of its proxy is refused (Python's fails to pickle it). */
function notCopyable(name: string): never {
  throw new TypeError(`a ${name} held by a manager cannot be copied out of it (it is not plain data); use the methods of its proxy`);
}

/** The `{ signal }` the server adds to a waiting call, as the pool takes it. */
function signalOf(options: { signal?: AbortSignal } | undefined): { signal: AbortSignal } | undefined {
  return options?.signal ? { signal: options.signal } : undefined;
}

/** Only `chunksize` is passed on: callbacks would run in the server, and the proxy never sends them. */
function passedOptions(method: string, options: unknown): { chunksize?: number | null; signal?: AbortSignal } {
  if (options === null || options === undefined) return {};
  if (typeof options !== 'object') throw new TypeError(`${method}(): options must be an object, got ${typeof options}`);
  const opts = options as Record<string, unknown>;
  for (const name of ['callback', 'errorCallback']) {
    if (opts[name] !== undefined && opts[name] !== null) {
      throw new TypeError(`${method}(): '${name}' cannot be used through a manager; await the AsyncResultProxy's get() instead`);
    }
  }
  const passed: { chunksize?: number | null; signal?: AbortSignal } = {};
  if (opts.chunksize !== undefined) passed.chunksize = opts.chunksize as number | null;
  // Only the server's own signal of a call that waits (aborted when its caller gives up or goes).
  if (opts.signal instanceof AbortSignal) passed.signal = opts.signal;
  return passed;
}

/**
 * Keeps the pool's workers while anything the server holds can still use or
 * read them: the pool itself, and the results and iterators it returned (as
 * a Python result keeps its pool alive). When the last is freed, the pool is
 * terminated, as Python's is when it is garbage-collected.
 * @internal
 */
export class PoolLifetime {
  #holders = 1;
  constructor(readonly pool: Pool) {}

  retain(): void {
    this.#holders++;
  }

  release(): void {
    if (--this.#holders === 0) this.end();
  }

  /** Terminates the pool (the server stops, or nothing holds it any more). */
  end(): Promise<void> {
    return this.pool.terminate().catch((error: unknown) => {
      getLogger().debug(`manager: terminating a pool failed: ${String(error)}`);
    });
  }
}

/** A task's result held by the server; its proxy is `AsyncResultProxy`. */
export class AsyncResultReferent<T = unknown> {
  readonly #result: AsyncResult<T>;
  #lifetime: PoolLifetime | null;

  /** @internal Made by {@link PoolReferent}. */
  constructor(result: AsyncResult<T>, lifetime: PoolLifetime) {
    this.#result = result;
    this.#lifetime = lifetime;
    lifetime.retain();
  }

  /** `get(timeout, { signal })`: the server passes the signal of a call that waits. */
  get(timeout?: Timeout, options?: { signal?: AbortSignal }): Promise<T> {
    return this.#result.get(timeout, signalOf(options));
  }

  wait(timeout?: Timeout, options?: { signal?: AbortSignal }): Promise<void> {
    return this.#result.wait(timeout, signalOf(options));
  }

  ready(): boolean {
    return this.#result.ready();
  }

  successful(): boolean {
    return this.#result.successful();
  }

  toString(): string {
    return this.#result.toString();
  }

  _getvalue(): never {
    return notCopyable('AsyncResult');
  }

  /** Freed by the server: the pool may go once nothing else holds it. */
  [releaseSymbol](): void {
    this.#lifetime?.release();
    this.#lifetime = null;
  }

  [serverStopSymbol](): Promise<void> | undefined {
    return this.#lifetime?.end();
  }
}

/** An `imap`/`imapUnordered` iterator held by the server; its proxy is `IteratorProxy`. */
export class IteratorReferent<T = unknown> {
  readonly #iterator: IMapIterator<T>;
  #lifetime: PoolLifetime | null;

  /** @internal Made by {@link PoolReferent}. */
  constructor(iterator: IMapIterator<T>, lifetime: PoolLifetime) {
    this.#iterator = iterator;
    this.#lifetime = lifetime;
    lifetime.retain();
  }

  next(timeout?: Timeout, options?: { signal?: AbortSignal }): Promise<IteratorResult<T>> {
    return this.#iterator.next(timeout, signalOf(options));
  }

  return(): Promise<IteratorResult<T>> {
    return this.#iterator.return();
  }

  toString(): string {
    return '<IMapIterator>';
  }

  _getvalue(): never {
    return notCopyable('IMapIterator');
  }

  /** Freed by the server: nobody reads the results to come, so stop reading the input. */
  [releaseSymbol](): void {
    void this.#iterator.return();
    this.#lifetime?.release();
    this.#lifetime = null;
  }

  [serverStopSymbol](): Promise<void> | undefined {
    return this.#lifetime?.end();
  }
}

/**
 * A process pool held by the manager's server; its proxy is `PoolProxy`.
 * Made by {@link createPoolReferent}.
 */
export class PoolReferent {
  readonly #pool: Pool;
  readonly #lifetime: PoolLifetime;
  #released = false;

  /** @internal Made by {@link createPoolReferent}. */
  constructor(pool: Pool) {
    this.#pool = pool;
    this.#lifetime = new PoolLifetime(pool);
  }

  apply(fn: TaskFunction, args: unknown[] | null = null, options: unknown = null): Promise<unknown> {
    return this.#pool.apply(fn as (...a: unknown[]) => unknown, args ?? [], passedOptions('apply', options));
  }

  applyAsync(fn: TaskFunction, args: unknown[] | null = null, options: unknown = null): AsyncResultReferent {
    passedOptions('applyAsync', options);
    return new AsyncResultReferent(this.#pool.applyAsync(fn as (...a: unknown[]) => unknown, args ?? []), this.#lifetime);
  }

  map(fn: TaskFunction, iterable: Iterable<unknown>, options: unknown = null): Promise<unknown[]> {
    return this.#pool.map(fn as (item: unknown) => unknown, iterable, passedOptions('map', options));
  }

  mapAsync(fn: TaskFunction, iterable: Iterable<unknown>, options: unknown = null): AsyncResultReferent {
    const result = this.#pool.mapAsync(fn as (item: unknown) => unknown, iterable, passedOptions('mapAsync', options));
    return new AsyncResultReferent(result, this.#lifetime);
  }

  starmap(fn: TaskFunction, iterable: Iterable<unknown[]>, options: unknown = null): Promise<unknown[]> {
    return this.#pool.starmap(fn as (...a: unknown[]) => unknown, iterable, passedOptions('starmap', options));
  }

  starmapAsync(fn: TaskFunction, iterable: Iterable<unknown[]>, options: unknown = null): AsyncResultReferent {
    const result = this.#pool.starmapAsync(fn as (...a: unknown[]) => unknown, iterable, passedOptions('starmapAsync', options));
    return new AsyncResultReferent(result, this.#lifetime);
  }

  imap(fn: TaskFunction, iterable: Iterable<unknown>, options: unknown = null): IteratorReferent {
    return new IteratorReferent(this.#pool.imap(fn as (item: unknown) => unknown, iterable, passedOptions('imap', options)), this.#lifetime);
  }

  imapUnordered(fn: TaskFunction, iterable: Iterable<unknown>, options: unknown = null): IteratorReferent {
    const iterator = this.#pool.imapUnordered(fn as (item: unknown) => unknown, iterable, passedOptions('imapUnordered', options));
    return new IteratorReferent(iterator, this.#lifetime);
  }

  close(): void {
    this.#pool.close();
  }

  terminate(): Promise<void> {
    return this.#pool.terminate();
  }

  join(): Promise<void> {
    return this.#pool.join();
  }

  toString(): string {
    return this.#pool.toString();
  }

  _getvalue(): never {
    return notCopyable('Pool');
  }

  /**
   * Freed by the server (no proxy refers to it): no more tasks can come, so
   * the idle workers may exit; the pool ends once its results are freed too.
   */
  [releaseSymbol](): void {
    if (this.#released) return;
    this.#released = true;
    this.#pool.close();
    this.#lifetime.release();
  }

  [serverStopSymbol](): Promise<void> {
    return this.#lifetime.end();
  }
}

/**
 * Makes a `Pool` in the manager's server (the callable `SyncManager`
 * registers as `'Pool'`): `new Pool(options)` of `@mpjs/pool`, imported on
 * first use.
 */
export async function createPoolReferent(options?: number | PoolOptions | null): Promise<PoolReferent> {
  const { Pool } = await import('@mpjs/pool');
  return new PoolReferent(new Pool(options));
}
