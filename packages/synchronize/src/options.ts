/**
 * The options every wait takes, checked in one place: Python's
 * `acquire(block=True, timeout=None)` as `{ block, timeout }` (milliseconds),
 * plus an `AbortSignal` for the promise forms.
 */
import { checkSignal, normalizeTimeout, type Timeout } from '@mpjs/util';

export { checkSignal };

/** Options of the blocking `*Sync` forms of `acquire`. */
export interface AcquireSyncOptions {
  /** Wait for the primitive (default `true`); `false` tries once and returns at once (the timeout is ignored). */
  block?: boolean;
  /** Milliseconds to wait at most; `undefined`/`null` waits for ever, a negative number is 0. */
  timeout?: Timeout;
}

/** Options of `acquire`. */
export interface AcquireOptions extends AcquireSyncOptions {
  /** Aborting rejects the wait with `signal.reason`; the waiter leaves without taking a later wake-up. */
  signal?: AbortSignal;
}

/** Options of the promise forms of `wait`, besides the timeout. */
export interface WaitOptions {
  /** Milliseconds, when not given as the first argument. */
  timeout?: Timeout;
  /** Aborting rejects the wait with `signal.reason`; the waiter leaves without taking a later wake-up. */
  signal?: AbortSignal;
}

/** Options of `hold()`: as `acquire`, without `block` (a hold that fails throws). */
export interface HoldOptions {
  /** Milliseconds to wait at most; when they pass, `hold()` rejects with a `TimeoutError`. */
  timeout?: Timeout;
  /** Aborting rejects the wait with `signal.reason`. */
  signal?: AbortSignal;
}

/** Checked acquire options: milliseconds (0 for a non-blocking try, `Infinity` for none). */
export interface Parsed {
  ms: number;
  signal: AbortSignal | undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value === 'object' || typeof value === 'function' ? typeof value : String(value);
}

function checkObject(fn: string, options: unknown): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') {
    throw new TypeError(`${fn}: options must be an object such as { block, timeout }, got ${describe(options)}`);
  }
  return options as Record<string, unknown>;
}

/** Checks `{ block, timeout, signal }`. */
export function parseAcquire(fn: string, options: AcquireOptions | undefined): Parsed {
  const o = checkObject(fn, options);
  const block = o.block ?? true;
  if (typeof block !== 'boolean') throw new TypeError(`${fn}: "block" must be a boolean, got ${describe(block)}`);
  const ms = normalizeTimeout(o.timeout as Timeout, `${fn}: "timeout"`);
  return { ms: block ? ms : 0, signal: checkSignal(fn, o.signal) };
}

/**
 * Checks the `(timeout?, options?)` pair of a `wait`: the timeout may come
 * first or inside the options object (`wait(500)`, `wait({ timeout: 500, signal })`).
 */
export function parseWait(fn: string, timeout: Timeout | WaitOptions, options: WaitOptions | undefined, fallback?: Timeout): Parsed {
  let o: Record<string, unknown>;
  let t: unknown;
  if (timeout !== null && typeof timeout === 'object') {
    o = checkObject(fn, timeout);
    t = o.timeout;
  } else {
    o = checkObject(fn, options);
    t = timeout ?? o.timeout;
  }
  return { ms: normalizeTimeout((t ?? fallback) as Timeout, `${fn}: "timeout"`), signal: checkSignal(fn, o.signal) };
}

/** The end of a wait of `ms` milliseconds, on `performance.now()`'s clock. */
export function deadline(ms: number): number {
  return ms === Infinity ? Infinity : performance.now() + ms;
}

/** Milliseconds left until `end` (0 when past). */
export function remaining(end: number): number {
  return end === Infinity ? Infinity : Math.max(0, end - performance.now());
}
