/**
 * `Listener`: a bound socket that accepts connections (Python's
 * `multiprocessing.connection.Listener`), TCP or AF_UNIX, with the HMAC
 * handshake run on every accepted connection when a key is set.
 */
import { unlinkSync } from 'node:fs';
import net from 'node:net';
import { dupFd } from '@mpjs/native';
import { Finalize, ProtocolError, ValueError } from '@mpjs/util';
import {
  DEFAULT_FAMILY,
  addressType,
  arbitraryUnixAddress,
  checkAddress,
  describe,
  isInetAddress,
  validateFamily,
  type Address,
  type Family,
  type InetAddress,
} from './address.js';
import { defaultAuthkey, listenerHandshake, toKey, type Authkey } from './auth.js';
import { Connection, socketFd } from './connection.js';
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
  resolve(socket: net.Socket): void;
  reject(error: unknown): void;
}

/**
 * A listening socket (Python's `Listener`). Binding starts in the constructor;
 * `await listener.ready()` waits for it (needed before reading `address` when
 * port 0 was asked for). `accept()` waits for it by itself.
 */
export class Listener implements Disposable {
  readonly #server: net.Server;
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
  readonly #incoming: net.Socket[] = [];
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
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
    this.#server = server;
    const path = typeof this.#requested === 'string' && !this.#requested.startsWith('\0') ? this.#requested : undefined;
    // As in Python, a listener that is garbage-collected, or still open when the
    // process exits, is closed and its socket file removed.
    this.#finalizer = new Finalize(
      this,
      () => {
        if (server.listening) server.close();
        try {
          if (path !== undefined) removeSocketFile(path);
        } finally {
          removeDir?.();
        }
      },
      { exitpriority: 0 },
    );
    this.#server.on('connection', (socket: net.Socket) => this.#onConnection(socket));
    this.#server.on('error', (error: Error) => this.#onError(error));
    this.#server.unref();
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
   * path. With port 0, available once `ready()` resolved.
   */
  get address(): Address {
    if (this.#boundAddress !== undefined) return this.#boundAddress;
    if (isInetAddress(this.#requested) && this.#requested[1] === 0) {
      throw new ValueError('the listener is still binding to a free port; await listener.ready() before reading its address');
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
   */
  async accept(): Promise<Connection> {
    if (this.#closed) throw new ProtocolError('listener is closed');
    await this.#bound;
    const socket = await this.#nextSocket();
    if (this.#family === 'AF_INET') {
      socket.setNoDelay(true);
      this.#lastAccepted = [socket.remoteAddress ?? '', socket.remotePort ?? 0];
    } else {
      this.#lastAccepted = '';
    }
    const connection = new Connection(takeOver(socket), { codec: this.#codec, maxMessageSize: this.#maxMessageSize });
    const key = this.#authkey ?? (this.#authenticate ? defaultAuthkey() : null);
    if (key !== null) {
      try {
        await listenerHandshake(connection, key);
      } catch (error) {
        connection.close();
        throw error;
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
    for (const socket of this.#incoming.splice(0)) socket.destroy();
    if (this.#server.listening) {
      this.#finalizer.call();
    } else {
      // Still binding: close as soon as it is bound.
      this.#bound.then(
        () => this.#finalizer.call(),
        () => this.#finalizer.call(),
      );
    }
  }

  /** Closes the listener (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  async #bind(backlog: number): Promise<void> {
    const requested = this.#requested;
    const server = this.#server;
    let options: net.ListenOptions;
    if (isInetAddress(requested)) {
      // AF_INET is IPv4 in CPython: resolve names such as 'localhost' to IPv4 only.
      // Loaded here: most listeners are AF_UNIX, and node:dns costs every process start-up time.
      const { lookup } = await import('node:dns/promises');
      const { address: ip } = await lookup(requested[0], { family: 4 }).catch((error: Error) => {
        throw new ValueError(`cannot resolve host ${JSON.stringify(requested[0])} to an IPv4 address: ${error.message}`, {
          cause: error,
        });
      });
      options = { host: ip, port: requested[1], backlog };
    } else {
      options = { path: requested, backlog };
    }
    if (this.#closed) throw new ProtocolError('listener is closed');
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      server.once('error', onError);
      server.listen(options, () => {
        server.off('error', onError);
        resolve();
      });
    }).catch((error: NodeJS.ErrnoException) => {
      throw new ProtocolError(
        `cannot listen on ${describe(requested)}: ${error.message}` +
          (error.code === 'EADDRINUSE' ? ' (the address is in use: pick another one, or port 0 for a free port)' : ''),
        { cause: error },
      );
    });
    const bound = server.address();
    this.#boundAddress =
      bound !== null && typeof bound === 'object' ? ([bound.address, bound.port] as const) : (requested as string);
  }

  #nextSocket(): Promise<net.Socket> {
    if (this.#closed) return Promise.reject(new ProtocolError('listener is closed'));
    const socket = this.#incoming.shift();
    if (socket) return Promise.resolve(socket);
    return new Promise<net.Socket>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#server.ref();
    });
  }

  #onConnection(socket: net.Socket): void {
    const waiter = this.#waiters.shift();
    if (this.#waiters.length === 0) this.#server.unref();
    if (waiter) {
      waiter.resolve(socket);
      return;
    }
    // Not accepted yet: it must not keep the process alive, as in Python.
    socket.unref();
    socket.on('error', () => undefined);
    this.#incoming.push(socket);
  }

  #onError(error: Error): void {
    if (!this.#server.listening) return; // reported by #bind
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }
}

/**
 * The accepted socket's descriptor, as a copy the connection owns: a
 * connection made from a descriptor reads exactly what it waits for and polls
 * briefly before sleeping, which a socket Node reads by itself cannot. The
 * socket was made paused (`pauseOnConnect`), so Node has read nothing from it.
 */
function takeOver(socket: net.Socket): number | net.Socket {
  const fd = socketFd(socket);
  if (fd < 0) return socket;
  let copy: number;
  try {
    copy = dupFd(fd);
  } catch {
    return socket; // out of descriptors: Node's socket still works
  }
  socket.destroy();
  return copy;
}

function removeSocketFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone (Node removes it when the server closes).
  }
}
