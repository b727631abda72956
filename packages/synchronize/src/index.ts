export { Lock } from './lock.js';
export { RLock } from './rlock.js';
export { Semaphore, BoundedSemaphore } from './semaphore.js';
export { Condition } from './condition.js';
export type { Predicate } from './condition.js';
export { Event } from './event.js';
export { Barrier, MAX_PARTIES } from './barrier.js';
export type { BarrierAction, BarrierOptions } from './barrier.js';
export { Held } from './held.js';
export type { AcquireOptions, AcquireSyncOptions, HoldOptions, WaitOptions } from './options.js';
export { fromShareable } from './travel.js';
export type {
  AnyShareable,
  PrimitiveName,
  Shareable,
  ShareableBarrier,
  ShareableBoundedSemaphore,
  ShareableCondition,
  ShareableEvent,
  ShareableLock,
  ShareableRLock,
  ShareableSemaphore,
} from './shareable.js';
export type { ShareableCell } from './shared-state.js';
export { BrokenBarrierError, TimeoutError, ValueError, AssertionError } from '@mpjs/util';
