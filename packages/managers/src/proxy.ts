/**
 * `BaseProxy`: a handle on an object held by a manager's server (Python's
 * `BaseProxy`). Method calls travel over authenticated connections and return
 * promises. A proxy travels to other processes (as a `Process` argument, or
 * inside another shared object) and reconnects there; when the last proxy of
 * an object is garbage-collected, the server frees it.
 */
import { inspect } from 'node:util';
import { defaultAuthkey, type Address } from '@mpjs/connection';
import { registerType } from '@mpjs/serialization';
import { rawCall, serverCall, type CallOptions } from './dispatch.js';
import { reprSymbol } from './format.js';
import { giveBack, track, type Release } from './release.js';
import { localServer } from './server.js';
import { addressKey, releaseSymbol, type Token } from './token.js';

/** Something that can build proxies for type ids (a manager). */
export interface ProxyFactory {
  /** The proxy class registered for `typeid`, if any. */
  proxyTypeFor(typeid: string): ProxyClass | undefined;
}

/** Options of a proxy's constructor (used by managers and when a proxy arrives in a message). */
export interface ProxyOptions {
  /** The key of the manager's server. */
  authkey: Buffer;
  /** The manager that made the proxy, if it lives in this process. */
  manager?: ProxyFactory | null;
  /**
   * Add a reference in the server (a proxy rebuilt from a message); false for
   * a proxy that takes over the reference `create` made.
   */
  incref?: boolean;
  /** Method names the server exposes (for auto-generated proxy types). */
  exposed?: readonly string[] | null;
}

/** A proxy class: `BaseProxy` or a subclass. */
export type ProxyClass = (new (token: Token, options: ProxyOptions) => BaseProxy) & {
  /** Method names the proxy calls (Python's `_exposed_`). */
  readonly _exposed_?: readonly string[] | null;
  /** Methods whose results come back as proxies (Python's `_method_to_typeid_`). */
  readonly _methodToTypeid_?: Readonly<Record<string, string>> | null;
  /**
   * Proxy classes of the type ids in `_methodToTypeid_`, used where no manager
   * of this process registers them (a proxy that travelled to another process).
   */
  readonly _proxytypes_?: Readonly<Record<string, ProxyClass>> | null;
};

const kAuto = Symbol('mpjs.managers.autoProxy');

/** Options of {@link BaseProxy._callmethod} besides the method's own arguments. */
export type CallmethodOptions = CallOptions;

/**
 * The base of every proxy. `_callmethod(name, args, kwds)` calls a method of
 * the referent and resolves with its result; `_getvalue()` resolves with a
 * copy of the referent.
 *
 * Calls on one proxy take effect in the order they were made, awaited or
 * not (`Promise.all(xs.map((x) => l.append(x)))` appends in order): a
 * process sends its calls to a server over one connection, and the server
 * starts them in the order they arrive. A call that waits (a queue's `get`
 * or `put`, `acquire`, `wait`, `join`) starts in its turn but does not hold
 * up the calls made after it, which start while it waits: a producer and a
 * consumer may share one queue proxy.
 */
export class BaseProxy {
  /** Method names the proxy calls (Python's `_exposed_`); null: whatever the server exposes. */
  static readonly _exposed_: readonly string[] | null = null;
  /** Methods whose results come back as proxies. */
  static readonly _methodToTypeid_: Readonly<Record<string, string>> | null = null;
  /** Proxy classes of the type ids its methods return, for when no manager of this process registers them. */
  static readonly _proxytypes_: Readonly<Record<string, ProxyClass>> | null = null;

  /** The referent's type id, server address and id. */
  readonly _token: Token;
  /** The manager that made this proxy, when it lives in this process. */
  readonly _manager: ProxyFactory | null;
  readonly #authkey: Buffer;
  readonly #exposed: readonly string[] | null;
  /** Resolves once the server counts this proxy's reference (null: it does already). */
  #ready: Promise<void> | null = null;
  /** Calls made while `#ready` was pending, which later calls must not overtake. */
  #queued = 0;
  #release: Release | null = null;

  constructor(token: Token, options: ProxyOptions) {
    this._token = { typeid: token.typeid, address: token.address, id: token.id };
    Object.defineProperty(this, '_token', { enumerable: false });
    this._manager = options.manager ?? null;
    Object.defineProperty(this, '_manager', { enumerable: false });
    this.#authkey = Buffer.from(options.authkey);
    this.#exposed = options.exposed ?? null;
    const server = localServer(token.address);
    const release: Release = { address: token.address, authkey: this.#authkey, id: token.id, server, done: false };
    if (server) {
      // Inside the manager's own process (a proxy stored in another shared object): count it directly.
      if (options.incref !== false) server.incref(token.id);
      this.#track(release);
    } else if (options.incref) {
      const ready = serverCall(token.address, this.#authkey, 'incref', [token.id]).then(() => {
        this.#track(release);
        if (this.#ready === ready && this.#queued === 0) this.#ready = null;
      });
      // Reported by the first method call.
      ready.catch(() => undefined);
      this.#ready = ready;
    } else {
      this.#track(release);
    }
  }

  #track(release: Release): void {
    this.#release = release;
    track(this, release);
  }

  /**
   * Drops this proxy's reference in the server now instead of at garbage
   * collection (a server does this for proxies held by an object it frees).
   */
  [releaseSymbol](): void {
    const release = this.#release;
    if (!release) return;
    this.#release = null;
    giveBack(release);
  }

  /**
   * The manager server's key. It travels with the proxy only to a child
   * being started (a `Process` argument), as Python sends it; a proxy that
   * arrives any other way uses its new process's `authkey`.
   */
  get _authkey(): Buffer {
    return this.#authkey;
  }

  /** Method names the server said this referent exposes, when known. */
  get _exposedMethods(): readonly string[] | null {
    return this.#exposed ?? (this.constructor as ProxyClass)._exposed_ ?? null;
  }

  /**
   * Calls `name` on the referent in the server with `args` (and `kwds`,
   * passed as one last argument) and resolves with the result. An error the
   * referent throws is re-thrown here as the same class; a failure of the
   * server itself (unknown or unexposed method) rejects with `RemoteError`.
   *
   * `options.waits` marks a call that may wait: the server adds a `signal`
   * to `kwds` (making it `{}` if null), aborted when the caller gives up
   * through `options.signal` or its process goes; the method should stop
   * waiting then. Aborting `options.signal` rejects with its reason once the
   * server has cancelled the call; a call the server had already finished
   * resolves with its result instead (it took effect).
   */
  _callmethod(
    name: string,
    args: readonly unknown[] = [],
    kwds: Record<string, unknown> | null = null,
    options: CallmethodOptions = {},
  ): Promise<unknown> {
    try {
      if (typeof name !== 'string' || name.length === 0) throw new TypeError(`_callmethod(): the method name must be a non-empty string, got ${describeValue(name)}`);
      if (!Array.isArray(args)) {
        throw new TypeError(`_callmethod('${name}', args): args must be an array of arguments, got ${describeValue(args)} (write _callmethod('${name}', [x]))`);
      }
      if (kwds !== null && (typeof kwds !== 'object' || Array.isArray(kwds))) {
        throw new TypeError(`_callmethod('${name}', args, kwds): kwds must be a plain object or null, got ${describeValue(kwds)}`);
      }
      if (options === null || typeof options !== 'object') throw new TypeError(`_callmethod('${name}'): options must be an object such as { signal }`);
      if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
        throw new TypeError(`${name}(): "signal" must be an AbortSignal, got ${describeValue(options.signal)}`);
      }
      options.signal?.throwIfAborted();
    } catch (error) {
      return Promise.reject(error);
    }
    const ready = this.#ready;
    if (ready === null) return this.#send(name, [...args], kwds, options);
    // Waiting for the server to count this proxy; calls keep their order behind it.
    this.#queued++;
    return ready.then(
      () => {
        if (--this.#queued === 0 && this.#ready === ready) this.#ready = null;
        return this.#send(name, [...args], kwds, options);
      },
      (error: unknown) => {
        this.#queued--;
        throw error;
      },
    );
  }

  async #send(name: string, args: unknown[], kwds: Record<string, unknown> | null, options: CallmethodOptions): Promise<unknown> {
    const request = [this._token.id, name, args, kwds, options.waits === true || options.signal !== undefined] as const;
    const [kind, value] = await rawCall(this._token.address, this.#authkey, [...request], options.signal);
    if (kind === '#RETURN') return value;
    if (kind === '#ERROR') throw value;
    const [exposed, id, typeid] = value as [string[], string, string];
    const fallback = (this.constructor as ProxyClass)._proxytypes_?.[typeid];
    return buildProxy({ typeid, address: this._token.address, id }, exposed, this.#authkey, this._manager, false, fallback);
  }

  /**
   * Resolves with a copy of the referent. A referent that cannot be copied
   * (a lock, a queue, a pool…) rejects with `RemoteError`.
   */
  _getvalue(): Promise<unknown> {
    return this._callmethod('#GETVALUE');
  }

  /** Resolves with the referent's string form (Python's `str(proxy)`), e.g. `[1, 2]`. */
  toString(): Promise<string> {
    return this._callmethod('__str__') as Promise<string>;
  }

  /** The proxy's own representation: its class, type id and object id. */
  _repr(): string {
    return `<${this.constructor.name} object, typeid '${this._token.typeid}' at 0x${this._token.id}>`;
  }

  /**
   * `String(proxy)` and `${proxy}` give the proxy's own representation
   * (synchronous: the referent's is `await proxy.toString()`).
   */
  [Symbol.toPrimitive](): string {
    return this._repr();
  }

  [reprSymbol](): string {
    return this._repr();
  }

  [inspect.custom](): string {
    return this._repr();
  }
}

/** Whether `value` is a proxy of the server at `address`. */
export function isProxyOf(value: unknown, address: Address): boolean {
  return value instanceof BaseProxy && addressKey(value._token.address) === addressKey(address);
}

/**
 * Inside a manager's server, a proxy of that very server stands for its
 * referent (Python's `RebuildProxy` hands the server its own object):
 * `{ referent }` for such a proxy, else undefined.
 */
export function localReferent(value: unknown): { referent: unknown } | undefined {
  if (!(value instanceof BaseProxy)) return undefined;
  const server = localServer(value._token.address);
  if (!server) return undefined;
  return server.hasObject(value._token.id) ? { referent: server.referentOf(value._token.id) } : undefined;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' || typeof value === 'function' ? `a ${typeof value}` : String(value);
}

const autoTypes = new Map<string, ProxyClass>();

/**
 * Makes a proxy class whose methods call the names in `exposed` (Python's
 * `MakeProxyType`). Results are cached by name and method list.
 */
export function makeProxyType(name: string, exposed: readonly string[]): ProxyClass {
  const key = `${name}|${exposed.join(',')}`;
  const cached = autoTypes.get(key);
  if (cached) return cached;
  const cls = class extends BaseProxy {
    static override readonly _exposed_: readonly string[] = [...exposed];
  };
  Object.defineProperty(cls, 'name', { value: name });
  Object.defineProperty(cls, kAuto, { value: true });
  for (const method of exposed) {
    Object.defineProperty(cls.prototype, method, {
      value(this: BaseProxy, ...args: unknown[]) {
        return this._callmethod(method, args);
      },
      writable: true,
      configurable: true,
    });
  }
  autoTypes.set(key, cls);
  return cls;
}

/** Whether `cls` was made by {@link makeProxyType}. */
export function isAutoProxyType(cls: unknown): boolean {
  return typeof cls === 'function' && Object.hasOwn(cls, kAuto);
}

/**
 * Builds the proxy for a token: the registered proxy class of its type id,
 * else `fallback`, else an auto proxy.
 */
export function buildProxy(
  token: Token,
  exposed: readonly string[] | null,
  authkey: Buffer,
  manager: ProxyFactory | null,
  incref: boolean,
  fallback?: ProxyClass,
): BaseProxy {
  const registered = manager?.proxyTypeFor(token.typeid) ?? fallback;
  const cls = registered ?? makeProxyType(`AutoProxy[${token.typeid}]`, exposed ?? []);
  return new cls(token, { authkey, manager, incref, exposed });
}

interface ProxyData {
  token: Token;
  exposed: readonly string[] | null;
  proxytype: ProxyClass | null;
  /** Only while spawning a child (Python's `get_spawning_popen()`), else null. */
  authkey: Buffer | null;
}

// A proxy travels as its token and its class (by reference). The server's key
// travels only to a child being started, as Python's does; a proxy arriving any
// other way (a pipe, a queue, a pool's task, another shared object) uses the
// key of its new process, `currentProcess().authkey`.
registerType<BaseProxy>({
  name: 'mpjs.managers.Proxy',
  type: BaseProxy,
  module: import.meta.url,
  encode(proxy, context): ProxyData {
    const cls = proxy.constructor as ProxyClass;
    // Sent by its own server (a result holding a proxy): keep the server's reference until the receiver has its own.
    localServer(proxy._token.address)?.retainBriefly(proxy);
    return {
      token: proxy._token,
      exposed: proxy._exposedMethods,
      proxytype: isAutoProxyType(cls) ? null : cls,
      authkey: context?.spawning ? proxy._authkey : null,
    };
  },
  decode(data): BaseProxy {
    const { token, exposed, proxytype, authkey } = data as ProxyData;
    const cls = proxytype ?? makeProxyType(`AutoProxy[${token.typeid}]`, exposed ?? []);
    return new cls(token, { authkey: authkey ?? defaultAuthkey(), incref: true, exposed });
  },
});
