/**
 * The proxy classes of `SyncManager`'s shared objects. Every method returns a
 * promise; the work happens in the manager's server.
 */
import { hostname } from 'node:os';
import { TimeoutError, type Timeout } from '@mpjs/util';
import { BaseProxy, isProxyOf } from './proxy.js';
import { blockingOptions, checkSignal, waitOptions, type ProxyAcquireOptions, type ProxyQueueOptions, type ProxyWaitOptions } from './wait-options.js';
import type { DictInit, SortOptions } from './referents.js';

/** Identifies the calling process to re-entrant locks held by the server. */
const OWNER = `${hostname()}:${process.pid}`;

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/**
 * An iterable argument as it travels: a proxy of the same server as itself
 * (the server uses its referent, nothing is copied through this process), a
 * proxy of another server as a copy of its value, anything else iterable as
 * an array. TypeError, at once, for what is not iterable.
 */
function sequenceArg(self: BaseProxy, what: string, values: unknown): unknown[] | BaseProxy | Promise<unknown[]> {
  if (values instanceof BaseProxy) {
    if (isProxyOf(values, self._token.address)) return values;
    return values._getvalue().then((value) => sequenceArg(self, what, value) as unknown[]);
  }
  if (Array.isArray(values)) return values;
  // A string is iterable too (its characters), as in Python.
  if (typeof values === 'string' || (values !== null && typeof values === 'object' && typeof (values as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function')) {
    return [...(values as Iterable<unknown>)];
  }
  const hint = values !== null && typeof values === 'object' && Symbol.asyncIterator in values ? ' (collect an async iterable into an array first)' : '';
  throw new TypeError(`${what} must be an iterable (an array, a Set, a list proxy…), got ${typeName(values)}${hint}`);
}

/** Calls `send` with `values` as {@link sequenceArg} makes them travel; a TypeError rejects. */
function withSequence<R>(self: BaseProxy, what: string, values: unknown, send: (items: unknown) => Promise<R>): Promise<R> {
  let items: unknown[] | BaseProxy | Promise<unknown[]>;
  try {
    items = sequenceArg(self, what, values);
  } catch (error) {
    return Promise.reject(error);
  }
  return items instanceof Promise ? items.then(send) : send(items);
}

const LIST_METHODS = [
  'length', 'get', 'set', 'delete', 'slice', 'setSlice', 'deleteSlice', 'append', 'extend', 'insert', 'pop',
  'remove', 'index', 'count', 'includes', 'reverse', 'sort', 'clear', 'copy', 'iadd', 'imul', 'add', 'mul', 'reversed',
] as const;

/**
 * Proxy of a shared list (`manager.list()`), with every method of Python's
 * `ListProxy`. Indices follow Python: negative ones count from the end, an
 * index out of range is a RangeError (Python's IndexError), one that is not an
 * integer a TypeError. Items compare as Python's `==` does for plain data
 * (`includes`, `count`, `index`, `remove`): `0` equals `-0`, arrays and plain
 * objects compare by value.
 */
export class ListProxy<T = unknown> extends BaseProxy {
  static override readonly _exposed_: readonly string[] = LIST_METHODS;
  /** `len(l)`. */
  length(): Promise<number> {
    return this._callmethod('length') as Promise<number>;
  }
  /** `l[i]` (negative indices count from the end; out of range throws RangeError). */
  get(index: number): Promise<T> {
    return this._callmethod('get', [index]) as Promise<T>;
  }
  /** `l[i] = value`. */
  set(index: number, value: T): Promise<void> {
    return this._callmethod('set', [index, value]) as Promise<void>;
  }
  /** `del l[i]`. */
  delete(index: number): Promise<void> {
    return this._callmethod('delete', [index]) as Promise<void>;
  }
  /**
   * `l[start:end:step]`: a local array. Bounds and step as Python's (negative
   * values count from the end, a negative step walks backwards, null is the
   * default); a step of 0 is a ValueError, a bound that is not an integer a TypeError.
   */
  slice(start?: number | null, end?: number | null, step?: number | null): Promise<T[]> {
    return this._callmethod('slice', [start ?? null, end ?? null, step ?? null]) as Promise<T[]>;
  }
  /**
   * `l[start:end:step] = values`. With a step other than 1 (an extended
   * slice), `values` must have as many items as the slice covers
   * (ValueError otherwise, as in Python).
   */
  setSlice(start: number | null, end: number | null, values: Iterable<T> | ListProxy<T>, step?: number | null): Promise<void> {
    return withSequence(this, 'setSlice(): values', values, (items) => this._callmethod('setSlice', [start, end, items, step ?? null])) as Promise<void>;
  }
  /** `del l[start:end:step]` (`deleteSlice(null, null, 2)` is `del l[::2]`). */
  deleteSlice(start?: number | null, end?: number | null, step?: number | null): Promise<void> {
    return this._callmethod('deleteSlice', [start ?? null, end ?? null, step ?? null]) as Promise<void>;
  }
  /** `l.append(value)`. */
  append(value: T): Promise<void> {
    return this._callmethod('append', [value]) as Promise<void>;
  }
  /** `l.extend(values)`: any iterable, or another list proxy. */
  extend(values: Iterable<T> | ListProxy<T>): Promise<void> {
    return withSequence(this, 'extend()', values, (items) => this._callmethod('extend', [items])) as Promise<void>;
  }
  /** `l.insert(index, value)` (the index is clamped to the list, as Python's). */
  insert(index: number, value: T): Promise<void> {
    return this._callmethod('insert', [index, value]) as Promise<void>;
  }
  /** `l.pop(index = -1)`. */
  pop(index = -1): Promise<T> {
    return this._callmethod('pop', [index]) as Promise<T>;
  }
  /** `l.remove(value)` (ValueError when absent). */
  remove(value: T): Promise<void> {
    return this._callmethod('remove', [value]) as Promise<void>;
  }
  /** `l.index(value, start?, stop?)` (ValueError when absent). */
  index(value: T, start?: number | null, stop?: number | null): Promise<number> {
    return this._callmethod('index', [value, start ?? null, stop ?? null]) as Promise<number>;
  }
  /** `l.count(value)`. */
  count(value: T): Promise<number> {
    return this._callmethod('count', [value]) as Promise<number>;
  }
  /** `value in l`. */
  includes(value: T): Promise<boolean> {
    return this._callmethod('includes', [value]) as Promise<boolean>;
  }
  /** `l.reverse()`. */
  reverse(): Promise<void> {
    return this._callmethod('reverse') as Promise<void>;
  }
  /** `l.sort(key=, reverse=)`; `key` must be an exported function. */
  sort(options: SortOptions<T> = {}): Promise<void> {
    return this._callmethod('sort', [options]) as Promise<void>;
  }
  /** `l.clear()`. */
  clear(): Promise<void> {
    return this._callmethod('clear') as Promise<void>;
  }
  /** `l.copy()`: a local array. */
  copy(): Promise<T[]> {
    return this._callmethod('copy') as Promise<T[]>;
  }
  /** `l += values` (Python's `__iadd__`). */
  iadd(values: Iterable<T> | ListProxy<T>): Promise<void> {
    return withSequence(this, 'iadd()', values, (items) => this._callmethod('iadd', [items])) as Promise<void>;
  }
  /** `l *= n` (Python's `__imul__`; `n` must be an integer, 0 or less empties the list). */
  imul(n: number): Promise<void> {
    return this._callmethod('imul', [n]) as Promise<void>;
  }
  /** `l + values` (Python's `__add__`): a local array, the list unchanged. */
  add<U = T>(values: Iterable<U> | ListProxy<U>): Promise<Array<T | U>> {
    return withSequence(this, 'add()', values, (items) => this._callmethod('add', [items])) as Promise<Array<T | U>>;
  }
  /** `l * n` and `n * l` (Python's `__mul__`, `__rmul__`): a local array of `n` copies of the items. */
  mul(n: number): Promise<T[]> {
    return this._callmethod('mul', [n]) as Promise<T[]>;
  }
  /** `list(reversed(l))` (Python's `__reversed__`): a local array, the list unchanged. */
  reversed(): Promise<T[]> {
    return this._callmethod('reversed') as Promise<T[]>;
  }
  /** A local copy of the list. */
  override _getvalue(): Promise<T[]> {
    return super._getvalue() as Promise<T[]>;
  }
  /** Iterates over a snapshot of the list. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    yield* await this._getvalue();
  }
}

const DICT_METHODS = [
  'length', 'has', 'get', 'getItem', 'set', 'delete', 'pop', 'popitem', 'setdefault', 'update', 'keys', 'values',
  'items', 'clear', 'copy',
] as const;

/** What `update()` sends: a Map or plain object as is, a proxy of the same server itself, other pairs as an array. */
function dictArg(self: BaseProxy, other: unknown): unknown {
  if (other instanceof BaseProxy) {
    if (isProxyOf(other, self._token.address)) return other;
    return other._getvalue();
  }
  if (other instanceof Map || Array.isArray(other)) return other;
  if (other === null || typeof other !== 'object') {
    throw new TypeError(`update() needs a Map, a plain object, [key, value] pairs or a dict proxy, got ${typeName(other)}`);
  }
  return Symbol.iterator in other ? [...(other as Iterable<unknown>)] : other;
}

/**
 * Proxy of a shared dict (`manager.dict()`): a Map in the server, keys as in
 * Python (`1` and `'1'` differ; arrays and plain objects compare by value).
 * `for await (const key of d)` iterates over a snapshot of the keys.
 */
export class DictProxy<K = unknown, V = unknown> extends BaseProxy {
  static override readonly _exposed_: readonly string[] = DICT_METHODS;
  /** `len(d)`. */
  length(): Promise<number> {
    return this._callmethod('length') as Promise<number>;
  }
  /** `key in d`. */
  has(key: K): Promise<boolean> {
    return this._callmethod('has', [key]) as Promise<boolean>;
  }
  /** `d.get(key, default)`: `undefined` (or the default) when absent. */
  get(key: K, defaultValue?: V): Promise<V | undefined> {
    return this._callmethod('get', defaultValue === undefined ? [key] : [key, defaultValue]) as Promise<V | undefined>;
  }
  /** `d[key]`: KeyError when absent. */
  getItem(key: K): Promise<V> {
    return this._callmethod('getItem', [key]) as Promise<V>;
  }
  /** `d[key] = value`. */
  set(key: K, value: V): Promise<void> {
    return this._callmethod('set', [key, value]) as Promise<void>;
  }
  /** `del d[key]`: KeyError when absent. */
  delete(key: K): Promise<void> {
    return this._callmethod('delete', [key]) as Promise<void>;
  }
  /** `d.pop(key[, default])`. */
  pop(key: K, ...defaultValue: [V?]): Promise<V> {
    return this._callmethod('pop', [key, ...defaultValue]) as Promise<V>;
  }
  /** `d.popitem()`: the last inserted pair. */
  popitem(): Promise<[K, V]> {
    return this._callmethod('popitem') as Promise<[K, V]>;
  }
  /** `d.setdefault(key, default)`. */
  setdefault(key: K, defaultValue: V | null = null): Promise<V> {
    return this._callmethod('setdefault', [key, defaultValue]) as Promise<V>;
  }
  /** `d.update(other)`: a Map, a plain object, `[key, value]` pairs or another dict proxy. */
  update(other: DictInit | DictProxy<K, V>): Promise<void> {
    let data: unknown;
    try {
      data = dictArg(this, other);
    } catch (error) {
      return Promise.reject(error);
    }
    return data instanceof Promise
      ? (data.then((value) => this._callmethod('update', [value])) as Promise<void>)
      : (this._callmethod('update', [data]) as Promise<void>);
  }
  /** `list(d.keys())`. */
  keys(): Promise<K[]> {
    return this._callmethod('keys') as Promise<K[]>;
  }
  /** `list(d.values())`. */
  values(): Promise<V[]> {
    return this._callmethod('values') as Promise<V[]>;
  }
  /** `list(d.items())`. */
  items(): Promise<Array<[K, V]>> {
    return this._callmethod('items') as Promise<Array<[K, V]>>;
  }
  /** `d.clear()`. */
  clear(): Promise<void> {
    return this._callmethod('clear') as Promise<void>;
  }
  /** `d.copy()`: a local Map. */
  copy(): Promise<Map<K, V>> {
    return this._callmethod('copy') as Promise<Map<K, V>>;
  }
  /** A local copy of the dict, as a Map. */
  override _getvalue(): Promise<Map<K, V>> {
    return super._getvalue() as Promise<Map<K, V>>;
  }
  /** `for key in d`: iterates over a snapshot of the keys. */
  async *[Symbol.asyncIterator](): AsyncGenerator<K> {
    yield* await this.keys();
  }
}

/** Proxy of a shared namespace (`manager.Namespace()`): `await ns.get('x')`, `await ns.set('x', 1)`. */
export class NamespaceProxy extends BaseProxy {
  static override readonly _exposed_: readonly string[] = ['get', 'set', 'delete', 'has'];
  /** `ns.x` (TypeError when there is no such attribute). */
  get(name: string): Promise<unknown> {
    return this._callmethod('get', [name]);
  }
  /** `ns.x = value`. */
  set(name: string, value: unknown): Promise<void> {
    return this._callmethod('set', [name, value]) as Promise<void>;
  }
  /** `del ns.x`. */
  delete(name: string): Promise<void> {
    return this._callmethod('delete', [name]) as Promise<void>;
  }
  /** `hasattr(ns, 'x')`. */
  has(name: string): Promise<boolean> {
    return this._callmethod('has', [name]) as Promise<boolean>;
  }
}

/** Proxy of `manager.Value(typecode, value)`. */
export class ValueProxy<T = unknown> extends BaseProxy {
  static override readonly _exposed_: readonly string[] = ['get', 'set'];
  /** `v.value`. */
  get(): Promise<T> {
    return this._callmethod('get') as Promise<T>;
  }
  /** `v.value = value`. */
  set(value: T): Promise<void> {
    return this._callmethod('set', [value]) as Promise<void>;
  }
}

/**
 * Proxy of `manager.Array(typecode, sequence)`: fixed length; an integer
 * typecode's items stay within its C type's range (RangeError, Python's
 * OverflowError), 64-bit ones may be bigints.
 */
export class ArrayProxy<T = number> extends BaseProxy {
  static override readonly _exposed_: readonly string[] = ['length', 'get', 'set', 'slice'];
  /** `len(a)`. */
  length(): Promise<number> {
    return this._callmethod('length') as Promise<number>;
  }
  /** `a[i]`. */
  get(index: number): Promise<T> {
    return this._callmethod('get', [index]) as Promise<T>;
  }
  /** `a[i] = value`. */
  set(index: number, value: T): Promise<void> {
    return this._callmethod('set', [index, value]) as Promise<void>;
  }
  /** `a[start:end:step]`: a local array (bounds and step as {@link ListProxy.slice}). */
  slice(start?: number | null, end?: number | null, step?: number | null): Promise<T[]> {
    return this._callmethod('slice', [start ?? null, end ?? null, step ?? null]) as Promise<T[]>;
  }
}

export type { ProxyAcquireOptions, ProxyQueueOptions, ProxyWaitOptions } from './wait-options.js';

/** Runs `send`; a TypeError of the arguments rejects instead of throwing. */
function attempt<R>(send: () => Promise<R>): Promise<R> {
  try {
    return send();
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Proxy of `manager.Lock()` (Python's `AcquirerProxy`). `acquire` takes a
 * local Lock's options, `{ block, timeout, signal }` (timeouts in
 * milliseconds), or Python's positional `(block, timeout)`. Aborting the
 * signal rejects with its reason; the server then acquires nothing for this
 * call (if it had acquired already, the call resolves true: it took effect).
 */
export class AcquirerProxy extends BaseProxy {
  static override readonly _exposed_: readonly string[] = ['acquire', 'release', 'locked'];
  /** What calls pass as the calling process, for locks owned per process. */
  protected get owner(): Record<string, string> {
    return {};
  }
  /** Whether calls pass the calling process as lock owner (re-entrant locks). */
  protected get ownerArgs(): unknown[] {
    return [];
  }
  /** `acquire({ block, timeout, signal })`: resolves true when acquired, false when not (no wait, or the timeout passed). */
  acquire(options?: ProxyAcquireOptions): Promise<boolean>;
  /** `acquire(block, timeout, { signal }?)`, Python's positional form. */
  acquire(block: boolean, timeout?: Timeout, options?: { signal?: AbortSignal }): Promise<boolean>;
  acquire(options?: ProxyAcquireOptions | boolean, timeout?: Timeout, rest?: { signal?: AbortSignal }): Promise<boolean> {
    return attempt(() => {
      const [kwds, signal] = blockingOptions(`${this.constructor.name}.acquire()`, options, timeout, rest);
      return this._callmethod('acquire', [], { ...kwds, ...this.owner }, { waits: true, signal }) as Promise<boolean>;
    });
  }
  /** Releases the lock. */
  release(): Promise<void> {
    return this._callmethod('release', this.ownerArgs) as Promise<void>;
  }
  /** Runs `fn` holding the lock (Python's `with lock:`); `options` as `acquire`'s. */
  async withLock<R>(fn: () => R | Promise<R>, options?: Omit<ProxyAcquireOptions, 'block'>): Promise<R> {
    if (!(await this.acquire({ ...options, block: true }))) {
      throw new TimeoutError(`${this.constructor.name}.withLock(): the lock was not acquired within ${String(options?.timeout)} ms`);
    }
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }
}

/** Proxy of `manager.RLock()`: re-entrant per process. */
export class RLockProxy extends AcquirerProxy {
  static override readonly _exposed_: readonly string[] = ['acquire', 'release'];
  protected override get owner(): Record<string, string> {
    return { owner: OWNER };
  }
  protected override get ownerArgs(): unknown[] {
    return [OWNER];
  }
}

/** Proxy of `manager.Semaphore()` / `manager.BoundedSemaphore()`. */
export class SemaphoreProxy extends AcquirerProxy {
  static override readonly _exposed_: readonly string[] = ['acquire', 'release', 'getValue'];
  /** The current counter. */
  getValue(): Promise<number> {
    return this._callmethod('getValue') as Promise<number>;
  }
}

/**
 * Proxy of `manager.Condition(lock?)`: over its own re-entrant lock, or the
 * Lock or RLock proxy of the same manager it was made with.
 */
export class ConditionProxy extends RLockProxy {
  static override readonly _exposed_: readonly string[] = ['acquire', 'release', 'wait', 'notify', 'notifyAll'];
  /**
   * Releases the lock, waits for a notification (or `timeout` ms), takes the
   * lock back; resolves false on timeout. `wait(timeout?, { signal })` or
   * `wait({ timeout, signal })`; aborting rejects with the signal's reason
   * (the lock is taken back first, as a local Condition does).
   */
  wait(timeout?: Timeout | ProxyWaitOptions, options?: ProxyWaitOptions): Promise<boolean> {
    return attempt(() => {
      const [ms, signal] = waitOptions('Condition.wait()', timeout, options);
      return this._callmethod('wait', [ms ?? null], { owner: OWNER }, { waits: true, signal }) as Promise<boolean>;
    });
  }
  /** Wakes up to `n` waiters (the lock must be held). */
  notify(n = 1): Promise<void> {
    return this._callmethod('notify', [n, OWNER]) as Promise<void>;
  }
  /** Wakes every waiter (the lock must be held). */
  notifyAll(): Promise<void> {
    return this._callmethod('notifyAll', [OWNER]) as Promise<void>;
  }
  /** Waits until `predicate()` is truthy (checked here, between waits); resolves with its last value. */
  async waitFor<R>(predicate: () => R | Promise<R>, timeout?: Timeout | ProxyWaitOptions, options?: ProxyWaitOptions): Promise<R> {
    if (typeof predicate !== 'function') throw new TypeError('Condition.waitFor(): "predicate" must be a function');
    const [ms, signal] = waitOptions('Condition.waitFor()', timeout, options);
    const end = ms === undefined || ms === null ? Infinity : performance.now() + ms;
    let result = await predicate();
    while (!result) {
      const left = end - performance.now();
      if (left <= 0) break;
      await this.wait(end === Infinity ? null : left, { signal });
      result = await predicate();
    }
    return result;
  }
}

/** Proxy of `manager.Event()`. */
export class EventProxy extends BaseProxy {
  static override readonly _exposed_: readonly string[] = ['isSet', 'set', 'clear', 'wait'];
  /** Whether the flag is set. */
  isSet(): Promise<boolean> {
    return this._callmethod('isSet') as Promise<boolean>;
  }
  /** Sets the flag and wakes every waiter. */
  set(): Promise<void> {
    return this._callmethod('set') as Promise<void>;
  }
  /** Clears the flag. */
  clear(): Promise<void> {
    return this._callmethod('clear') as Promise<void>;
  }
  /** Waits for the flag; resolves with it (false after `timeout` ms). `wait(timeout?, { signal })` or `wait({ timeout, signal })`. */
  wait(timeout?: Timeout | ProxyWaitOptions, options?: ProxyWaitOptions): Promise<boolean> {
    return attempt(() => {
      const [ms, signal] = waitOptions('Event.wait()', timeout, options);
      return this._callmethod('wait', [ms ?? null], {}, { waits: true, signal }) as Promise<boolean>;
    });
  }
}

/** Proxy of `manager.Barrier(parties, action?, timeout?)`. */
export class BarrierProxy extends BaseProxy {
  static override readonly _exposed_: readonly string[] = ['wait', 'abort', 'reset', 'nWaiting', 'broken', 'getParties'];
  /**
   * Waits for all parties; resolves with this caller's index (BrokenBarrierError
   * when broken). Without a timeout, the barrier's own. `wait(timeout?, { signal })`
   * or `wait({ timeout, signal })`; a timeout or an abort breaks the barrier, as a local Barrier's does.
   */
  wait(timeout?: Timeout | ProxyWaitOptions, options?: ProxyWaitOptions): Promise<number> {
    return attempt(() => {
      const [ms, signal] = waitOptions('Barrier.wait()', timeout, options);
      return this._callmethod('wait', [ms ?? null], {}, { waits: true, signal }) as Promise<number>;
    });
  }
  /** Breaks the barrier. */
  abort(): Promise<void> {
    return this._callmethod('abort') as Promise<void>;
  }
  /** Returns the barrier to its initial state. */
  reset(): Promise<void> {
    return this._callmethod('reset') as Promise<void>;
  }
  /** How many parties are waiting. */
  nWaiting(): Promise<number> {
    return this._callmethod('nWaiting') as Promise<number>;
  }
  /** Whether the barrier is broken. */
  broken(): Promise<boolean> {
    return this._callmethod('broken') as Promise<boolean>;
  }
  /** The number of parties. */
  getParties(): Promise<number> {
    return this._callmethod('getParties') as Promise<number>;
  }
}

const QUEUE_METHODS = ['put', 'get', 'putNowait', 'getNowait', 'qsize', 'empty', 'full', 'taskDone', 'join'] as const;

/**
 * Proxy of `manager.Queue(maxsize)`: Python's `queue.Queue` through a
 * manager, with `taskDone()` and `join()` as it has. `put` and `get` take a
 * local Queue's options, `{ block, timeout, signal }`, or Python's
 * positional `(block, timeout)`. A `get` given up through its signal takes
 * no item: the next `get` receives it.
 */
export class QueueProxy<T = unknown> extends BaseProxy {
  static override readonly _exposed_: readonly string[] = QUEUE_METHODS;
  /** Puts an item; with `block` false, or after `timeout` ms on a full queue, rejects with `Full`. */
  put(item: T, options?: ProxyQueueOptions): Promise<void>;
  /** `put(item, block, timeout, { signal }?)`, Python's positional form. */
  put(item: T, block: boolean, timeout?: Timeout, options?: { signal?: AbortSignal }): Promise<void>;
  put(item: T, options?: ProxyQueueOptions | boolean, timeout?: Timeout, rest?: { signal?: AbortSignal }): Promise<void> {
    return attempt(() => {
      const [kwds, signal] = blockingOptions('Queue.put()', options, timeout, rest);
      return this._callmethod('put', [item], kwds, { waits: true, signal }) as Promise<void>;
    });
  }
  /** Takes an item; with `block` false, or after `timeout` ms on an empty queue, rejects with `Empty`. */
  get(options?: ProxyQueueOptions): Promise<T>;
  /** `get(block, timeout, { signal }?)`, Python's positional form. */
  get(block: boolean, timeout?: Timeout, options?: { signal?: AbortSignal }): Promise<T>;
  get(options?: ProxyQueueOptions | boolean, timeout?: Timeout, rest?: { signal?: AbortSignal }): Promise<T> {
    return attempt(() => {
      const [kwds, signal] = blockingOptions('Queue.get()', options, timeout, rest);
      return this._callmethod('get', [], kwds, { waits: true, signal }) as Promise<T>;
    });
  }
  /** `put(item, { block: false })`. */
  putNowait(item: T): Promise<void> {
    return this._callmethod('putNowait', [item]) as Promise<void>;
  }
  /** `get({ block: false })`. */
  getNowait(): Promise<T> {
    return this._callmethod('getNowait') as Promise<T>;
  }
  /** Number of items. */
  qsize(): Promise<number> {
    return this._callmethod('qsize') as Promise<number>;
  }
  /** Whether the queue is empty. */
  empty(): Promise<boolean> {
    return this._callmethod('empty') as Promise<boolean>;
  }
  /** Whether the queue is full. */
  full(): Promise<boolean> {
    return this._callmethod('full') as Promise<boolean>;
  }
  /** Marks one fetched item as processed (ValueError when called more often than items were put). */
  taskDone(): Promise<void> {
    return this._callmethod('taskDone') as Promise<void>;
  }
  /** Waits until every item put has been marked done; `{ signal }` gives the wait up. */
  join(options?: { signal?: AbortSignal }): Promise<void> {
    return attempt(() => {
      const signal = checkSignal('Queue.join()', options?.signal);
      return this._callmethod('join', [], {}, { waits: true, signal }) as Promise<void>;
    });
  }
}

/** Proxy of `manager.JoinableQueue(maxsize)` (the same as a manager's Queue, as in Python). */
export class JoinableQueueProxy<T = unknown> extends QueueProxy<T> {}
