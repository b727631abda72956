/**
 * Timeouts in milliseconds, as every mpjs wait takes them: `undefined` or
 * `null` waits forever, a negative number means "do not wait" (as Python
 * treats negative timeouts), anything else must be a finite number.
 */
import { TimeoutError } from './errors.js';

/** A timeout as users pass it: milliseconds, or null/undefined for "forever". */
export type Timeout = number | null | undefined;

/**
 * Validates a timeout and returns milliseconds (0 or more), or `Infinity` for
 * none. `what` names the argument in the error message.
 */
export function normalizeTimeout(timeout: Timeout, what = 'timeout'): number {
  if (timeout === undefined || timeout === null) return Infinity;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
    throw new TypeError(`${what} must be a number of milliseconds or null, got ${typeof timeout === 'string' ? JSON.stringify(timeout) : String(timeout)}`);
  }
  return timeout < 0 ? 0 : timeout;
}

/** A point in time after which a wait gives up. */
export class Deadline {
  readonly #end: number;

  constructor(timeout: Timeout, what?: string) {
    const ms = normalizeTimeout(timeout, what);
    this.#end = ms === Infinity ? Infinity : performance.now() + ms;
  }

  /** A deadline that never expires. */
  static never(): Deadline {
    return new Deadline(undefined);
  }

  /** Whether there is an end at all. */
  get finite(): boolean {
    return this.#end !== Infinity;
  }

  /** Milliseconds left, never negative; `Infinity` without an end. */
  remaining(): number {
    return this.#end === Infinity ? Infinity : Math.max(0, this.#end - performance.now());
  }

  /** Whether the time is up. */
  expired(): boolean {
    return this.remaining() === 0;
  }
}

/**
 * The longest delay one Node timer holds: 2^31 - 1 ms, about 24.8 days. Node
 * runs a timer given more after 1 ms (with a TimeoutOverflowWarning).
 */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** A timer made by {@link setLongTimeout}. */
export interface LongTimer {
  /** Stops the timer; the callback will not run. */
  clear(): void;
  /** Whether the timer keeps the event loop alive (it does by default), as `Timeout.ref()`/`unref()`. */
  ref(on: boolean): void;
}

/**
 * `setTimeout` for any number of milliseconds: a delay longer than a Node
 * timer holds ({@link MAX_TIMER_DELAY}) is waited out as a chain of timers,
 * so a wait of 30 days lasts 30 days (as Python's does) instead of ending
 * after 1 ms. `Infinity` never fires. Every mpjs wait with a timeout uses it.
 */
export function setLongTimeout(callback: () => void, ms: number): LongTimer {
  let left = ms > 0 ? ms : 0;
  let refed = true;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const step = Math.min(left, MAX_TIMER_DELAY);
    left -= step;
    timer = setTimeout(fire, step);
    if (!refed) timer.unref();
  };
  const fire = (): void => {
    timer = undefined;
    if (left > 0) arm();
    else callback();
  };
  if (left !== Infinity) arm();
  return {
    clear(): void {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      left = 0;
    },
    ref(on: boolean): void {
      refed = on;
      if (on) timer?.ref();
      else timer?.unref();
    },
  };
}

/** The trailing options object of an mpjs wait (API rule 4: every wait accepts `{ signal }`). */
export interface AbortOptions {
  /** Aborting rejects the wait with `signal.reason` (an `AbortError` DOMException unless `abort(reason)` gave one). */
  signal?: AbortSignal;
}

/** The options of a wait whose timeout may also be given inside them: `join({ timeout, signal })`. */
export interface TimeoutOptions extends AbortOptions {
  /** Milliseconds, when not given as the first argument. */
  timeout?: Timeout;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value === 'object' || typeof value === 'function' ? typeof value : String(value);
}

/** Checks an optional `signal` option; `fn` names the call in the error. */
export function checkSignal(fn: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal === null) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw new TypeError(`${fn}: "signal" must be an AbortSignal (from an AbortController, or AbortSignal.timeout()), got ${describeValue(signal)}`);
  }
  return signal;
}

/**
 * Checks the `(timeout?, options?)` arguments of a wait: the timeout may come
 * first or inside the options (`join(500)`, `join(500, { signal })`,
 * `join({ timeout: 500, signal })`), as the waits of `@mpjs/synchronize` take
 * them. Returns the timeout in milliseconds as {@link normalizeTimeout} gives
 * it (`fallback` when none was given) and the signal.
 */
export function waitArguments(
  fn: string,
  timeout?: Timeout | TimeoutOptions,
  options?: AbortOptions,
  fallback?: Timeout,
): { ms: number; signal: AbortSignal | undefined } {
  let given: unknown;
  let opts: unknown;
  if (timeout !== null && typeof timeout === 'object') {
    opts = timeout;
    given = (timeout as TimeoutOptions).timeout;
    if (options !== undefined) throw new TypeError(`${fn}: give the options once, either first ({ timeout, signal }) or after the timeout`);
  } else {
    opts = options;
    given = timeout;
  }
  if (opts !== undefined && opts !== null && typeof opts !== 'object') {
    throw new TypeError(`${fn}: options must be an object such as { signal }, got ${describeValue(opts)}`);
  }
  const signal = checkSignal(fn, (opts as AbortOptions | null | undefined)?.signal);
  // Only a missing timeout takes the fallback: null still means "forever".
  return { ms: normalizeTimeout((given === undefined ? fallback : given) as Timeout, `${fn}: "timeout"`), signal };
}

/** A waiter whose promise is settled through these two functions. */
export interface Settleable<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/**
 * Lets `signal` withdraw `waiter` from `waiters` while it waits: on abort it
 * leaves the list, `onLeave()` runs (to stop watching what nobody waits for
 * any more), and it rejects with the signal's reason. A waiter already
 * served or failed is left alone, and its listener is removed as it settles.
 */
export function withdrawOnAbort<T>(waiters: Settleable<T>[], waiter: Settleable<T>, signal: AbortSignal, onLeave?: () => void): void {
  const { resolve, reject } = waiter;
  const onAbort = (): void => {
    const at = waiters.indexOf(waiter);
    if (at < 0) return;
    waiters.splice(at, 1);
    onLeave?.();
    reject(signal.reason);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  waiter.resolve = (value) => {
    signal.removeEventListener('abort', onAbort);
    resolve(value);
  };
  waiter.reject = (error) => {
    signal.removeEventListener('abort', onAbort);
    reject(error);
  };
}

/** Throws the signal's reason if it is aborted (Node's convention). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/** Resolves after `ms` milliseconds, or rejects with the signal's reason when it aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timer.clear();
      reject(signal!.reason);
    };
    const timer = setLongTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Milliseconds; `null`/`undefined` waits forever. */
  timeout?: Timeout;
  /** Rejects with the signal's reason when aborted. */
  signal?: AbortSignal;
  /** Builds the error thrown on expiry (a {@link TimeoutError} by default). */
  onTimeout?: () => unknown;
  /** Called when the wait gives up (timeout or abort) so the caller can withdraw. */
  cancel?: () => void;
}

/**
 * Races `promise` against a timeout and an abort signal. On expiry it calls
 * `cancel` and rejects with `onTimeout()`; on abort, with the signal's reason.
 */
export function waitFor<T>(promise: Promise<T>, options: WaitForOptions = {}): Promise<T> {
  const ms = normalizeTimeout(options.timeout);
  const { signal } = options;
  if (ms === Infinity && !signal) return promise;
  return new Promise<T>((resolve, reject) => {
    let timer: LongTimer | undefined;
    const cleanup = (): void => {
      timer?.clear();
      signal?.removeEventListener('abort', onAbort);
    };
    const giveUp = (reason: unknown): void => {
      cleanup();
      options.cancel?.();
      reject(reason);
    };
    const onAbort = (): void => giveUp(signal!.reason);
    if (signal?.aborted) {
      giveUp(signal.reason);
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    if (ms !== Infinity) {
      timer = setLongTimeout(() => giveUp(options.onTimeout ? options.onTimeout() : new TimeoutError(`timed out after ${ms} ms`)), ms);
    }
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}
