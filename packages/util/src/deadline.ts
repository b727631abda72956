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
    throw new TypeError(`${what} must be a number of milliseconds or null, got ${String(timeout)}`);
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
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
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
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
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
      timer = setTimeout(() => giveUp(options.onTimeout ? options.onTimeout() : new TimeoutError(`timed out after ${ms} ms`)), ms);
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
