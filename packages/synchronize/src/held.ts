/**
 * Python's `with lock:` as `using`: `hold()` acquires and returns a guard
 * whose disposal releases, so `await using _ = await lock.hold()` (or
 * `using _ = lock.holdSync()`) releases at the end of the scope however it
 * is left.
 */
import { TimeoutError } from '@mpjs/util';
import type { AcquireOptions, AcquireSyncOptions, HoldOptions } from './options.js';
import { checkSignal } from './options.js';

/** A held lock (or semaphore, or condition); disposing of it releases it once. */
export class Held implements Disposable, AsyncDisposable {
  #release: (() => void) | null;

  /** @internal */
  constructor(release: () => void) {
    this.#release = release;
  }

  /** Whether {@link Held.release} (or disposal) has not happened yet. */
  get held(): boolean {
    return this.#release !== null;
  }

  /** Releases what was acquired; later calls do nothing. */
  release(): void {
    const release = this.#release;
    this.#release = null;
    release?.();
  }

  /** Releases (the `using` protocol). */
  [Symbol.dispose](): void {
    this.release();
  }

  /** Releases (the `await using` protocol). */
  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}

/** What `hold()` needs from a primitive. */
export interface Acquirable {
  acquire(options?: AcquireOptions): Promise<boolean>;
  acquireSync(options?: AcquireSyncOptions): boolean;
  release(): void;
}

function describeHold(fn: string, options: HoldOptions | undefined): { timeout: HoldOptions['timeout']; signal: AbortSignal | undefined } {
  if (options === undefined || options === null) return { timeout: undefined, signal: undefined };
  if (typeof options !== 'object') throw new TypeError(`${fn}: options must be an object such as { timeout, signal }`);
  return { timeout: options.timeout, signal: checkSignal(fn, options.signal) };
}

function timedOut(fn: string, timeout: HoldOptions['timeout']): TimeoutError {
  return new TimeoutError(`${fn}(): not acquired within ${String(timeout)} ms (it is held elsewhere); raise the timeout, or omit it to wait for ever`);
}

/** Acquires `target` and returns a guard; rejects with a `TimeoutError` when the timeout passes first. `name` is its class. */
export async function hold(target: Acquirable, name: string, options: HoldOptions | undefined): Promise<Held> {
  const fn = `${name}.hold`;
  const { timeout, signal } = describeHold(fn, options);
  if (!(await target.acquire({ timeout, signal }))) throw timedOut(fn, timeout);
  return new Held(() => target.release());
}

/** Blocking form of {@link hold}. */
export function holdSync(target: Acquirable, name: string, options: Omit<HoldOptions, 'signal'> | undefined): Held {
  const fn = `${name}.holdSync`;
  const { timeout } = describeHold(fn, options);
  if (!target.acquireSync({ timeout })) throw timedOut(fn, timeout);
  return new Held(() => target.release());
}
