/**
 * `Server`: the object store of a manager (Python's `managers.Server`). It
 * holds objects by id with reference counts and serves requests from proxies
 * on authenticated connections, each connection in its own async loop.
 */
import { inspect } from 'node:util';
import { Listener, type Address, type Connection } from '@mpjs/connection';
import { defaultCodec, decodeWhenReady } from '@mpjs/serialization';
import { AuthenticationError, EOFError, ProtocolError, getLogger, randomBytes } from '@mpjs/util';
import { CANCEL, callOf, frame, type ReplyKind, type Request } from './dispatch.js';
import { formatValue } from './format.js';
import { addressKey, callerGoneReason, releaseSymbol, serverStopSymbol, undeliveredSymbol } from './token.js';

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
  /**
   * Made by the server itself (a registered class called with `new`) and held
   * by it alone: the proxies inside can be released when it is freed. An
   * object a registered function or a method returned may live on elsewhere.
   */
  readonly owned: boolean;
  refcount: number;
}

/** What handling a request came to, and how to undo it if the reply cannot be delivered. */
interface Outcome {
  kind: ReplyKind;
  value: unknown;
  undo?: () => void;
}

/** A call being served on a connection. */
interface ActiveCall {
  /** Aborted when the caller gives up or goes (calls that wait only). */
  controller: AbortController | null;
  /** Answered `#CANCELLED` already: the result, when it comes, is undone. */
  cancelled: boolean;
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

/**
 * The address a server listens on when none is given: on Linux an abstract
 * AF_UNIX name (a leading NUL: nothing on disk, so nothing is left behind
 * whichever way the server ends, as CPython's forkserver does), elsewhere
 * a fresh socket path chosen by the Listener.
 */
function defaultAddress(): Address | undefined {
  return process.platform === 'linux' ? `\0mpjs-manager-${process.pid}-${randomBytes(8).toString('hex')}` : undefined;
}

/** How long a proxy sent by its own server is kept alive, so the receiver's incref finds its object (ms). */
const RETAIN_SENT_MS = 5000;

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
  /**
   * Where to listen: a socket path or `['127.0.0.1', port]`; default: on
   * Linux an abstract AF_UNIX name (nothing on disk), elsewhere a fresh
   * AF_UNIX path.
   */
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
  readonly #connections = new Map<Connection, Map<number, ActiveCall>>();
  #nextId = 1;
  #stopped = false;
  #stop!: () => void;
  readonly #stoppedPromise = new Promise<void>((resolve) => (this.#stop = resolve));
  #serving = false;
  /** Proxies this server sent lately, two generations (see {@link Server.retainBriefly}). */
  #sent: [Set<object>, Set<object>] = [new Set(), new Set()];
  #sentTimer: NodeJS.Timeout | null = null;

  constructor(registry: ServerRegistry, options: ServerOptions) {
    this.#registry = registry;
    const address = options.address ?? defaultAddress();
    this.#listener = new Listener({ address, authkey: options.authkey, backlog: 64 });
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

  /** Whether the server holds an object of id `id`. */
  hasObject(id: string): boolean {
    return this.#objects.has(id);
  }

  /** The object of id `id` (what a proxy of this server stands for inside it). */
  referentOf(id: string): unknown {
    const held = this.#objects.get(id);
    if (!held) throw new ProtocolError(`unknown object id ${id}: it was released or never existed`);
    return held.obj;
  }

  /**
   * Keeps `proxy` alive for a few seconds. A proxy of this server that it
   * sends (the result of a queue's `get`, say) may be its object's last
   * reference here; the receiver adds its own once the reply arrives, and the
   * object must still exist then.
   */
  retainBriefly(proxy: object): void {
    this.#sent[0].add(proxy);
    if (this.#sentTimer) return;
    this.#sentTimer = setInterval(() => {
      this.#sent = [new Set(), this.#sent[0]];
      if (this.#sent[1].size === 0 && this.#sent[0].size === 0 && this.#sentTimer) {
        clearInterval(this.#sentTimer);
        this.#sentTimer = null;
      }
    }, RETAIN_SENT_MS);
    this.#sentTimer.unref();
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
    // Let the reply to a `shutdown` request go out first.
    await new Promise((resolve) => setImmediate(resolve));
    clearInterval(keepAlive);
    if (this.#sentTimer) clearInterval(this.#sentTimer);
    this.#sentTimer = null;
    this.#sent = [new Set(), new Set()];
    localServers.delete(addressKey(address));
    this.#listener.close();
    for (const connection of [...this.#connections.keys()]) this.#dropConnection(connection);
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
      if (this.#stopped) {
        connection.close();
        return;
      }
      void this.#serveClient(connection);
    }
  }

  /**
   * Reads a connection's calls and starts each as it arrives, in order; they
   * run concurrently and are answered as they finish.
   */
  async #serveClient(connection: Connection): Promise<void> {
    const active = new Map<number, ActiveCall>();
    this.#connections.set(connection, active);
    try {
      while (!this.#stopped) {
        let bytes: Buffer;
        try {
          bytes = await connection.recvBytes();
        } catch (error) {
          if (!(error instanceof EOFError) && !connection.closed) getLogger().debug(`manager server: a connection failed: ${String(error)}`);
          return;
        }
        let call: number;
        try {
          call = callOf(bytes);
        } catch (error) {
          getLogger().debug(`manager server: ${String(error)}; closing the connection`);
          return;
        }
        let message: unknown;
        try {
          message = decodeWhenReady(defaultCodec, bytes.subarray(4));
          if (message instanceof Promise) message = await message;
        } catch (error) {
          // A message that cannot be decoded: tell the client, keep serving.
          this.#send(connection, call, '#TRACEBACK', `cannot decode the request: ${stackOf(error)}`);
          continue;
        }
        if (message === CANCEL) this.#cancel(connection, active, call);
        else this.#run(connection, active, call, message);
      }
    } finally {
      this.#dropConnection(connection);
    }
  }

  /** The caller is gone: its calls are given up (results they would have had are undone), the connection closed. */
  #dropConnection(connection: Connection): void {
    const active = this.#connections.get(connection);
    this.#connections.delete(connection);
    connection.close();
    if (!active) return;
    for (const entry of active.values()) {
      entry.cancelled = true;
      entry.controller?.abort(callerGoneReason());
    }
    active.clear();
  }

  #cancel(connection: Connection, active: Map<number, ActiveCall>, call: number): void {
    const entry = active.get(call);
    // Answered already: the caller takes that answer.
    if (!entry) return;
    active.delete(call);
    entry.cancelled = true;
    entry.controller?.abort(new DOMException('the caller gave this manager call up', 'AbortError'));
    this.#send(connection, call, '#CANCELLED', null);
  }

  /**
   * Runs one call. A call whose method returns at once (a dict's `set`) is
   * answered before the connection is read again: reading again first would
   * poll for the caller's next call while the caller still waits for this
   * answer. A call whose method returns a promise is answered when it settles.
   */
  #run(connection: Connection, active: Map<number, ActiveCall>, call: number, request: unknown): void {
    const entry: ActiveCall = { controller: null, cancelled: false };
    active.set(call, entry);
    let outcome: Outcome | Promise<Outcome>;
    try {
      outcome = this.#handle(request, entry);
    } catch (error) {
      outcome = { kind: '#TRACEBACK', value: stackOf(error) };
    }
    if (outcome instanceof Promise) {
      outcome.then(
        (settled) => this.#finish(connection, active, call, entry, settled),
        (error: unknown) => this.#finish(connection, active, call, entry, { kind: '#TRACEBACK', value: stackOf(error) }),
      );
    } else {
      this.#finish(connection, active, call, entry, outcome);
    }
  }

  /** Answers a call that has run, or undoes what it took when its caller gave it up or went. */
  #finish(connection: Connection, active: Map<number, ActiveCall>, call: number, entry: ActiveCall, outcome: Outcome): void {
    if (entry.cancelled) {
      // Answered #CANCELLED (or the caller went): what the call took goes back.
      this.#undo(outcome);
      return;
    }
    active.delete(call);
    if (!this.#send(connection, call, outcome.kind, outcome.value)) this.#undo(outcome);
  }

  #undo(outcome: Outcome): void {
    try {
      outcome.undo?.();
    } catch (error) {
      getLogger().debug(`manager server: undoing an undelivered result failed: ${String(error)}`);
    }
  }

  /**
   * Sends a reply; false when the caller is gone (the connection failed). A
   * value that cannot travel is answered with `#TRACEBACK` instead, which
   * counts as delivered: the caller learns what went wrong.
   */
  #send(connection: Connection, call: number, kind: ReplyKind, value: unknown): boolean {
    if (connection.closed) return false;
    let body: Uint8Array;
    try {
      const context = { handles: [] };
      body = defaultCodec.encode([kind, value], context);
      if (context.handles.length > 0) {
        throw new TypeError(
          'the result holds an OS handle (a Queue, a Connection, a Lock…), which cannot travel over a manager connection; ' +
            'register a shared type for it and return a proxy (methodToTypeid)',
        );
      }
    } catch (error) {
      body = defaultCodec.encode(['#TRACEBACK', `cannot send the result: ${stackOf(error)}`]);
    }
    try {
      connection.sendBytes(frame(call, body));
    } catch {
      this.#dropConnection(connection);
      return false;
    }
    return true;
  }

  /** The outcome of a call: at once when the method returns a value, a promise when it returns one. */
  #handle(request: unknown, entry: ActiveCall): Outcome | Promise<Outcome> {
    if (!Array.isArray(request) || request.length !== 5 || typeof request[1] !== 'string') {
      return { kind: '#TRACEBACK', value: `invalid request: ${inspect(request)}` };
    }
    const [id, method, args, kwds, waits] = request as Request;
    if (!Array.isArray(args)) {
      return { kind: '#TRACEBACK', value: new TypeError(`${method}(): the arguments must travel as an array, got ${inspect(args)}`).stack };
    }
    const argv = [...args];
    if (waits) {
      // A call that may wait: it is told through this signal when its caller gives up or goes.
      entry.controller = new AbortController();
      argv.push({ ...(kwds ?? {}), signal: entry.controller.signal });
    } else if (kwds !== null && kwds !== undefined && Object.keys(kwds).length > 0) {
      argv.push(kwds);
    }
    if (id === null) return this.#handleServerCall(method, argv);
    const held = this.#objects.get(id);
    if (!held) return { kind: '#TRACEBACK', value: new ProtocolError(`unknown object id ${id}: it was released or never existed`).stack };
    if (!held.exposed.has(method) && !FALLBACK.has(method)) {
      return {
        kind: '#TRACEBACK',
        value: new TypeError(
          `method '${method}' of shared object of type '${held.typeid}' is not exposed; ` +
            `exposed: ${[...held.exposed].join(', ') || '(none)'} (list it in register(..., { exposed }))`,
        ).stack,
      };
    }
    if (method === '#GETVALUE' || method === '__str__' || method === '__repr__') {
      // Python's fallbacks: a failure here is the server's (RemoteError), not the referent's.
      try {
        return { kind: '#RETURN', value: this.#fallback(held, method) };
      } catch (error) {
        return { kind: '#TRACEBACK', value: stackOf(error) };
      }
    }
    let result: unknown;
    try {
      result = this.#invoke(held, method, argv);
    } catch (error) {
      return { kind: '#ERROR', value: error };
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (value) => this.#returned(held, method, argv, value),
        (error: unknown): Outcome => ({ kind: '#ERROR', value: error }),
      );
    }
    return this.#returned(held, method, argv, result);
  }

  /** The outcome of a method that returned `result`. */
  #returned(held: Held, method: string, argv: unknown[], result: unknown): Outcome {
    const undelivered = (held.obj as { [undeliveredSymbol]?: (m: string, a: unknown[], r: unknown) => void } | null)?.[undeliveredSymbol];
    const undo = typeof undelivered === 'function' ? () => undelivered.call(held.obj, method, argv, result) : undefined;
    const typeid = held.methodToTypeid?.[method];
    if (typeid !== undefined) {
      try {
        const stored = this.#store(typeid, result, false);
        return { kind: '#PROXY', value: stored, undo: () => this.decref(stored[1]) };
      } catch (error) {
        return { kind: '#TRACEBACK', value: stackOf(error) };
      }
    }
    return { kind: '#RETURN', value: result, undo };
  }

  #fallback(held: Held, method: string): unknown {
    const obj = held.obj as Record<string, unknown> | null;
    if (method === '#GETVALUE') {
      return obj !== null && typeof obj === 'object' && typeof obj._getvalue === 'function' ? (obj._getvalue as () => unknown).call(obj) : obj;
    }
    const own = obj !== null && typeof obj === 'object' && obj.toString !== Object.prototype.toString;
    return own ? String(obj) : formatValue(obj);
  }

  /** Calls the method (what it returns may be a promise). */
  #invoke(held: Held, method: string, argv: unknown[]): unknown {
    const obj = held.obj as Record<string, unknown>;
    const fn = obj[method];
    if (typeof fn !== 'function') {
      // An exposed name that is a plain property: return its value (no arguments).
      if (argv.length === 0) return fn;
      throw new TypeError(`'${method}' of shared object of type '${held.typeid}' is not a method`);
    }
    return (fn as (...a: unknown[]) => unknown).apply(obj, argv);
  }

  #store(typeid: string, obj: unknown, owned: boolean): [exposed: string[], id: string, typeid: string] {
    const entry = this.#registry[typeid];
    const exposed = entry?.exposed ? [...entry.exposed] : publicMethods(obj);
    const existing = obj !== null && typeof obj === 'object' ? this.#ids.get(obj) : undefined;
    if (existing !== undefined && this.#objects.has(existing)) {
      this.#objects.get(existing)!.refcount++;
      return [exposed, existing, typeid];
    }
    const id = (this.#nextId++).toString(16);
    if (obj !== null && typeof obj === 'object') this.#ids.set(obj, id);
    this.#objects.set(id, { obj, exposed: new Set(exposed), methodToTypeid: entry?.methodToTypeid ?? null, typeid, owned, refcount: 1 });
    return [exposed, id, typeid];
  }

  #handleServerCall(method: string, argv: unknown[]): Outcome | Promise<Outcome> {
    // As in Python, a failure of a server function (a type id it does not know,
    // a constructor that throws) arrives as RemoteError with the server's stack.
    try {
      switch (method) {
        case 'create': {
          const [typeid, args] = argv as [unknown, unknown];
          if (typeof typeid !== 'string') throw new TypeError(`create(): the type id must be a string, got ${inspect(typeid)}`);
          if (!Array.isArray(args)) throw new TypeError(`create('${typeid}'): the arguments must be an array, got ${inspect(args)}`);
          const entry = this.#registry[typeid];
          if (!entry) throw new TypeError(`the manager has no type id '${typeid}'; register it with Manager.register('${typeid}', callable)`);
          if (!entry.callable) {
            throw new TypeError(`type id '${typeid}' was registered without a callable in the server process; register it with a callable there`);
          }
          const callable = entry.callable;
          const owned = isClass(callable);
          const obj = owned ? new (callable as new (...a: unknown[]) => unknown)(...args) : (callable as (...a: unknown[]) => unknown)(...args);
          const created = (made: unknown): Outcome => {
            const stored = this.#store(typeid, made, owned);
            return { kind: '#RETURN', value: stored, undo: () => this.decref(stored[1]) };
          };
          if (!isThenable(obj)) return created(obj);
          return Promise.resolve(obj).then(created, (error: unknown): Outcome => ({ kind: '#TRACEBACK', value: stackOf(error) }));
        }
        case 'incref': {
          const id = argv[0] as string;
          this.incref(id);
          return { kind: '#RETURN', value: null, undo: () => this.decref(id) };
        }
        case 'decref':
          this.decref(argv[0] as string);
          return { kind: '#RETURN', value: null };
        case 'dummy':
          return { kind: '#RETURN', value: null };
        case 'numberOfObjects':
          return { kind: '#RETURN', value: this.numberOfObjects() };
        case 'debugInfo':
          return { kind: '#RETURN', value: this.debugInfo() };
        case 'shutdown':
          this.stop();
          return { kind: '#RETURN', value: null };
        default:
          throw new TypeError(`unknown server function '${method}'`);
      }
    } catch (error) {
      return { kind: '#TRACEBACK', value: stackOf(error) };
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
    if (--held.refcount > 0) return;
    this.#objects.delete(id);
    // The object may want to know (a pool stops taking tasks).
    const onRelease = (held.obj as { [releaseSymbol]?: () => void } | null)?.[releaseSymbol];
    if (typeof onRelease === 'function') {
      try {
        onRelease.call(held.obj);
      } catch (error) {
        getLogger().debug(`manager server: releasing object ${id} failed: ${String(error)}`);
      }
      return;
    }
    // Python frees the proxies inside an object at once, by reference counting.
    // Here the server releases them when it made the object and held it alone;
    // an object that lives on elsewhere (returned by a registered function or a
    // method) keeps its proxies until they are garbage-collected.
    if (held.owned) releaseNested(held.obj, new Set());
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
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
