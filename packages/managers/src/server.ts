/**
 * `Server`: the object store of a manager (Python's `managers.Server`). It
 * holds objects by id with reference counts and serves requests from proxies
 * on authenticated connections, each connection in its own async loop.
 */
import { inspect } from 'node:util';
import { Listener, type Address, type Connection } from '@mpjs/connection';
import { AuthenticationError, EOFError, ProtocolError, getLogger } from '@mpjs/util';
import type { ReplyKind, Request } from './dispatch.js';
import { formatValue } from './format.js';
import { addressKey, releaseSymbol, serverStopSymbol } from './token.js';

/** A function or class the server calls to make a shared object. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Callable = ((...args: any[]) => unknown) | (new (...args: any[]) => unknown);

/** What the server knows of a type id. */
export interface ServerTypeEntry {
  /** Makes the object (a class is called with `new`); null for a client-only registration. */
  callable: Callable | null;
  /** Method names proxies may call; null: every public method of the object. */
  exposed: readonly string[] | null;
  /** Methods whose results are returned as proxies of the given type id. */
  methodToTypeid: Readonly<Record<string, string>> | null;
}

/** The type ids a server can create, by name. */
export type ServerRegistry = Record<string, ServerTypeEntry>;

interface Held {
  readonly obj: unknown;
  readonly exposed: ReadonlySet<string>;
  readonly methodToTypeid: Readonly<Record<string, string>> | null;
  readonly typeid: string;
  refcount: number;
}

/** Methods every object answers, exposed or not (Python's fallback mapping). */
const FALLBACK = new Set(['__str__', '__repr__', '#GETVALUE']);

/** Servers running in this process, by address: proxies decoded here use them directly. */
const localServers = new Map<string, Server>();

/** The server of this process listening at `address`, if any. */
export function localServer(address: Address): Server | undefined {
  return localServers.get(addressKey(address));
}

function isClass(fn: Callable): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/** Public method names of an object: functions on it and its prototypes, not starting with `_`. */
export function publicMethods(obj: unknown): string[] {
  const names = new Set<string>();
  if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) return [];
  for (let o: object | null = obj as object; o !== null && o !== Object.prototype && o !== Function.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name === 'constructor' || name.startsWith('_')) continue;
      const desc = Object.getOwnPropertyDescriptor(o, name);
      if (desc && typeof desc.value === 'function') names.add(name);
    }
  }
  return [...names];
}

/** Options of a {@link Server}. */
export interface ServerOptions {
  /** Where to listen: a socket path or `['127.0.0.1', port]`; default: a fresh AF_UNIX path. */
  address?: Address | null;
  /** Key every client must prove it knows. */
  authkey: Buffer;
}

/**
 * The manager's object store and request loop. Made by `manager.getServer()`
 * (or in the process `manager.start()` launches); `await serveForever()` runs
 * it until a client asks for `shutdown`.
 */
export class Server {
  readonly #registry: ServerRegistry;
  readonly #listener: Listener;
  readonly #objects = new Map<string, Held>();
  readonly #ids = new WeakMap<object, string>();
  readonly #connections = new Set<Connection>();
  #nextId = 1;
  #stopped = false;
  #stop!: () => void;
  readonly #stoppedPromise = new Promise<void>((resolve) => (this.#stop = resolve));
  #serving = false;

  constructor(registry: ServerRegistry, options: ServerOptions) {
    this.#registry = registry;
    this.#listener = new Listener({ address: options.address ?? undefined, authkey: options.authkey, backlog: 64 });
  }

  /** Resolves with the bound address (needed for TCP port 0). */
  async ready(): Promise<Address> {
    await this.#listener.ready();
    return this.#listener.address;
  }

  /** The address clients connect to (after `ready()` for TCP port 0). */
  get address(): Address {
    return this.#listener.address;
  }

  /** How many objects the server holds (Python's `_number_of_objects()`). */
  numberOfObjects(): number {
    return this.#objects.size;
  }

  /** `{ id: 'typeid refcount=N' }` for every held object (Python's `_debug_info()`). */
  debugInfo(): Record<string, string> {
    const info: Record<string, string> = {};
    for (const [id, held] of this.#objects) info[id] = `${held.typeid}: refcount=${held.refcount}`;
    return info;
  }

  /**
   * Accepts and serves connections until a client sends `shutdown` (or
   * `stop()` is called), then closes every connection and the listener.
   */
  async serveForever(): Promise<void> {
    if (this.#serving) throw new ProtocolError('serveForever() is already running on this server');
    this.#serving = true;
    const address = await this.ready();
    localServers.set(addressKey(address), this);
    // The listener does not keep the event loop alive by itself; a server must.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    void this.#acceptLoop();
    await this.#stoppedPromise;
    clearInterval(keepAlive);
    localServers.delete(addressKey(address));
    this.#listener.close();
    for (const connection of this.#connections) connection.close();
    await Promise.allSettled([...this.#objects.values()].map(async ({ obj }) => {
      const onStop = (obj as { [serverStopSymbol]?: () => unknown } | null)?.[serverStopSymbol];
      if (typeof onStop === 'function') await onStop.call(obj);
    }));
  }

  /** Stops `serveForever()`. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stop();
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#stopped) {
      let connection: Connection;
      try {
        connection = await this.#listener.accept();
      } catch (error) {
        if (this.#stopped || this.#listener.closed) return;
        if (error instanceof AuthenticationError) {
          getLogger().debug(`manager server refused a client: ${error.message}`);
          continue;
        }
        getLogger().debug(`manager server: accept failed: ${String(error)}`);
        continue;
      }
      void this.#serveClient(connection);
    }
  }

  async #serveClient(connection: Connection): Promise<void> {
    this.#connections.add(connection);
    try {
      for (;;) {
        let request: unknown;
        try {
          request = await connection.recv();
        } catch (error) {
          if (error instanceof EOFError || connection.closed) return;
          // A message that cannot be decoded: tell the client, keep serving.
          this.#reply(connection, '#TRACEBACK', stackOf(error));
          continue;
        }
        const [kind, value] = await this.#handle(request);
        this.#reply(connection, kind, value);
        if (this.#stopped) return;
      }
    } finally {
      this.#connections.delete(connection);
      if (this.#stopped) connection.close();
    }
  }

  #reply(connection: Connection, kind: ReplyKind, value: unknown): void {
    if (connection.closed) return;
    try {
      connection.send([kind, value]);
    } catch (error) {
      try {
        connection.send(['#TRACEBACK', `cannot send the result: ${stackOf(error)}`]);
      } catch {
        connection.close();
      }
    }
  }

  async #handle(request: unknown): Promise<[ReplyKind, unknown]> {
    if (!Array.isArray(request) || request.length !== 4 || typeof request[1] !== 'string') {
      return ['#TRACEBACK', `invalid request: ${inspect(request)}`];
    }
    const [id, method, args, kwds] = request as Request;
    const argv = Array.isArray(args) ? [...args] : [];
    if (kwds !== null && kwds !== undefined && Object.keys(kwds).length > 0) argv.push(kwds);
    if (id === null) return this.#handleServerCall(method, argv);
    const held = this.#objects.get(id);
    if (!held) return ['#TRACEBACK', new ProtocolError(`unknown object id ${id}: it was released or never existed`).stack];
    if (!held.exposed.has(method) && !FALLBACK.has(method)) {
      return [
        '#TRACEBACK',
        new TypeError(
          `method '${method}' of shared object of type '${held.typeid}' is not exposed; ` +
            `exposed: ${[...held.exposed].join(', ') || '(none)'} (list it in register(..., { exposed }))`,
        ).stack,
      ];
    }
    let result: unknown;
    try {
      result = await this.#invoke(held, method, argv);
    } catch (error) {
      return ['#ERROR', error];
    }
    const typeid = held.methodToTypeid?.[method];
    if (typeid !== undefined) {
      try {
        return ['#PROXY', this.#store(typeid, result)];
      } catch (error) {
        return ['#TRACEBACK', stackOf(error)];
      }
    }
    return ['#RETURN', result];
  }

  async #invoke(held: Held, method: string, argv: unknown[]): Promise<unknown> {
    const obj = held.obj as Record<string, unknown>;
    if (method === '#GETVALUE') {
      return typeof obj?._getvalue === 'function' ? (obj._getvalue as () => unknown).call(obj) : obj;
    }
    if (method === '__str__' || method === '__repr__') {
      const own = obj !== null && typeof obj === 'object' && obj.toString !== Object.prototype.toString;
      return own ? String(obj) : formatValue(obj);
    }
    const fn = obj[method];
    if (typeof fn !== 'function') {
      // An exposed name that is a plain property: return its value (no arguments) or set it.
      if (argv.length === 0) return fn;
      throw new TypeError(`'${method}' of shared object of type '${held.typeid}' is not a method`);
    }
    return await (fn as (...a: unknown[]) => unknown).apply(obj, argv);
  }

  #store(typeid: string, obj: unknown): [exposed: string[], id: string, typeid: string] {
    const entry = this.#registry[typeid];
    const exposed = entry?.exposed ? [...entry.exposed] : publicMethods(obj);
    const existing = obj !== null && typeof obj === 'object' ? this.#ids.get(obj) : undefined;
    if (existing !== undefined && this.#objects.has(existing)) {
      this.#objects.get(existing)!.refcount++;
      return [exposed, existing, typeid];
    }
    const id = (this.#nextId++).toString(16);
    if (obj !== null && typeof obj === 'object') this.#ids.set(obj, id);
    this.#objects.set(id, { obj, exposed: new Set(exposed), methodToTypeid: entry?.methodToTypeid ?? null, typeid, refcount: 1 });
    return [exposed, id, typeid];
  }

  async #handleServerCall(method: string, argv: unknown[]): Promise<[ReplyKind, unknown]> {
    try {
      switch (method) {
        case 'create': {
          const [typeid, args] = argv as [string, unknown[]];
          const entry = this.#registry[typeid];
          if (!entry) throw new TypeError(`the manager has no type id '${typeid}'; register it with Manager.register('${typeid}', callable)`);
          if (!entry.callable) {
            throw new TypeError(`type id '${typeid}' was registered without a callable in the server process; register it with a callable there`);
          }
          const callable = entry.callable;
          const obj = isClass(callable)
            ? new (callable as new (...a: unknown[]) => unknown)(...(args ?? []))
            : await (callable as (...a: unknown[]) => unknown)(...(args ?? []));
          return ['#RETURN', this.#store(typeid, obj)];
        }
        case 'incref':
          this.incref(argv[0] as string);
          return ['#RETURN', null];
        case 'decref':
          this.decref(argv[0] as string);
          return ['#RETURN', null];
        case 'dummy':
          return ['#RETURN', null];
        case 'numberOfObjects':
          return ['#RETURN', this.numberOfObjects()];
        case 'debugInfo':
          return ['#RETURN', this.debugInfo()];
        case 'shutdown':
          this.stop();
          return ['#RETURN', null];
        default:
          return ['#TRACEBACK', new TypeError(`unknown server function '${method}'`).stack];
      }
    } catch (error) {
      return ['#ERROR', error];
    }
  }

  /** Adds a reference to object `id`. */
  incref(id: string): void {
    const held = this.#objects.get(id);
    if (!held) throw new ProtocolError(`incref: unknown object id ${id} (it was already released)`);
    held.refcount++;
  }

  /** Drops a reference to object `id`; the object is freed at zero. */
  decref(id: string): void {
    const held = this.#objects.get(id);
    if (!held) return;
    if (--held.refcount <= 0) {
      this.#objects.delete(id);
      // Python frees nested proxies at once by reference counting; here the
      // server releases the proxies the freed object holds instead of waiting for its GC.
      releaseNested(held.obj, new Set());
    }
  }
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

function releaseNested(value: unknown, seen: Set<object>): void {
  if (value === null || typeof value !== 'object' || seen.has(value) || seen.size > 100_000) return;
  seen.add(value);
  const release = (value as { [releaseSymbol]?: () => void })[releaseSymbol];
  if (typeof release === 'function') {
    release.call(value);
    return;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      releaseNested(k, seen);
      releaseNested(v, seen);
    }
  } else if (value instanceof Set || Array.isArray(value)) {
    for (const v of value as Iterable<unknown>) releaseNested(v, seen);
  } else if (!ArrayBuffer.isView(value)) {
    for (const v of Object.values(value)) releaseNested(v, seen);
  }
}
