/**
 * Proxies of a process pool held by a manager's server (`manager.Pool()`,
 * Python's `PoolProxy`), and of the results its methods return: an
 * `AsyncResultProxy` for `applyAsync`/`mapAsync`/`starmapAsync` and an
 * `IteratorProxy` for `imap`/`imapUnordered`. Task functions travel by
 * reference to the server and on to the pool's workers, so they must be
 * exported from a module.
 */
import { checkSignal, type Timeout } from '@mpjs/util';
import { BaseProxy, type ProxyClass } from './proxy.js';
import { waitOptions, type ProxyWaitOptions } from './wait-options.js';

/** Options of `map`, `starmap`, `imap` and their async forms through a {@link PoolProxy}. */
export interface PoolProxyMapOptions {
  /**
   * `map` and `starmap` only: aborting gives the call up, and the server's pool
   * runs none of its chunks not yet handed out (as the local `Pool.map()`).
   */
  signal?: AbortSignal;
  /** Items per task; as `Pool` chooses when omitted. */
  chunksize?: number | null;
}

/**
 * Options of `apply` through a {@link PoolProxy}: `signal`, as the local
 * `Pool.apply()` takes it (a task not yet handed to a worker is cancelled; one
 * that runs goes on, its result standing), which the server follows. The
 * async forms take none: `callback`, `errorCallback` and `signal` are refused
 * with a TypeError there.
 */
export interface PoolProxyApplyOptions {
  /** Aborting gives the call up: the task is cancelled in the server's pool if no worker has it yet. */
  signal?: AbortSignal;
}

/** Arguments of a task function, or of a call of it. */
type Args = unknown[];

/**
 * What cannot travel to the server: callbacks would run there, not here, and
 * an `AbortSignal` is not serializable. Checked before anything is sent.
 */
function checkOptions(method: string, options: object | null | undefined, takesSignal = false): AbortSignal | undefined {
  if (options === null || options === undefined) return undefined;
  if (typeof options !== 'object') throw new TypeError(`${method}(): options must be an object, got ${typeof options}`);
  const opts = options as Record<string, unknown>;
  for (const name of ['callback', 'errorCallback'] as const) {
    if (opts[name] !== undefined && opts[name] !== null) {
      throw new TypeError(
        `${method}(): '${name}' cannot travel to the manager's server (it would run there, not here); ` +
          `await the AsyncResultProxy's get() instead: const r = await pool.${method}(...); await r.get()`,
      );
    }
  }
  if (takesSignal) return checkSignal(`${method}()`, opts.signal);
  if (opts.signal !== undefined && opts.signal !== null) {
    throw new TypeError(
      `${method}(): the async forms take no AbortSignal through a manager (the call returns at once); ` +
        `give the signal to the result's get() or wait(), use ${method.replace('Async', '')}() with a signal, or call terminate() on the pool proxy`,
    );
  }
  return undefined;
}

/** `chunksize`, when given, as it travels (in the call's keyword arguments). */
function chunksizeOf(options: PoolProxyMapOptions | null | undefined): { chunksize?: number } {
  return options?.chunksize === undefined || options.chunksize === null ? {} : { chunksize: options.chunksize };
}

/** The options as sent: `chunksize` only, so the server never sees anything else. */
function mapOptions(method: string, options: PoolProxyMapOptions | null | undefined): [PoolProxyMapOptions] | [] {
  checkOptions(method, options);
  return options?.chunksize === undefined || options.chunksize === null ? [] : [{ chunksize: options.chunksize }];
}

/** An iterable as sent: a list (the server cannot pull from an iterator in this process). */
function items<T>(method: string, iterable: Iterable<T>): T[] {
  if (iterable === null || typeof iterable !== 'object' || typeof (iterable as Partial<Iterable<T>>)[Symbol.iterator] !== 'function') {
    const asyncHint =
      iterable !== null && typeof iterable === 'object' && Symbol.asyncIterator in iterable
        ? ' (an async iterable cannot travel to the manager\'s server; collect it into an array first)'
        : '';
    throw new TypeError(`${method}() needs an iterable of items${asyncHint}`);
  }
  return [...iterable];
}

/** A wait of a result or an iterator: the timeout travels, the server passes the method a signal it aborts when this caller gives up. */
function waitCall<R>(proxy: BaseProxy, method: string, timeout: Timeout | ProxyWaitOptions | undefined, options: ProxyWaitOptions | undefined): Promise<R> {
  try {
    const [ms, signal] = waitOptions(`${proxy.constructor.name.replace('Proxy', '')}.${method}()`, timeout, options);
    return proxy._callmethod(method, [ms ?? null], {}, { waits: true, signal }) as Promise<R>;
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Proxy of a task's result held by the server (Python's `AsyncResult` through
 * a manager); every method returns a promise.
 */
export class AsyncResultProxy<T = unknown> extends BaseProxy {
  static override readonly _exposed_: readonly string[] = ['get', 'wait', 'ready', 'successful'];

  /**
   * The result once it arrives: rejects with the task's own error (its class,
   * the worker's stack), or with TimeoutError when not ready within `timeout`
   * ms. `get(timeout?, { signal })` or `get({ timeout, signal })`: aborting
   * rejects with the signal's reason and stops only this wait; the task goes
   * on, and a later `get()` has its result.
   */
  get(timeout?: Timeout | ProxyWaitOptions, options?: ProxyWaitOptions): Promise<T> {
    return waitCall(this, 'get', timeout, options);
  }

  /** Waits until the result is ready, or at most `timeout` ms; resolves either way. Takes `{ signal }` as `get`. */
  wait(timeout?: Timeout | ProxyWaitOptions, options?: ProxyWaitOptions): Promise<void> {
    return waitCall(this, 'wait', timeout, options);
  }

  /** Whether the task has finished. */
  ready(): Promise<boolean> {
    return this._callmethod('ready') as Promise<boolean>;
  }

  /** Whether the task finished without error; rejects with ValueError while it is not ready. */
  successful(): Promise<boolean> {
    return this._callmethod('successful') as Promise<boolean>;
  }
}

/**
 * Proxy of an `imap`/`imapUnordered` iterator held by the server (Python's
 * `IteratorProxy`): use it with `for await`, or call `next(timeout)`, which
 * rejects with TimeoutError when no result is ready within `timeout` ms. A
 * task's error is thrown at its position. Leaving a `for await` loop early
 * calls `return()`, which stops the iterator in the server.
 */
export class IteratorProxy<T = unknown> extends BaseProxy implements AsyncIterableIterator<T> {
  static override readonly _exposed_: readonly string[] = ['next', 'return'];

  /**
   * The next result: `{ value }`, `{ done: true }` at the end, or the task's
   * error. `next(timeout?, { signal })` or `next({ timeout, signal })`:
   * aborting rejects with the signal's reason and stops only this wait.
   */
  next(timeout?: Timeout | ProxyWaitOptions, options?: ProxyWaitOptions): Promise<IteratorResult<T>> {
    return waitCall(this, 'next', timeout, options);
  }

  /** Stops the iterator: the server reads no more of its input and drops the results still to come. */
  async return(): Promise<IteratorResult<T>> {
    await this._callmethod('return');
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

const POOL_METHODS = [
  'apply', 'applyAsync', 'close', 'imap', 'imapUnordered', 'join', 'map', 'mapAsync', 'starmap', 'starmapAsync', 'terminate',
] as const;

/**
 * Proxy of a process pool held by the manager's server (`await manager.Pool(4)`,
 * Python's `PoolProxy`). It has `Pool`'s methods, all returning promises; the
 * async forms resolve with an {@link AsyncResultProxy}, `imap` and
 * `imapUnordered` with an {@link IteratorProxy}. It can be passed to other
 * processes like any proxy. `callback` and `errorCallback` cannot travel to
 * the server and are refused; `apply`, `map` and `starmap` take a `signal`. `await using pool = await manager.Pool()`
 * terminates the pool at scope exit.
 */
export class PoolProxy extends BaseProxy implements AsyncDisposable {
  static override readonly _exposed_: readonly string[] = POOL_METHODS;
  static override readonly _methodToTypeid_: Readonly<Record<string, string>> = {
    applyAsync: 'AsyncResult',
    mapAsync: 'AsyncResult',
    starmapAsync: 'AsyncResult',
    imap: 'Iterator',
    imapUnordered: 'Iterator',
  };
  static override readonly _proxytypes_: Readonly<Record<string, ProxyClass>> = {
    AsyncResult: AsyncResultProxy,
    Iterator: IteratorProxy,
  };

  /** Calls `fn(...args)` in a worker and resolves with its result (rejects with its error, as its class). */
  async apply<A extends Args, R>(fn: (...args: A) => R, args?: A, options?: PoolProxyApplyOptions | null): Promise<Awaited<R>> {
    const signal = checkOptions('apply', options, true);
    // A call that waits: the server gives the pool a signal, aborted when this caller gives up or goes.
    return (await this._callmethod('apply', [fn, args ?? []], {}, { waits: true, signal })) as Awaited<R>;
  }

  /** Submits `fn(...args)` and resolves, without waiting for it, with a proxy of its result. */
  async applyAsync<A extends Args, R>(
    fn: (...args: A) => R,
    args?: A,
    options?: PoolProxyApplyOptions | null,
  ): Promise<AsyncResultProxy<Awaited<R>>> {
    checkOptions('applyAsync', options);
    return (await this._callmethod('applyAsync', [fn, args ?? []])) as AsyncResultProxy<Awaited<R>>;
  }

  /** Python's `map`: `fn(item)` for each item, in order, spread over the workers. */
  async map<T, R>(fn: (item: T) => R, iterable: Iterable<T>, options?: PoolProxyMapOptions | null): Promise<Awaited<R>[]> {
    const signal = checkOptions('map', options, true);
    return (await this._callmethod('map', [fn, items('map', iterable)], chunksizeOf(options), { waits: true, signal })) as Awaited<R>[];
  }

  /** The non-blocking `map`: resolves with a proxy of the list of results. */
  async mapAsync<T, R>(
    fn: (item: T) => R,
    iterable: Iterable<T>,
    options?: PoolProxyMapOptions | null,
  ): Promise<AsyncResultProxy<Awaited<R>[]>> {
    const args = [fn, items('mapAsync', iterable), ...mapOptions('mapAsync', options)];
    return (await this._callmethod('mapAsync', args)) as AsyncResultProxy<Awaited<R>[]>;
  }

  /** Python's `starmap`: `fn(...args)` for each argument list. */
  async starmap<A extends Args, R>(fn: (...args: A) => R, iterable: Iterable<A>, options?: PoolProxyMapOptions | null): Promise<Awaited<R>[]> {
    const signal = checkOptions('starmap', options, true);
    const args = [fn, items('starmap', iterable).map((call) => items('starmap', call))];
    return (await this._callmethod('starmap', args, chunksizeOf(options), { waits: true, signal })) as Awaited<R>[];
  }

  /** The non-blocking `starmap`. */
  async starmapAsync<A extends Args, R>(
    fn: (...args: A) => R,
    iterable: Iterable<A>,
    options?: PoolProxyMapOptions | null,
  ): Promise<AsyncResultProxy<Awaited<R>[]>> {
    const args = [fn, items('starmapAsync', iterable).map((call) => items('starmapAsync', call)), ...mapOptions('starmapAsync', options)];
    return (await this._callmethod('starmapAsync', args)) as AsyncResultProxy<Awaited<R>[]>;
  }

  /**
   * Python's `imap`: resolves with an iterator of `fn(item)` in input order
   * (`for await (const x of await pool.imap(f, xs))`). The items are sent to
   * the server as a list.
   */
  async imap<T, R>(fn: (item: T) => R, iterable: Iterable<T>, options?: PoolProxyMapOptions | null): Promise<IteratorProxy<Awaited<R>>> {
    return (await this._callmethod('imap', [fn, items('imap', iterable), ...mapOptions('imap', options)])) as IteratorProxy<Awaited<R>>;
  }

  /** Like {@link PoolProxy.imap}, in the order results arrive. */
  async imapUnordered<T, R>(
    fn: (item: T) => R,
    iterable: Iterable<T>,
    options?: PoolProxyMapOptions | null,
  ): Promise<IteratorProxy<Awaited<R>>> {
    const args = [fn, items('imapUnordered', iterable), ...mapOptions('imapUnordered', options)];
    return (await this._callmethod('imapUnordered', args)) as IteratorProxy<Awaited<R>>;
  }

  /** Prevents more submissions; the workers exit once the tasks already submitted are done. */
  async close(): Promise<void> {
    await this._callmethod('close');
  }

  /** Stops the workers at once; results still pending reject with ProcessError. */
  async terminate(): Promise<void> {
    await this._callmethod('terminate');
  }

  /** Waits for the workers to exit; call close() or terminate() first (otherwise ValueError). */
  async join(): Promise<void> {
    await this._callmethod('join');
  }

  /** `await using pool = await manager.Pool()`: terminates the pool, as Python's `with` does. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
  }
}
