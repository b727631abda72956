/**
 * Contexts with every factory of the module (Python's `multiprocessing.context`).
 *
 * `@mpjs/process` defines the contexts with `Process` only, so that a program
 * that needs processes alone does not load queues, pools or managers. Here
 * each context class is extended with the factories of the other packages:
 * `ctx.Queue()`, `ctx.Lock()`, `ctx.Value('i', 0)`, `ctx.Array('d', 10)`,
 * `ctx.Pipe()`, `ctx.Pool(4)`, `ctx.Manager()`… Processes the factories
 * start (a pool's workers, a manager's server) use the context's start
 * method. The default context shares its choice of start method with
 * `@mpjs/process`: there is one `setStartMethod()` per program.
 */
import {
  BaseContext,
  defaultContext as processDefaultContext,
  ForkServerContext as ProcessForkServerContext,
  SpawnContext as ProcessSpawnContext,
  type LauncherSource,
  type SetStartMethodOptions,
  type StartMethod,
} from '@mpjs/process';
import { Client, Listener, Pipe, type Address, type ClientOptions, type Connection, type ListenerOptions, type PipeOptions } from '@mpjs/connection';
import { Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore, type BarrierOptions } from '@mpjs/synchronize';
import {
  RawArray,
  RawValue,
  SharedArray,
  Value,
  type ArrayInit,
  type InputOf,
  type SynchronizedOptions,
  type TypeOrCode,
} from '@mpjs/sharedctypes';
import { JoinableQueue, Queue, SimpleQueue, type QueueOptions } from '@mpjs/queues';
import { Pool, type PoolOptions } from '@mpjs/pool';
import { Manager, type ManagerOptions, type SyncManager } from '@mpjs/managers';

/** What a context's `launcher()` returns. */
type Launcher = ReturnType<BaseContext['launcher']>;

/** Options of `ctx.Pool()`: those of `new Pool()` but `context`, which is the context itself. */
export type ContextPoolOptions = Omit<PoolOptions, 'context'>;
/** Options of `ctx.Manager()`: those of `Manager()` but `ctx`, which is the context itself. */
export type ContextManagerOptions = Omit<ManagerOptions, 'ctx'>;

/**
 * The factories every context of this package has, besides `Process` (Python's
 * `BaseContext` methods). Called without `new`.
 */
export interface ContextFactories {
  /** `new Queue(maxsize, options)`. */
  Queue<T = unknown>(maxsize?: number, options?: QueueOptions): Queue<T>;
  /** `new SimpleQueue(options)`. */
  SimpleQueue<T = unknown>(options?: QueueOptions): SimpleQueue<T>;
  /** `new JoinableQueue(maxsize, options)`. */
  JoinableQueue<T = unknown>(maxsize?: number, options?: QueueOptions): JoinableQueue<T>;
  /** `new Lock()`. */
  Lock(): Lock;
  /** `new RLock()`. */
  RLock(): RLock;
  /** `new Semaphore(value)`. */
  Semaphore(value?: number): Semaphore;
  /** `new BoundedSemaphore(value)`. */
  BoundedSemaphore(value?: number): BoundedSemaphore;
  /** `new Condition(lock)`. */
  Condition(lock?: Lock | RLock | null): Condition;
  /** `new Event()`. */
  Event(): Event;
  /** `new Barrier(parties, options)`. */
  Barrier(parties: number, options?: BarrierOptions): Barrier;
  /** `new Value(typeOrCode, value, { lock: false })`: a `RawValue`. */
  Value<C extends TypeOrCode>(typeOrCode: C, value: InputOf<C> | undefined, options: { lock: false }): RawValue<C>;
  /** `new Value(typeOrCode, value, options)`: a value in shared memory guarded by a lock. */
  Value<C extends TypeOrCode>(typeOrCode: C, value?: InputOf<C>, options?: SynchronizedOptions): Value<C>;
  /** `new SharedArray(typeOrCode, n, { lock: false })`: a `RawArray` (Python's `ctx.Array(…, lock=False)`). */
  Array<C extends TypeOrCode>(typeOrCode: C, sizeOrInitializer: number | ArrayInit<C>, options: { lock: false }): RawArray<C>;
  /** `new SharedArray(typeOrCode, n, options)` (Python's `ctx.Array()`). */
  Array<C extends TypeOrCode>(typeOrCode: C, sizeOrInitializer: number | ArrayInit<C>, options?: SynchronizedOptions): SharedArray<C>;
  /** `new RawValue(typeOrCode, value)`. */
  RawValue<C extends TypeOrCode>(typeOrCode: C, value?: InputOf<C>): RawValue<C>;
  /** `new RawArray(typeOrCode, sizeOrInitializer)`. */
  RawArray<C extends TypeOrCode>(typeOrCode: C, sizeOrInitializer: number | ArrayInit<C>): RawArray<C>;
  /** `Pipe(duplex, options)`: two connected `Connection`s. */
  Pipe(duplex?: boolean, options?: PipeOptions): [Connection, Connection];
  /** `new Listener(options)`. */
  Listener(options?: ListenerOptions): Listener;
  /** `await Client(address, options)`. */
  Client(address: Address, options?: ClientOptions): Promise<Connection>;
  /** A `Pool` whose workers start with this context's start method. */
  Pool(options?: number | ContextPoolOptions | null): Pool;
  /** Starts a `SyncManager` whose server starts with this context's start method. */
  Manager(options?: ContextManagerOptions): Promise<SyncManager>;
}

/** What pools and processes of `context` start with (null: the default context, resolved at start). */
function launcherSource(context: BaseContext): LauncherSource | null {
  return context instanceof DefaultContext ? null : context;
}

// Plain functions (not class methods) so that all three context classes share them.
const factories: ContextFactories & ThisType<BaseContext> = {
  Queue<T>(maxsize?: number, options?: QueueOptions): Queue<T> {
    return new Queue<T>(maxsize, options);
  },
  SimpleQueue<T>(options?: QueueOptions): SimpleQueue<T> {
    return new SimpleQueue<T>(options);
  },
  JoinableQueue<T>(maxsize?: number, options?: QueueOptions): JoinableQueue<T> {
    return new JoinableQueue<T>(maxsize, options);
  },
  Lock: () => new Lock(),
  RLock: () => new RLock(),
  Semaphore: (value?: number) => new Semaphore(value),
  BoundedSemaphore: (value?: number) => new BoundedSemaphore(value),
  Condition: (lock?: Lock | RLock | null) => new Condition(lock),
  Event: () => new Event(),
  Barrier: (parties: number, options?: BarrierOptions) => new Barrier(parties, options),
  // `{ lock: false }` gives the raw object, which the overloads of ContextFactories describe.
  Value: (<C extends TypeOrCode>(typeOrCode: C, value?: InputOf<C>, options?: SynchronizedOptions) =>
    new Value(typeOrCode, value, options)) as ContextFactories['Value'],
  Array: (<C extends TypeOrCode>(typeOrCode: C, sizeOrInitializer: number | ArrayInit<C>, options?: SynchronizedOptions) =>
    new SharedArray(typeOrCode, sizeOrInitializer, options)) as ContextFactories['Array'],
  RawValue: <C extends TypeOrCode>(typeOrCode: C, value?: InputOf<C>) => new RawValue(typeOrCode, value),
  RawArray: <C extends TypeOrCode>(typeOrCode: C, sizeOrInitializer: number | ArrayInit<C>) => new RawArray(typeOrCode, sizeOrInitializer),
  Pipe: (duplex?: boolean, options?: PipeOptions) => Pipe(duplex, options),
  Listener: (options?: ListenerOptions) => new Listener(options),
  Client: (address: Address, options?: ClientOptions) => Client(address, options),
  Pool(this: BaseContext, options?: number | ContextPoolOptions | null): Pool {
    const context = launcherSource(this);
    if (options === undefined || options === null) return new Pool({ context });
    if (typeof options === 'number') return new Pool({ processes: options, context });
    // Anything else that is not an options object: the Pool's own check says what it takes.
    if (!isOptionsObject(options)) return new Pool(options);
    return new Pool({ ...options, context });
  },
  Manager(this: BaseContext, options: ContextManagerOptions = {}): Promise<SyncManager> {
    if (!isOptionsObject(options)) {
      return Promise.reject(new TypeError(`ctx.Manager(): options must be an object such as { authkey }, got ${describeArgument(options)}`));
    }
    return Manager({ ...options, ctx: this });
  },
};

/** A plain object (not an array, a string, a class instance…), as options are. */
function isOptionsObject(value: unknown): value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function describeArgument(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : typeof value === 'object' ? 'an object that is not a plain options object' : `${typeof value} ${String(value)}`;
}

function addFactories(target: { prototype: object }): void {
  for (const [name, fn] of Object.entries(factories)) {
    // Non-enumerable, like class methods.
    Object.defineProperty(target.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false });
  }
}

/** The context of `method` among this package's contexts (the same errors as `@mpjs/process`'s `getContext`). */
function contextOf(method: string): SpawnContext | ForkServerContext {
  // Validates the name and explains 'fork' and unknown methods.
  const name = processDefaultContext.getContext(method).getStartMethod() as StartMethod;
  return name === 'forkserver' ? forkserverContext : spawnContext;
}

/** Start method `spawn` with every factory: a fresh Node interpreter for every process. */
export class SpawnContext extends ProcessSpawnContext {
  /** The context of `method`, or this context when omitted. */
  override getContext(method: 'forkserver'): ForkServerContext;
  override getContext(method: 'spawn'): SpawnContext;
  override getContext(method?: string | null): SpawnContext | ForkServerContext;
  override getContext(method?: string | null): SpawnContext | ForkServerContext {
    return method === undefined || method === null ? this : contextOf(method);
  }
}
/** The factories of a spawn context. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface SpawnContext extends ContextFactories {}
addFactories(SpawnContext);

/** Start method `forkserver` with every factory: warm interpreters kept ready. */
export class ForkServerContext extends ProcessForkServerContext {
  /** The context of `method`, or this context when omitted. */
  override getContext(method: 'forkserver'): ForkServerContext;
  override getContext(method: 'spawn'): SpawnContext;
  override getContext(method?: string | null): SpawnContext | ForkServerContext;
  override getContext(method?: string | null): SpawnContext | ForkServerContext {
    return method === undefined || method === null ? this : contextOf(method);
  }
}
/** The factories of a forkserver context. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface ForkServerContext extends ContextFactories {}
addFactories(ForkServerContext);

/**
 * The module-level context with every factory. Its start method is the one of
 * `@mpjs/process`'s default context (one choice per program), resolved when a
 * process starts.
 */
export class DefaultContext extends BaseContext {
  /** Processes of the default context use whatever start method is set when they start. */
  protected override contextForProcesses(): LauncherSource | null {
    return null;
  }

  override launcher(): Launcher {
    return processDefaultContext.launcher();
  }

  /** Without a method: the context of the start method in use (fixing the default if none was set). */
  override getContext(method: 'forkserver'): ForkServerContext;
  override getContext(method: 'spawn'): SpawnContext;
  override getContext(method?: string | null): SpawnContext | ForkServerContext;
  override getContext(method?: string | null): SpawnContext | ForkServerContext {
    return contextOf(method ?? (processDefaultContext.getStartMethod() as StartMethod));
  }

  /** Sets the program's start method: at most once, unless `force` is given (`null` with `force` unsets it). */
  override setStartMethod(method: string | null, options?: SetStartMethodOptions): void {
    processDefaultContext.setStartMethod(method, options);
  }

  /** The start method in use; fixes the default unless `allowNone`, which returns null when none was set. */
  override getStartMethod(allowNone = false): StartMethod | null {
    return processDefaultContext.getStartMethod(allowNone);
  }
}
/** The factories of the default context. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface DefaultContext extends ContextFactories {}
addFactories(DefaultContext);

const spawnContext = new SpawnContext();
const forkserverContext = new ForkServerContext();

/** Any context of this package: every factory of the module, bound to a start method. */
export type Context = SpawnContext | ForkServerContext | DefaultContext;

/** The default context of this package (Python's `multiprocessing` module itself is one). */
export const defaultContext: DefaultContext = new DefaultContext();

/**
 * Python's `get_context()`: the context of `method` ('spawn' or 'forkserver'),
 * or, without one, the context of the start method in use (fixing the default).
 */
export function getContext(method: 'forkserver'): ForkServerContext;
export function getContext(method: 'spawn'): SpawnContext;
export function getContext(method?: string | null): SpawnContext | ForkServerContext;
export function getContext(method?: string | null): SpawnContext | ForkServerContext {
  return defaultContext.getContext(method);
}
