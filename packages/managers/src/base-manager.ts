/**
 * `BaseManager` (Python's `multiprocessing.managers.BaseManager`): starts a
 * server process, or connects to a running server, and makes shared objects
 * of registered type ids, returning proxies.
 */
import { existsSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Pipe, type Address, type Authkey, type Connection } from '@mpjs/connection';
import { Process, currentProcess, type BaseContext } from '@mpjs/process';
import { ProcessError, ValueError, getLogger } from '@mpjs/util';
import { dropConnections, serverCall } from './dispatch.js';
import { BaseProxy, buildProxy, type ProxyClass, type ProxyFactory } from './proxy.js';
import { Server, type Callable, type ServerRegistry } from './server.js';
import { forgetServer } from './release.js';
import { runManagerServer } from './server-process.js';

/** Options of `register()`. */
export interface RegisterOptions {
  /** The proxy class (default: an auto-generated proxy exposing the referent's public methods). */
  proxytype?: ProxyClass | null;
  /** Method names proxies may call (default: the proxy class's `_exposed_`, else every public method). */
  exposed?: readonly string[] | null;
  /** Methods whose results come back as proxies of the given type id. */
  methodToTypeid?: Record<string, string> | null;
  /** Add a method named `typeid` to the manager class (default true). */
  createMethod?: boolean;
}

/** A registered type id. */
export interface RegistryEntry {
  readonly callable: Callable | null;
  readonly exposed: readonly string[] | null;
  readonly methodToTypeid: Readonly<Record<string, string>> | null;
  readonly proxytype: ProxyClass | null;
}

/** Options of a manager. */
export interface ManagerOptions {
  /** Where the server listens: a socket path or `['127.0.0.1', port]`; default: a fresh AF_UNIX path. */
  address?: Address | null;
  /** Key clients must know; default: the current process's `authkey`. */
  authkey?: Authkey | null;
  /** The context whose `Process` runs the server (default: the default context). */
  ctx?: BaseContext | null;
  /** How long `shutdown()` waits for the server process before terminating it, in ms (default 1000). */
  shutdownTimeout?: number;
}

type State = 'initial' | 'started' | 'connected' | 'shutdown';

/** Promise-returning versions of a class's methods: the shape of an auto-generated proxy. */
export type AutoProxy<T> = BaseProxy & {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [K in keyof T as T[K] extends (...args: any[]) => unknown ? K : never]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

/**
 * Removes the socket file and private directory the server chose, when it
 * could not (it was terminated before it closed its listener).
 */
function removeSocket(requested: Address | null, bound: Address): void {
  if (requested !== null || typeof bound !== 'string') return;
  const dir = dirname(bound);
  if (!basename(dir).startsWith('mpjs-') || !existsSync(bound)) return;
  rmSync(dir, { recursive: true, force: true });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' || typeof value === 'function' ? `a ${typeof value}` : `${typeof value} ${String(value)}`;
}

function checkKnown(what: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`${what}: unknown option '${key}'; the options are ${known.join(', ')}`);
  }
}

const REGISTER_OPTIONS = ['proxytype', 'exposed', 'methodToTypeid', 'createMethod'] as const;

/** Checks `register()`'s options, so a mistake fails here rather than in the server or at the first call. */
function checkRegisterOptions(typeid: string, options: unknown): asserts options is RegisterOptions {
  const what = `register('${typeid}', callable, options)`;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${what}: options must be an object such as { proxytype, exposed }, got ${describe(options)}`);
  }
  checkKnown(what, options, REGISTER_OPTIONS);
  const o = options as RegisterOptions;
  if (o.proxytype !== undefined && o.proxytype !== null && !(typeof o.proxytype === 'function' && o.proxytype.prototype instanceof BaseProxy)) {
    throw new TypeError(`${what}: proxytype must be a subclass of BaseProxy (or null), got ${describe(o.proxytype)}`);
  }
  if (o.exposed !== undefined && o.exposed !== null && (!Array.isArray(o.exposed) || !o.exposed.every((name) => typeof name === 'string' && name.length > 0))) {
    throw new TypeError(`${what}: exposed must be an array of method names such as ['add'], got ${describe(o.exposed)}`);
  }
  const mtt = o.methodToTypeid;
  if (mtt !== undefined && mtt !== null && (typeof mtt !== 'object' || Array.isArray(mtt) || !Object.values(mtt).every((t) => typeof t === 'string'))) {
    throw new TypeError(`${what}: methodToTypeid must map method names to type ids, such as { child: 'Counter' }, got ${describe(mtt)}`);
  }
  if (o.createMethod !== undefined && typeof o.createMethod !== 'boolean') {
    throw new TypeError(`${what}: createMethod must be a boolean, got ${describe(o.createMethod)}`);
  }
}

const MANAGER_OPTIONS = ['address', 'authkey', 'ctx', 'shutdownTimeout'] as const;

/** Checks a manager's options, so a mistake fails at construction rather than in the server process. */
function checkManagerOptions(name: string, options: unknown): asserts options is ManagerOptions {
  const what = `new ${name}(options)`;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${what}: options must be an object such as { address, authkey }, got ${describe(options)}`);
  }
  checkKnown(what, options, MANAGER_OPTIONS);
  const o = options as ManagerOptions;
  const address = o.address;
  if (address !== undefined && address !== null) {
    const inet = Array.isArray(address) && address.length === 2 && typeof address[0] === 'string' && Number.isInteger(address[1]);
    if (!inet && !(typeof address === 'string' && address.length > 0)) {
      throw new TypeError(`${what}: address must be a socket path or ['host', port], such as ['127.0.0.1', 50000], got ${describe(address)}`);
    }
  }
  const key = o.authkey;
  if (key !== undefined && key !== null && typeof key !== 'string' && !(key instanceof Uint8Array)) {
    throw new TypeError(`${what}: authkey must be a string or a Buffer, got ${describe(key)}`);
  }
  if (o.ctx !== undefined && o.ctx !== null && typeof (o.ctx as Partial<BaseContext>).Process !== 'function') {
    throw new TypeError(`${what}: ctx must be a context such as getContext('spawn'), got ${describe(o.ctx)}`);
  }
  const timeout = o.shutdownTimeout;
  if (timeout !== undefined) {
    if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
      throw new TypeError(`${what}: shutdownTimeout must be a number of milliseconds, got ${describe(timeout)}`);
    }
    if (timeout < 0) throw new ValueError(`${what}: shutdownTimeout must be 0 or more milliseconds, got ${timeout}`);
  }
}

function toBuffer(key: Authkey): Buffer {
  return typeof key === 'string' ? Buffer.from(key) : Buffer.from(key);
}

/**
 * A manager. Subclass it and `register()` type ids, then `await start()` (a
 * server process) or `await connect()` (a running server), and call the
 * type ids as methods: `await manager.Maths()` resolves with a proxy.
 */
export class BaseManager implements ProxyFactory, AsyncDisposable {
  /** Type ids registered on this class (copied from the parent on first `register`). */
  static _registry: Map<string, RegistryEntry> = new Map();

  /**
   * Registers `typeid` on this manager class: `callable` (an exported class
   * or function, called in the server) makes the object; a method named
   * `typeid` is added to the class unless `createMethod` is false.
   */
  static register(typeid: string, callable: Callable | null = null, options: RegisterOptions = {}): void {
    if (typeof typeid !== 'string' || typeid.length === 0) throw new TypeError(`register(): typeid must be a non-empty string, got ${describe(typeid)}`);
    if (callable !== null && callable !== undefined && typeof callable !== 'function') {
      throw new TypeError(`register('${typeid}'): callable must be a function or a class (or null), got ${describe(callable)}`);
    }
    callable ??= null;
    checkRegisterOptions(typeid, options);
    if (!Object.hasOwn(this, '_registry')) this._registry = new Map(this._registry);
    const proxytype = options.proxytype ?? null;
    const exposed = options.exposed ?? proxytype?._exposed_ ?? null;
    const methodToTypeid = options.methodToTypeid ?? proxytype?._methodToTypeid_ ?? null;
    this._registry.set(typeid, { callable, exposed: exposed ? [...exposed] : null, methodToTypeid, proxytype });
    if (options.createMethod ?? true) {
      Object.defineProperty(this.prototype, typeid, {
        value(this: BaseManager, ...args: unknown[]) {
          return this.create(typeid, ...args);
        },
        writable: true,
        configurable: true,
      });
    }
  }

  readonly #address: Address | null;
  readonly #authkey: Buffer;
  readonly #ctx: BaseContext | null;
  readonly #shutdownTimeout: number;
  #state: State = 'initial';
  #process: Process | null = null;
  /** The private pipe to the server process started by `start()`. */
  #control: Connection | null = null;
  #boundAddress: Address | null = null;

  constructor(options: ManagerOptions = {}) {
    checkManagerOptions(this.constructor.name, options);
    this.#address = options.address ?? null;
    this.#authkey = options.authkey !== undefined && options.authkey !== null ? toBuffer(options.authkey) : Buffer.from(currentProcess().authkey);
    this.#ctx = options.ctx ?? null;
    this.#shutdownTimeout = options.shutdownTimeout ?? 1000;
  }

  /** The server's address (the bound one once started). */
  get address(): Address | null {
    return this.#boundAddress ?? this.#address;
  }

  /** The key of the server. */
  get authkey(): Buffer {
    return this.#authkey;
  }

  /** The server process started by `start()`, if any. */
  get process(): Process | null {
    return this.#process;
  }

  #registry(): Map<string, RegistryEntry> {
    return (this.constructor as typeof BaseManager)._registry;
  }

  /** The proxy class registered for `typeid`. */
  proxyTypeFor(typeid: string): ProxyClass | undefined {
    return this.#registry().get(typeid)?.proxytype ?? undefined;
  }

  #serverRegistry(): ServerRegistry {
    const out: ServerRegistry = {};
    for (const [typeid, entry] of this.#registry()) {
      out[typeid] = { callable: entry.callable, exposed: entry.exposed, methodToTypeid: entry.methodToTypeid };
    }
    return out;
  }

  /**
   * Starts the server in a new process; `initializer(...initargs)` runs there
   * first. The server process ends with this process, or on `shutdown()`.
   */
  async start(initializer: ((...args: never[]) => unknown) | null = null, initargs: unknown[] = []): Promise<void> {
    if (this.#state !== 'initial') throw new ProcessError(`cannot start a manager that is ${this.#state}; make a new manager`);
    if (initializer !== null && typeof initializer !== 'function') throw new TypeError('initializer must be a function');
    this.#state = 'started';
    // A private pipe: the server reports its address on it, then takes `shutdown` from it
    // (no connection or handshake needed to stop it) and stops if it ends.
    const [control, serverEnd] = Pipe();
    const options = {
      target: runManagerServer,
      args: [this.#serverRegistry(), this.#address, this.#authkey, serverEnd, initializer, initargs],
      daemon: true,
    };
    const proc = this.#ctx ? this.#ctx.Process(options) : new Process(options);
    // Named as Python names it: the manager's class and the process's identity (`SyncManager-1`).
    proc.name = `${this.constructor.name}-${proc.name.slice(proc.name.lastIndexOf('-') + 1)}`;
    this.#process = proc;
    try {
      proc.start();
    } catch (error) {
      this.#state = 'shutdown';
      control.close();
      serverEnd.close();
      throw error;
    }
    serverEnd.close();
    let message: unknown;
    try {
      message = await control.recv();
    } catch (error) {
      control.close();
      await proc.join(this.#shutdownTimeout);
      this.#state = 'shutdown';
      throw new ProcessError(`the manager's server process ended (exit code ${String(proc.exitcode)}) before it was ready`, { cause: error });
    }
    const [status, value] = message as ['ok' | 'error', unknown];
    if (status !== 'ok') {
      control.close();
      await proc.join(this.#shutdownTimeout);
      this.#state = 'shutdown';
      throw value;
    }
    this.#control = control;
    this.#boundAddress = value as Address;
  }

  /**
   * Makes a server for this manager's type ids in this process (Python's
   * `get_server()`); `await server.serveForever()` runs it.
   */
  getServer(): Server {
    if (this.#state !== 'initial') throw new ProcessError(`cannot make a server for a manager that is ${this.#state}`);
    return new Server(this.#serverRegistry(), { address: this.#address, authkey: this.#authkey });
  }

  /** Connects to a running server at `address` (checks the key). */
  async connect(): Promise<void> {
    if (this.#state !== 'initial') throw new ProcessError(`cannot connect a manager that is ${this.#state}`);
    if (this.#address === null) throw new ValueError('connect() needs the server address: new Manager({ address, authkey })');
    await serverCall(this.#address, this.#authkey, 'dummy');
    this.#boundAddress = this.#address;
    this.#state = 'connected';
  }

  #checkUsable(): Address {
    if (this.#state === 'initial') throw new ProcessError('the manager is not started: await manager.start() or manager.connect() first');
    if (this.#state === 'shutdown') throw new ProcessError('the manager has been shut down');
    return this.#boundAddress!;
  }

  /**
   * Makes an object of `typeid` in the server with `args` and resolves with
   * its proxy (what the method named `typeid` does).
   */
  async create(typeid: string, ...args: unknown[]): Promise<BaseProxy> {
    const address = this.#checkUsable();
    const [exposed, id] = (await serverCall(address, this.#authkey, 'create', [typeid, args])) as [string[], string];
    return buildProxy({ typeid, address, id }, exposed, this.#authkey, this, false);
  }

  /** How many objects the server holds (Python's `_number_of_objects()`). */
  async _numberOfObjects(): Promise<number> {
    return (await serverCall(this.#checkUsable(), this.#authkey, 'numberOfObjects')) as number;
  }

  /** Type id and reference count of every object the server holds (Python's `_debug_info()`). */
  async _debugInfo(): Promise<Record<string, string>> {
    return (await serverCall(this.#checkUsable(), this.#authkey, 'debugInfo')) as Record<string, string>;
  }

  /**
   * Stops the server process started by `start()` (waits for it, then
   * terminates it if needed); for a connected manager, closes its connections.
   * Calling it again does nothing.
   */
  async shutdown(): Promise<void> {
    const state = this.#state;
    if (state === 'shutdown' || state === 'initial') {
      this.#state = 'shutdown';
      return;
    }
    this.#state = 'shutdown';
    const address = this.#boundAddress!;
    if (state === 'started' && this.#process) {
      const proc = this.#process;
      const control = this.#control;
      this.#control = null;
      getLogger().info('sending shutdown message to manager');
      try {
        control?.send('shutdown');
        await control?.flush();
      } catch {
        // The server is gone already; the join below reaps it.
      }
      control?.close();
      dropConnections(address);
      // Its objects are gone with it: the proxies left have nothing to give back.
      forgetServer(address);
      await proc.join(this.#shutdownTimeout);
      if (proc.exitcode === null) {
        getLogger().info('manager still alive after shutdown; terminating it');
        proc.terminate();
        await proc.join(this.#shutdownTimeout);
        if (proc.exitcode === null) {
          getLogger().info('manager still alive after terminate(); killing it');
          proc.kill();
          await proc.join();
        }
      }
      removeSocket(this.#address, address);
    } else {
      dropConnections(address);
    }
  }

  /** `await using manager = …` shuts it down at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

