/**
 * Flush before exit. A pending flush keeps the event loop alive, which is
 * enough for a main program or a worker thread: it does not end before its
 * queues are flushed. A child started by `@mpjs/process` is different: its
 * bootstrap calls `process.exit()` once the target returns, after awaiting
 * the hooks registered in the process layer's runtime record (the global slot
 * `Symbol.for('mpjs.process.runtime')`, what `registerBeforeExit()` fills).
 * This module puts one hook there while any flush runs, without importing
 * `@mpjs/process`.
 */

/** What a flush exposes to the exit hook. */
export interface Flushing {
  /** Resolves when everything is in the ring (never rejects). */
  drained(): Promise<void>;
}

/** The part of `@mpjs/process`'s runtime record used here. */
interface ProcessRuntime {
  isChild?: boolean;
  beforeExitHooks?: Set<() => unknown>;
}

const kRuntime = Symbol.for('mpjs.process.runtime');

const active = new Set<Flushing>();

/** Awaits every running flush, including ones started while waiting. */
async function flushAll(): Promise<void> {
  while (active.size > 0) await Promise.all([...active].map((f) => f.drained()));
}

/** A flush has started: make the process wait for it before it exits. */
export function trackFlush(flushing: Flushing): void {
  active.add(flushing);
  const runtime = (globalThis as { [kRuntime]?: ProcessRuntime })[kRuntime];
  // The hook set is emptied as hooks run: adding again is how a late flush is still awaited.
  if (runtime?.isChild === true && runtime.beforeExitHooks instanceof Set) runtime.beforeExitHooks.add(flushAll);
}

/** A flush has ended, or no longer needs waiting for. */
export function untrackFlush(flushing: Flushing): void {
  active.delete(flushing);
}
