/**
 * `AsyncResult`: the result of a task submitted without waiting for it
 * (`applyAsync`, `mapAsync`, `starmapAsync`), as Python's
 * `multiprocessing.pool.AsyncResult`.
 */
import { setLongTimeout, TimeoutError, ValueError, waitArguments, type AbortOptions, type Timeout, type TimeoutOptions } from '@mpjs/util';

/** Settles an AsyncResult; internal to the pool. */
export const kSettle = Symbol('mpjs.pool.settle');

/** Callbacks of an asynchronous submission. */
export interface ResultCallbacks<T> {
  /** Called with the result when the task succeeds. */
  callback?: ((value: T) => void) | null;
  /** Called with the error when the task fails. */
  errorCallback?: ((error: unknown) => void) | null;
}

/** The result of a task that runs in the pool; settled once, by the pool. */
export class AsyncResult<T> {
  #state: 'pending' | 'ok' | 'failed' = 'pending';
  #value: unknown;
  /** Made only when someone waits before the outcome is known: most results are read once settled. */
  #done: Promise<void> | undefined;
  #resolveDone: (() => void) | undefined;
  /** Waits with a timeout or a signal, called once settled (each removes itself when it gives up). */
  #waiting: Set<() => void> | undefined;
  /** What `get()` returns while pending: one promise of the value, however many callers. */
  #pendingValue: Promise<T> | undefined;
  #resolveValue: ((value: T) => void) | undefined;
  #rejectValue: ((error: unknown) => void) | undefined;
  readonly #callback: ((value: T) => void) | null;
  readonly #errorCallback: ((error: unknown) => void) | null;
  /** The pool, held while the task is pending so that it is not collected (and terminated) under it. */
  #owner: object | undefined;

  /** @internal Made by the pool. */
  constructor(callbacks: ResultCallbacks<T> = {}, owner?: object) {
    this.#callback = callbacks.callback ?? null;
    this.#errorCallback = callbacks.errorCallback ?? null;
    this.#owner = owner;
  }

  /** Whether the task has finished (successfully or not). */
  ready(): boolean {
    return this.#state !== 'pending';
  }

  /** Whether the task finished without error. Throws ValueError while it is not ready. */
  successful(): boolean {
    if (this.#state === 'pending') throw new ValueError(`${this.toString()} not ready: call successful() once ready() is true or wait() returned`);
    return this.#state === 'ok';
  }

  /**
   * Waits until the result is ready, or at most `timeout` ms; resolves either
   * way. The timeout may also be given in the options:
   * `wait({ timeout, signal })`. Aborting `signal` rejects the wait with
   * `signal.reason`; it stops only the wait, not the task.
   */
  async wait(timeout?: Timeout | TimeoutOptions, options?: AbortOptions): Promise<void> {
    const { ms, signal } = waitArguments('AsyncResult.wait()', timeout, options);
    if (signal?.aborted) throw signal.reason;
    if (this.#state !== 'pending') return;
    if (ms === Infinity && signal === undefined) return this.#settled();
    await this.#waitSettled(ms, signal);
  }

  /**
   * The result once it arrives. Rejects with the task's own error (its class
   * and the worker's stack), or with TimeoutError if it is not ready within
   * `timeout` ms (also `get({ timeout, signal })`). Aborting `signal` rejects
   * with `signal.reason` and stops only this wait: the task goes on, and a
   * later `get()` has its result.
   */
  get(timeout?: Timeout | TimeoutOptions, options?: AbortOptions): Promise<T> {
    if (options === undefined && (timeout === undefined || timeout === null)) {
      if (this.#state !== 'pending') return this.#outcome();
      return (this.#pendingValue ??= new Promise<T>((resolve, reject) => {
        this.#resolveValue = resolve;
        this.#rejectValue = reject;
      }));
    }
    let ms: number;
    let signal: AbortSignal | undefined;
    try {
      ({ ms, signal } = waitArguments('AsyncResult.get()', timeout, options));
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#state !== 'pending') return this.#outcome();
    if (ms === Infinity && signal === undefined) return this.get();
    return this.#waitSettled(ms, signal).then((settled) => {
      if (!settled) throw new TimeoutError(`the result was not ready within ${ms} ms`);
      return this.#outcome();
    });
  }

  /** True once settled, false after `ms`; rejects with the signal's reason if it aborts first. */
  #waitSettled(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const timer = setLongTimeout(() => finish(false), ms);
      const onAbort = (): void => {
        finish(null);
        reject(signal!.reason);
      };
      const onSettled = (): void => finish(true);
      const waiting = (this.#waiting ??= new Set());
      // Each wait leaves no listener, timer or callback behind, however it ends (a signal may serve many
      // waits, and a result polled with short timeouts must not collect one callback per poll).
      const finish = (settled: boolean | null): void => {
        timer.clear();
        signal?.removeEventListener('abort', onAbort);
        waiting.delete(onSettled);
        if (settled !== null) resolve(settled);
      };
      waiting.add(onSettled);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #outcome(): Promise<T> {
    return this.#state === 'ok' ? Promise.resolve(this.#value as T) : Promise.reject(this.#value);
  }

  #settled(): Promise<void> {
    return (this.#done ??= new Promise<void>((resolve) => (this.#resolveDone = resolve)));
  }

  /** @internal Sets the outcome once (later calls are ignored) and runs the callback. */
  [kSettle](ok: boolean, value: unknown): boolean {
    if (this.#state !== 'pending') return false;
    this.#state = ok ? 'ok' : 'failed';
    this.#value = value;
    this.#owner = undefined;
    this.#resolveDone?.();
    if (this.#waiting) for (const onSettled of [...this.#waiting]) onSettled();
    if (ok) this.#resolveValue?.(value as T);
    else this.#rejectValue?.(value);
    const callback = ok ? this.#callback : this.#errorCallback;
    if (callback) {
      try {
        (callback as (v: unknown) => void)(value);
      } catch (error) {
        // Like an error in any Node callback: report it as uncaught rather than hide it.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    return true;
  }

  /** A short description for messages. */
  toString(): string {
    return `<AsyncResult ${this.#state}>`;
  }
}
