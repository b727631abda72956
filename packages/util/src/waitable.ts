/**
 * The protocol that lets `wait()` (in `@mpjs/connection`) watch objects from
 * other packages — process sentinels, queues' readers — without importing them.
 * An object is waitable when it has a `[waitReady]` method that resolves once
 * the object is ready (data to read, the other end closed, the process ended)
 * and rejects with the signal's reason when the wait is abandoned.
 */

/** Key of the readiness method; `Symbol.for` so two copies of a package agree. */
export const waitReady: unique symbol = Symbol.for('mpjs.waitReady') as never;

/** An object that `wait()` can watch. */
export interface Waitable {
  /** Resolves when the object is ready; rejects with `signal.reason` if aborted first. */
  [waitReady](signal: AbortSignal): Promise<void>;
}

/** Whether `value` implements {@link Waitable}. */
export function isWaitable(value: unknown): value is Waitable {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as Partial<Waitable>)[waitReady] === 'function'
  );
}
