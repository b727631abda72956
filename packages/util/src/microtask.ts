/**
 * A microtask without the bookkeeping of Node's `queueMicrotask`, which makes
 * an async resource (and a bound function) for every call: on a path taken
 * once per message, that is most of the garbage the path leaves.
 */
const resolved = Promise.resolve();

/**
 * Runs `callback` once the current code and the microtasks already queued
 * have run, as `queueMicrotask` does. An error it throws surfaces as an
 * unhandled rejection rather than an uncaught exception; callbacks given
 * here are not expected to throw.
 */
export function enqueueMicrotask(callback: () => void): void {
  void resolved.then(callback);
}
