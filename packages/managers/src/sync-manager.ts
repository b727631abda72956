/**
 * `SyncManager` and `Manager()`: a manager with Python's standard shared
 * types (list, dict, Namespace, Value, Array, locks, Event, Barrier, queues,
 * Pool).
 */
import type { PoolOptions } from '@mpjs/pool';
import { ValueError, type Timeout } from '@mpjs/util';
import { BaseManager, type ManagerOptions } from './base-manager.js';
import { BaseProxy, isProxyOf } from './proxy.js';
import {
  AcquirerProxy,
  ArrayProxy,
  BarrierProxy,
  ConditionProxy,
  DictProxy,
  EventProxy,
  JoinableQueueProxy,
  ListProxy,
  NamespaceProxy,
  QueueProxy,
  RLockProxy,
  SemaphoreProxy,
  ValueProxy,
} from './proxies.js';
import { AsyncResultProxy, IteratorProxy, PoolProxy } from './pool-proxies.js';
import { createPoolReferent } from './pool-referents.js';
import { ArrayReferent, NamespaceReferent, SharedDict, SharedList, ValueReferent, type DictInit } from './referents.js';
import {
  BarrierReferent,
  BoundedSemaphoreReferent,
  ConditionReferent,
  EventReferent,
  JoinableQueueReferent,
  LockReferent,
  QueueReferent,
  RLockReferent,
  SemaphoreReferent,
} from './sync-referents.js';

/** A manager with the standard shared types; `await Manager()` makes a started one. */
export class SyncManager extends BaseManager {
  /** A shared list: from an iterable, or a list or dict proxy of this manager (a dict gives its keys). */
  declare list: <T = unknown>(items?: Iterable<T> | ListProxy<T> | DictProxy<T, unknown>) => Promise<ListProxy<T>>;
  /** A shared dict: a Map, a plain object, `[key, value]` pairs, or a dict proxy of this manager, to start from. */
  declare dict: <K = unknown, V = unknown>(init?: DictInit | DictProxy<K, V> | null) => Promise<DictProxy<K, V>>;
  /** A shared namespace with the given attributes. */
  declare Namespace: (attrs?: Record<string, unknown>) => Promise<NamespaceProxy>;
  /** A shared value of a typecode (`'i'`, `'d'`, …; other strings hold anything). */
  declare Value: <T = unknown>(typecode: string, value: T) => Promise<ValueProxy<T>>;
  /** A shared fixed-length array of a typecode, from a sequence or a length. */
  declare Array: <T = number>(typecode: string, sequence: Iterable<T> | number) => Promise<ArrayProxy<T>>;
  /** A lock held in the server. */
  declare Lock: () => Promise<AcquirerProxy>;
  /** A re-entrant lock held in the server (re-entrant per process). */
  declare RLock: () => Promise<RLockProxy>;
  /** A semaphore. */
  declare Semaphore: (value?: number) => Promise<SemaphoreProxy>;
  /** A bounded semaphore (releasing past the initial value is a ValueError). */
  declare BoundedSemaphore: (value?: number) => Promise<SemaphoreProxy>;
  /**
   * A condition variable: over its own re-entrant lock, or over `lock`, a
   * Lock or RLock proxy of this manager (Python's `Condition(lock)`).
   */
  declare Condition: (lock?: AcquirerProxy | RLockProxy | null) => Promise<ConditionProxy>;
  /** An event. */
  declare Event: () => Promise<EventProxy>;
  /** A barrier; `action` must be an exported function (it runs in the server). */
  declare Barrier: (parties: number, action?: (() => unknown) | null, timeout?: Timeout) => Promise<BarrierProxy>;
  /** A queue (`maxsize` 0: unbounded). */
  declare Queue: <T = unknown>(maxsize?: number) => Promise<QueueProxy<T>>;
  /** A joinable queue. */
  declare JoinableQueue: <T = unknown>(maxsize?: number) => Promise<JoinableQueueProxy<T>>;
  /**
   * A process pool held by the server (`@mpjs/pool`'s `Pool`, loaded there on
   * first use): `await manager.Pool(4)` or `await manager.Pool({ processes,
   * initializer, initargs, maxtasksperchild })`. Its workers end with the server.
   */
  declare Pool: (options?: number | PoolOptions | null) => Promise<PoolProxy>;
}

SyncManager.register('list', SharedList, { proxytype: ListProxy });
SyncManager.register('dict', SharedDict, { proxytype: DictProxy });
SyncManager.register('Namespace', NamespaceReferent, { proxytype: NamespaceProxy });
SyncManager.register('Value', ValueReferent, { proxytype: ValueProxy });
SyncManager.register('Array', ArrayReferent, { proxytype: ArrayProxy });
SyncManager.register('Lock', LockReferent, { proxytype: AcquirerProxy });
SyncManager.register('RLock', RLockReferent, { proxytype: RLockProxy });
SyncManager.register('Semaphore', SemaphoreReferent, { proxytype: SemaphoreProxy });
SyncManager.register('BoundedSemaphore', BoundedSemaphoreReferent, { proxytype: SemaphoreProxy });
SyncManager.register('Condition', ConditionReferent, { proxytype: ConditionProxy });
SyncManager.register('Event', EventReferent, { proxytype: EventProxy });
SyncManager.register('Barrier', BarrierReferent, { proxytype: BarrierProxy });
SyncManager.register('Queue', QueueReferent, { proxytype: QueueProxy });
SyncManager.register('JoinableQueue', JoinableQueueReferent, { proxytype: JoinableQueueProxy });
SyncManager.register('Pool', createPoolReferent, { proxytype: PoolProxy });
// Types returned by the pool's methods, made only through it.
SyncManager.register('AsyncResult', null, { proxytype: AsyncResultProxy, createMethod: false });
SyncManager.register('Iterator', null, { proxytype: IteratorProxy, createMethod: false });

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value === 'object' || typeof value === 'function' ? typeof value : String(value);
}

function checkMaxsize(typeid: string, maxsize: unknown): void {
  if (maxsize !== undefined && !Number.isInteger(maxsize)) {
    throw new TypeError(`${typeid}(maxsize): maxsize must be an integer (0 or less: unbounded), got ${describe(maxsize)}`);
  }
}

function checkSemaphoreValue(typeid: string, value: unknown): void {
  if (value === undefined) return;
  if (!Number.isInteger(value)) throw new TypeError(`${typeid}(value): value must be an integer, got ${describe(value)}`);
  if ((value as number) < 0) throw new ValueError(`${typeid}(value): value must be 0 or more, got ${String(value)}`);
}

/**
 * Arguments checked in the caller, before anything is sent: a mistake is a
 * TypeError or ValueError thrown here rather than the server's RemoteError.
 */
const checks: Record<string, (this: SyncManager, ...args: unknown[]) => void> = {
  Queue: (maxsize) => checkMaxsize('Queue', maxsize),
  JoinableQueue: (maxsize) => checkMaxsize('JoinableQueue', maxsize),
  Semaphore: (value) => checkSemaphoreValue('Semaphore', value),
  BoundedSemaphore: (value) => checkSemaphoreValue('BoundedSemaphore', value),
  Barrier(parties, action, timeout) {
    if (!Number.isInteger(parties)) throw new TypeError(`Barrier(parties): parties must be an integer, got ${describe(parties)}`);
    if ((parties as number) < 1) throw new ValueError(`Barrier(parties): parties must be 1 or more, got ${String(parties)}`);
    if (action !== undefined && action !== null && typeof action !== 'function') {
      throw new TypeError(`Barrier(parties, action): action must be an exported function or null, got ${describe(action)}`);
    }
    if (timeout !== undefined && timeout !== null && (typeof timeout !== 'number' || Number.isNaN(timeout))) {
      throw new TypeError(`Barrier(parties, action, timeout): timeout must be a number of milliseconds or null, got ${describe(timeout)}`);
    }
  },
  Condition(lock) {
    if (lock === undefined || lock === null) return;
    const isLock = lock instanceof AcquirerProxy && !(lock instanceof SemaphoreProxy) && !(lock instanceof ConditionProxy);
    if (!isLock || this.address === null || !isProxyOf(lock, this.address)) {
      throw new TypeError(
        `Condition(lock): lock must be a Lock or RLock proxy of this manager (await manager.Lock() or manager.RLock()), got ${
          lock instanceof BaseProxy ? String(lock) : describe(lock)
        }`,
      );
    }
  },
};

for (const [typeid, check] of Object.entries(checks)) {
  const create = (SyncManager.prototype as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[typeid]!;
  Object.defineProperty(SyncManager.prototype, typeid, {
    value(this: SyncManager, ...args: unknown[]): Promise<unknown> {
      try {
        check.apply(this, args);
      } catch (error) {
        return Promise.reject(error);
      }
      return create.apply(this, args);
    },
    writable: true,
    configurable: true,
  });
}

/** Starts a `SyncManager` (a server process) and resolves with it (Python's `multiprocessing.Manager()`). */
export async function Manager(options: ManagerOptions = {}): Promise<SyncManager> {
  const manager = new SyncManager(options);
  await manager.start();
  return manager;
}
