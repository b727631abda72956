/**
 * Primitives between worker threads of one process: `toShareable()` gives a
 * plain object `postMessage` can carry (the shared memory travels as a
 * `SharedArrayBuffer`, shared rather than copied), and `fromShareable()`
 * rebuilds the same primitive in the receiving thread.
 */
import { cellFromShareable, shareCell, type Cell, type ShareableCell } from './shared-state.js';

/** Names of the primitive classes, as `toShareable()` records them. */
export type PrimitiveName = 'Lock' | 'RLock' | 'Semaphore' | 'BoundedSemaphore' | 'Condition' | 'Event' | 'Barrier';

/** What every `toShareable()` returns: the class and its shared memory. */
export interface Shareable<N extends PrimitiveName = PrimitiveName> {
  /** The class to rebuild. */
  readonly type: N;
  /** The shared memory and the place of the primitive in it. */
  readonly cell: ShareableCell;
}

/** `Lock.prototype.toShareable()`'s result. */
export type ShareableLock = Shareable<'Lock'>;
/** `RLock.prototype.toShareable()`'s result. */
export type ShareableRLock = Shareable<'RLock'>;
/** `Semaphore.prototype.toShareable()`'s result (also for `BoundedSemaphore`). */
export type ShareableSemaphore = Shareable<'Semaphore' | 'BoundedSemaphore'>;
/** `BoundedSemaphore.prototype.toShareable()`'s result. */
export type ShareableBoundedSemaphore = Shareable<'BoundedSemaphore'>;
/** `Event.prototype.toShareable()`'s result. */
export type ShareableEvent = Shareable<'Event'>;
/** `Condition.prototype.toShareable()`'s result: the condition and its lock. */
export interface ShareableCondition extends Shareable<'Condition'> {
  readonly lock: ShareableLock | ShareableRLock;
}
/** `Barrier.prototype.toShareable()`'s result: the barrier, its default timeout and its action (encoded by reference). */
export interface ShareableBarrier extends Shareable<'Barrier'> {
  readonly timeout: number | null;
  readonly action: Uint8Array | null;
}
/** Any primitive's `toShareable()` result. */
export type AnyShareable = ShareableLock | ShareableRLock | ShareableSemaphore | ShareableCondition | ShareableEvent | ShareableBarrier;

/** Describes a primitive of class `type` living in `cell`. */
export function shareableOf<N extends PrimitiveName>(type: N, cell: Cell): Shareable<N> {
  return { type, cell: shareCell(cell) };
}

/** Checks that `data` describes a primitive of one of `types`; returns its cell in this thread. */
export function cellOfShareable(data: unknown, types: readonly PrimitiveName[], what: string): Cell {
  const d = data as Partial<Shareable> | null;
  if (d === null || typeof d !== 'object' || typeof d.type !== 'string' || d.cell === undefined) {
    throw new TypeError(`${what}.fromShareable() expects the object ${what.charAt(0).toLowerCase()}${what.slice(1)}.toShareable() returned, posted to this thread`);
  }
  if (!types.includes(d.type)) {
    throw new TypeError(`${what}.fromShareable() got the description of a ${d.type}; use ${d.type}.fromShareable() or fromShareable()`);
  }
  return cellFromShareable(d.cell, what);
}
