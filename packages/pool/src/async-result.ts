/**
 * `AsyncResult`: the result of a task submitted without waiting for it
 * (`applyAsync`, `mapAsync`, `starmapAsync`), as Python's
 * `multiprocessing.pool.AsyncResult`.
 */
import { normalizeTimeout, TimeoutError, ValueError, type Timeout } from '@mpjs/util';

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
  /** What `get()` returns while pending: one promise of the value, however many callers. */
  #pendingValue: Promise<T> | undefined;
  #resolveValue: ((value: T) => void) | undefined;
  #rejectValue: ((error: unknown) => void) | undefined;
  readonly #callback: ((value: T) => void) | null;
  readonly #errorCallback: ((error: unknown) => void) | null;

  /** @internal Made by the pool. */
  constructor(callbacks: ResultCallbacks<T> = {}) {
    this.#callback = callbacks.callback ?? null;
    this.#errorCallback = callbacks.errorCallback ?? null;
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

  /** Waits until the result is ready, or at most `timeout` ms; resolves either way. */
  async wait(timeout?: Timeout): Promise<void> {
    if (this.#state !== 'pending') return;
    const ms = normalizeTimeout(timeout);
    if (ms === Infinity) return this.#settled();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.#settled(), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The result once it arrives. Rejects with the task's own error (its class
   * and the worker's stack), or with TimeoutError if it is not ready within
   * `timeout` ms.
   */
  get(timeout?: Timeout): Promise<T> {
    if (this.#state === 'pending' && (timeout === undefined || timeout === null)) {
      return (this.#pendingValue ??= new Promise<T>((resolve, reject) => {
        this.#resolveValue = resolve;
        this.#rejectValue = reject;
      }));
    }
    if (this.#state !== 'pending') return this.#outcome();
    return this.wait(timeout).then(() => {
      if (this.#state === 'pending') throw new TimeoutError(`the result was not ready within ${String(timeout)} ms`);
      return this.#outcome();
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
    this.#resolveDone?.();
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
