/**
 * `BaseProxy`: a handle on an object held by a manager's server (Python's
 * `BaseProxy`). Method calls travel over authenticated connections and return
 * promises. A proxy travels to other processes (as a `Process` argument, or
 * inside another shared object) and reconnects there; when the last proxy of
 * an object is garbage-collected, the server frees it.
 */
import { inspect } from 'node:util';
import type { Address } from '@mpjs/connection';
import { registerType } from '@mpjs/serialization';
import { getLogger } from '@mpjs/util';
import { rawCall, serverCall } from './dispatch.js';
import { reprSymbol } from './format.js';
import { localServer, type Server } from './server.js';
import { releaseSymbol, type Token } from './token.js';

/** Who a proxy reports to when it is garbage-collected. */
interface Release {
  readonly address: Address;
  readonly authkey: Buffer;
  readonly id: string;
  readonly server: Server | undefined;
}

const released = new FinalizationRegistry<Release>((release) => {
  if (release.server) {
    release.server.decref(release.id);
    return;
  }
  serverCall(release.address, release.authkey, 'decref', [release.id]).catch((error: unknown) => {
    getLogger().debug(`decref of ${release.id} failed (the manager may be gone): ${String(error)}`);
  });
});

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

/**
 * The base of every proxy. `_callmethod(name, args, kwds)` calls a method of
 * the referent and resolves with its result; `_getvalue()` resolves with a
 * copy of the referent.
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
  readonly #ready: Promise<void>;
  readonly #exposed: readonly string[] | null;
  #release: Release | null = null;

  constructor(token: Token, options: ProxyOptions) {
    this._token = { typeid: token.typeid, address: token.address, id: token.id };
    Object.defineProperty(this, '_token', { enumerable: false });
    this._manager = options.manager ?? null;
    Object.defineProperty(this, '_manager', { enumerable: false });
    this.#authkey = Buffer.from(options.authkey);
    this.#exposed = options.exposed ?? null;
    const server = localServer(token.address);
    const release: Release = { address: token.address, authkey: this.#authkey, id: token.id, server };
    const track = (): void => {
      this.#release = release;
      released.register(this, release, this);
    };
    if (server) {
      // Inside the manager's own process (a proxy stored in another shared object): count it directly.
      server.incref(token.id);
      track();
      this.#ready = Promise.resolve();
    } else if (options.incref) {
      this.#ready = serverCall(token.address, this.#authkey, 'incref', [token.id]).then(track);
      // Reported by the first method call.
      this.#ready.catch(() => undefined);
    } else {
      track();
      this.#ready = Promise.resolve();
    }
  }

  /**
   * Drops this proxy's reference in the server now instead of at garbage
   * collection (a server does this for proxies held by an object it frees).
   */
  [releaseSymbol](): void {
    const release = this.#release;
    if (!release) return;
    this.#release = null;
    released.unregister(this);
    if (release.server) release.server.decref(release.id);
    else serverCall(release.address, release.authkey, 'decref', [release.id]).catch(() => undefined);
  }

  /** The manager server's key (travels with the proxy to other processes). */
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
   */
  async _callmethod(name: string, args: readonly unknown[] = [], kwds: Record<string, unknown> | null = null): Promise<unknown> {
    await this.#ready;
    const [kind, value] = await rawCall(this._token.address, this.#authkey, [this._token.id, name, [...args], kwds]);
    if (kind === '#RETURN') return value;
    if (kind === '#ERROR') throw value;
    const [exposed, id, typeid] = value as [string[], string, string];
    const fallback = (this.constructor as ProxyClass)._proxytypes_?.[typeid];
    return buildProxy({ typeid, address: this._token.address, id }, exposed, this.#authkey, this._manager, false, fallback);
  }

  /** Resolves with a copy of the referent. */
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

  [reprSymbol](): string {
    return this._repr();
  }

  [inspect.custom](): string {
    return this._repr();
  }
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
  authkey: Buffer;
}

// A proxy travels as its token, its class (by reference) and the server's key,
// so the receiver can reconnect (Python sends the key while spawning a child).
registerType<BaseProxy>({
  name: 'mpjs.managers.Proxy',
  type: BaseProxy,
  module: import.meta.url,
  encode(proxy): ProxyData {
    const cls = proxy.constructor as ProxyClass;
    return {
      token: proxy._token,
      exposed: proxy._exposedMethods,
      proxytype: isAutoProxyType(cls) ? null : cls,
      authkey: proxy._authkey,
    };
  },
  decode(data): BaseProxy {
    const { token, exposed, proxytype, authkey } = data as ProxyData;
    const cls = proxytype ?? makeProxyType(`AutoProxy[${token.typeid}]`, exposed ?? []);
    return new cls(token, { authkey, incref: true, exposed });
  },
});
