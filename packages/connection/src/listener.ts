/**
 * `Listener`: a bound socket that accepts connections (Python's
 * `multiprocessing.connection.Listener`), TCP or AF_UNIX, with the HMAC
 * handshake run on every accepted connection when a key is set.
 */
import { unlinkSync } from 'node:fs';
import { FdWatcher, READABLE, acceptSocket, closeFd, listenSocket, type AcceptedSocket } from '@mpjs/native';
import { checkSignal, Finalize, ProtocolError, ValueError, waitFor, withdrawOnAbort, type AbortOptions } from '@mpjs/util';
import {
  DEFAULT_FAMILY,
  addressType,
  arbitraryUnixAddress,
  checkAddress,
  describe,
  isIPv4,
  isInetAddress,
  toIPv4,
  validateFamily,
  type Address,
  type Family,
  type InetAddress,
} from './address.js';
import { defaultAuthkey, listenerHandshake, toKey, type Authkey } from './auth.js';
import { Connection } from './connection.js';
import type { Codec } from '@mpjs/serialization';

/** Options of a {@link Listener}. */
export interface ListenerOptions {
  /**
   * Where to listen: `['127.0.0.1', port]` (port 0 picks a free one) or an
   * AF_UNIX socket path. Default: a fresh path in a private temporary directory
   * (AF_UNIX), or `['127.0.0.1', 0]` when `family` is `'AF_INET'`.
   */
  address?: Address;
  /** `'AF_INET'` or `'AF_UNIX'`; inferred from `address` when omitted. */
  family?: Family;
  /** Length of the queue of not-yet-accepted connections (default 1, as in Python). */
  backlog?: number;
  /**
   * Key for the HMAC handshake run on each accepted connection; `null` or
   * omitted: no handshake (unless `authenticate` is set).
   */
  authkey?: Authkey | null;
  /** Authenticate with the current process's authkey when `authkey` is not given. */
  authenticate?: boolean;
  /** Codec of `send`/`recv` on accepted connections. */
  codec?: Codec;
  /** Largest message accepted connections receive, in bytes. */
  maxMessageSize?: number;
}

interface AcceptWaiter {
  resolve(accepted: AcceptedSocket): void;
  reject(error: unknown): void;
}

/** What the finalizer of a listener closes and removes (it must not hold the listener itself). */
interface ListeningState {
  /** The listening socket's descriptor, -1 before binding and after closing. */
  fd: number;
  watcher: FdWatcher | undefined;
}

/**
 * A listening socket (Python's `Listener`). The constructor binds a path or
 * an IP address at once, as Python's does (with port 0, `address` then holds
 * the port picked); a host name is bound once it is resolved, which
 * `await listener.ready()` waits for (`accept()` waits by itself). A bind
 * error is reported by `ready()` and `accept()`.
 */
export class Listener implements Disposable {
  readonly #state: ListeningState = { fd: -1, watcher: undefined };
  readonly #family: Family;
  readonly #requested: Address;
  readonly #authkey: Buffer | null;
  readonly #authenticate: boolean;
  readonly #codec: Codec | undefined;
  readonly #maxMessageSize: number | undefined;
  readonly #bound: Promise<void>;
  readonly #finalizer: Finalize<[]>;
  #boundAddress: Address | undefined;
  #closed = false;
  #lastAccepted: InetAddress | '' | null = null;
  readonly #waiters: AcceptWaiter[] = [];

  constructor(options: ListenerOptions = {}) {
    const family = options.family ?? (options.address !== undefined ? addressType(options.address) : DEFAULT_FAMILY);
    validateFamily(family);
    const backlog = options.backlog ?? 1;
    if (!Number.isInteger(backlog) || backlog < 0) throw new ValueError(`backlog must be a non-negative integer, got ${backlog}`);
    if (options.authkey !== undefined && options.authkey !== null) this.#authkey = toKey(options.authkey);
    else this.#authkey = null;
    this.#authenticate = options.authenticate ?? false;
    this.#codec = options.codec;
    this.#maxMessageSize = options.maxMessageSize;
    this.#family = family;

    let removeDir: (() => void) | undefined;
    if (options.address !== undefined) {
      this.#requested = checkAddress(options.address, family);
    } else if (family === 'AF_INET') {
      this.#requested = ['127.0.0.1', 0];
    } else {
      const fresh = arbitraryUnixAddress();
      this.#requested = fresh.path;
      removeDir = fresh.cleanup;
    }
    const state = this.#state;
    const path = typeof this.#requested === 'string' && !this.#requested.startsWith('\0') ? this.#requested : undefined;
    // As in Python, a listener that is garbage-collected, or still open when the
    // process exits, is closed and its socket file removed.
    this.#finalizer = new Finalize(
      this,
      () => {
        state.watcher?.close();
        state.watcher = undefined;
        const fd = state.fd;
        state.fd = -1;
        try {
          if (fd >= 0) closeFd(fd);
          if (path !== undefined && fd >= 0) removeSocketFile(path);
        } finally {
          removeDir?.();
        }
      },
      { exitpriority: 0 },
    );
    this.#bound = this.#bind(backlog);
    // A bind error is reported by ready()/accept(); do not let it go unhandled meanwhile.
    this.#bound.catch(() => undefined);
  }

  /** Resolves with the listener once it is bound; rejects if binding failed. */
  async ready(): Promise<this> {
    await this.#bound;
    return this;
  }

  /**
   * The bound address: `['127.0.0.1', port]` with the real port, or the socket
   * path. For a host name and port 0, available once `ready()` resolved.
   */
  get address(): Address {
    if (this.#boundAddress !== undefined) return this.#boundAddress;
    if (isInetAddress(this.#requested) && this.#requested[1] === 0) {
      throw new ValueError('the listener is still resolving its host name; await listener.ready() before reading its address');
    }
    return this.#requested;
  }

  /** The family of the listening socket. */
  get family(): Family {
    return this.#family;
  }

  /**
   * Where the last accepted connection came from: `[host, port]` for TCP, `''`
   * for AF_UNIX (clients are unnamed), `null` before the first accept.
   */
  get lastAccepted(): InetAddress | '' | null {
    return this.#lastAccepted;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Waits for a connection and returns it; with a key, runs the handshake
   * first (deliver, then answer) and rejects with `AuthenticationError` (and
   * closes that connection) if it fails.
   *
   * Aborting `signal` rejects with `signal.reason`. A client that connects
   * afterwards waits for the next `accept()`; one aborted in the middle of
   * its handshake is disconnected (it was never authenticated). A connection
   * already taken when the abort comes is returned.
   */
  async accept(options?: AbortOptions): Promise<Connection> {
    if (this.#closed) throw new ProtocolError('listener is closed');
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new TypeError(`accept: options must be an object such as { signal }, got ${options === null ? 'null' : typeof options}`);
    }
    const signal = checkSignal('accept', options?.signal);
    if (signal?.aborted) throw signal.reason;
    await (signal ? waitFor(this.#bound, { signal }) : this.#bound);
    const accepted = await this.#nextConnection(signal);
    this.#lastAccepted = accepted.peer === null ? '' : [accepted.peer.host, accepted.peer.port];
    const connection = new Connection(accepted.fd, { codec: this.#codec, maxMessageSize: this.#maxMessageSize });
    const key = this.#authkey ?? (this.#authenticate ? defaultAuthkey() : null);
    if (key !== null) {
      // Closing the connection ends a handshake the signal abandons.
      const onAbort = (): void => connection.close();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await listenerHandshake(connection, key);
      } catch (error) {
        connection.close();
        throw signal?.aborted ? signal.reason : error;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    }
    return connection;
  }

  /** Stops listening; pending `accept()` calls reject. Removes an AF_UNIX socket file. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const error = new ProtocolError('listener is closed');
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    // Still binding (a host name being resolved): #bind closes what it makes.
    this.#finalizer.call();
  }

  /** Closes the listener (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  async #bind(backlog: number): Promise<void> {
    const requested = this.#requested;
    let ip: string | undefined;
    if (isInetAddress(requested)) {
      // AF_INET is IPv4 in CPython: resolve names such as 'localhost' to IPv4 only.
      // An address binds at once (the port is known when the constructor returns, as in Python); a name after its lookup.
      ip = isIPv4(requested[0]) ? requested[0] : await toIPv4(requested[0]);
    }
    if (this.#closed) throw new ProtocolError('listener is closed');
    let listening: { fd: number; port: number | null };
    try {
      listening = listenSocket(ip === undefined ? { path: requested as string } : { host: ip, port: (requested as InetAddress)[1] }, backlog);
    } catch (cause) {
      const error = cause as NodeJS.ErrnoException;
      throw new ProtocolError(
        `cannot listen on ${describe(requested)}: ${error.message}` +
          (error.code === 'EADDRINUSE' ? ' (the address is in use: pick another one, or port 0 for a free port)' : ''),
        { cause: error },
      );
    }
    this.#state.fd = listening.fd;
    this.#boundAddress = ip === undefined ? (requested as string) : ([ip, listening.port!] as const);
  }

  /** The next connection: one already waiting in the kernel's queue, or the first to arrive. */
  #nextConnection(signal: AbortSignal | undefined): Promise<AcceptedSocket> {
    if (this.#closed) return Promise.reject(new ProtocolError('listener is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiters.length === 0) {
      try {
        const accepted = acceptSocket(this.#state.fd);
        if (accepted) return Promise.resolve(accepted);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<AcceptedSocket>((resolve, reject) => {
      const waiter: AcceptWaiter = { resolve, reject };
      if (signal) {
        // Withdrawn, the waiter takes no connection: the kernel keeps it for the next accept().
        withdrawOnAbort(this.#waiters, waiter, signal, () => {
          if (this.#waiters.length === 0) this.#state.watcher?.set(0);
        });
      }
      this.#waiters.push(waiter);
      // Watched only while someone waits: a listener nobody accepts on keeps no process alive, as in Python.
      this.#state.watcher ??= new FdWatcher(this.#state.fd, () => this.#onReadable());
      this.#state.watcher.set(READABLE);
    });
  }

  /** Connections are waiting: hand them to the waiting `accept()` calls, in order. */
  #onReadable(): void {
    while (this.#waiters.length > 0 && !this.#closed) {
      let accepted: AcceptedSocket | null;
      try {
        accepted = acceptSocket(this.#state.fd);
      } catch (error) {
        // Out of descriptors, say: that accept() fails, as in Python; the next one tries again.
        if ((error as NodeJS.ErrnoException).code === 'ECONNABORTED') continue;
        this.#waiters.shift()!.reject(error);
        continue;
      }
      if (accepted === null) return;
      this.#waiters.shift()!.resolve(accepted);
    }
    if (this.#waiters.length === 0) this.#state.watcher?.set(0);
  }
}

function removeSocketFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
