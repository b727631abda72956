/**
 * The options of a proxy's waits, as the local primitives take them
 * (`{ block, timeout, signal }`, `wait(timeout?, { signal })`), checked in the
 * caller: what travels to the server, and the signal that stays here.
 */
import type { Timeout } from '@mpjs/util';

/** Options of a proxy's `acquire`, as a local Lock's: `{ block, timeout, signal }`. */
export interface ProxyAcquireOptions {
  /** Wait for the lock (default true); false tries once. */
  block?: boolean;
  /** Milliseconds to wait at most; `null`/omitted: no limit. */
  timeout?: Timeout;
  /** Aborting gives the call up: it rejects with `signal.reason` and acquires nothing. */
  signal?: AbortSignal;
}

/** Options of a proxy's `wait` besides a positional timeout, as a local primitive's: `{ timeout, signal }`. */
export interface ProxyWaitOptions {
  /** Milliseconds, when not given as the first argument. */
  timeout?: Timeout;
  /** Aborting gives the wait up: it rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of a queue proxy's `put` and `get`, as a local Queue's: `{ block, timeout, signal }`. */
export type ProxyQueueOptions = ProxyAcquireOptions;

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value === 'object' || typeof value === 'function' ? typeof value : String(value);
}

export function checkTimeout(fn: string, timeout: unknown): Timeout {
  if (timeout === undefined || timeout === null) return null;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) throw new TypeError(`${fn}: "timeout" must be a number of milliseconds or null, got ${describe(timeout)}`);
  return timeout;
}

export function checkSignal(fn: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal === null) return undefined;
  if (!(signal instanceof AbortSignal)) throw new TypeError(`${fn}: "signal" must be an AbortSignal, got ${describe(signal)}`);
  return signal;
}

/**
 * `{ block, timeout, signal }`, or Python's positional `(block, timeout)`
 * (with `{ signal }` after them): what travels (`{ block, timeout }`) and the
 * signal that stays here.
 */
export function blockingOptions(fn: string, first: unknown, timeout: unknown, rest?: unknown): [{ block: boolean; timeout: Timeout }, AbortSignal | undefined] {
  if (first !== null && typeof first === 'object') {
    const o = first as ProxyAcquireOptions;
    const block = o.block ?? true;
    if (typeof block !== 'boolean') throw new TypeError(`${fn}: "block" must be a boolean, got ${describe(block)}`);
    return [{ block, timeout: checkTimeout(fn, o.timeout) }, checkSignal(fn, o.signal)];
  }
  if (first !== undefined && typeof first !== 'boolean') {
    throw new TypeError(`${fn}: pass options such as { block: false } or { timeout: 100 }, or (block, timeout); got ${describe(first)}`);
  }
  if (rest !== undefined && rest !== null && typeof rest !== 'object') throw new TypeError(`${fn}: the last argument must be an options object such as { signal }, got ${describe(rest)}`);
  return [{ block: first ?? true, timeout: checkTimeout(fn, timeout) }, checkSignal(fn, (rest as { signal?: unknown } | null | undefined)?.signal)];
}

/** The `(timeout?, { timeout, signal }?)` pair of a `wait`. */
export function waitOptions(fn: string, timeout: unknown, options: unknown): [Timeout | undefined, AbortSignal | undefined] {
  let o: ProxyWaitOptions;
  let t: unknown;
  if (timeout !== null && typeof timeout === 'object') {
    o = timeout as ProxyWaitOptions;
    t = o.timeout;
  } else {
    if (options !== undefined && options !== null && typeof options !== 'object') {
      throw new TypeError(`${fn}: options must be an object such as { signal }, got ${describe(options)}`);
    }
    o = (options ?? {}) as ProxyWaitOptions;
    t = timeout ?? o.timeout;
  }
  return [t === undefined ? undefined : checkTimeout(fn, t), checkSignal(fn, o.signal)];
}

