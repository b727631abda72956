/**
 * Internal protocol between the primitives (not exported from the package):
 * how a Condition drives its lock, and how travel.ts reaches a primitive's cell.
 */
import type { Cell } from './shared-state.js';

/** The primitive's cell in shared memory. */
export const kCell: unique symbol = Symbol('mpjs.synchronize.cell');
/** Static: rebuilds a primitive around a cell that already holds it. */
export const kFromCell: unique symbol = Symbol('mpjs.synchronize.fromCell');
/** Whether the calling process and thread hold the lock. */
export const kIsMine: unique symbol = Symbol('mpjs.synchronize.isMine');
/** Releases the lock completely (all recursion levels); returns what {@link kRestore} needs. */
export const kReleaseAll: unique symbol = Symbol('mpjs.synchronize.releaseAll');
/** Takes the lock again after {@link kReleaseAll} (promise form). */
export const kRestore: unique symbol = Symbol('mpjs.synchronize.restore');
/** Takes the lock again after {@link kReleaseAll} (blocking form). */
export const kRestoreSync: unique symbol = Symbol('mpjs.synchronize.restoreSync');

/** What a Condition needs from its lock. */
export interface ConditionLock {
  readonly [kCell]: Cell;
  [kIsMine](): boolean;
  [kReleaseAll](): number;
  [kRestore](saved: number): Promise<void>;
  [kRestoreSync](saved: number): void;
  acquire(options?: { block?: boolean; timeout?: number | null; signal?: AbortSignal }): Promise<boolean>;
  acquireSync(options?: { block?: boolean; timeout?: number | null }): boolean;
  release(): void;
}
