/**
 * `Client()`: connects to a `Listener` (Python's `multiprocessing.connection.Client`)
 * and, with a key, runs the HMAC handshake (answer, then deliver).
 */
import { FdWatcher, WRITABLE, closeFd, connectSocket, socketError, type SocketAddress } from '@mpjs/native';
import { checkSignal, delay, ProtocolError, waitFor } from '@mpjs/util';
import type { Codec } from '@mpjs/serialization';
import { addressType, checkAddress, describe, isInetAddress, toIPv4, validateFamily, type Address, type Family } from './address.js';
import { clientHandshake, defaultAuthkey, toKey, type Authkey } from './auth.js';
import { Connection } from './connection.js';

/** Options of {@link Client}. */
export interface ClientOptions {
  /** `'AF_INET'` or `'AF_UNIX'`; inferred from the address when omitted. */
  family?: Family;
  /** Key for the HMAC handshake; `null` or omitted: no handshake (unless `authenticate` is set). */
  authkey?: Authkey | null;
  /** Authenticate with the current process's authkey when `authkey` is not given. */
  authenticate?: boolean;
  /** Codec of `send`/`recv` on the connection. */
  codec?: Codec;
  /** Largest message the connection receives, in bytes. */
  maxMessageSize?: number;
  /**
   * Aborting gives up connecting (waiting for room in a full queue, a TCP
   * connect, the handshake): the promise rejects with `signal.reason` and
   * nothing is left open.
   */
  signal?: AbortSignal;
}

/**
 * Connects to the listener at `address` (`['127.0.0.1', port]` or a socket
 * path) and returns the connection. With a key, both ends prove they know it;
 * a mismatch rejects with `AuthenticationError` and closes the connection.
 */
export async function Client(address: Address, options: ClientOptions = {}): Promise<Connection> {
  const signal = checkSignal('Client', options.signal);
  if (signal?.aborted) throw signal.reason;
  const family = options.family ?? addressType(address);
  validateFamily(family);
  // As in CPython, the socket family always follows the address itself.
  const checked = checkAddress(address, addressType(address));
  const key =
    options.authkey !== undefined && options.authkey !== null
      ? toKey(options.authkey)
      : options.authenticate
        ? defaultAuthkey()
        : null;
  const fd = await connectWaiting(checked, signal);
  const connection = new Connection(fd, { codec: options.codec, maxMessageSize: options.maxMessageSize });
  if (key !== null) {
    // Closing the connection ends a handshake the signal abandons.
    const onAbort = (): void => connection.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await clientHandshake(connection, key);
    } catch (error) {
      connection.close();
      throw signal?.aborted ? signal.reason : error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
  return connection;
}

/** Longest pause (ms) between two tries to connect to a listener whose queue is full. */
const MAX_RETRY_DELAY_MS = 50;

/**
 * Connects a socket to `address` and returns its descriptor. A listener whose
 * queue of connections not yet accepted is full refuses an AF_UNIX
 * connection at once (EAGAIN); as CPython's blocking `connect()` would, this
 * waits for room and tries again. A TCP connection completes once the socket
 * is writable.
 */
async function connectWaiting(address: Address, signal: AbortSignal | undefined): Promise<number> {
  const host = isInetAddress(address) ? toIPv4(address[0]) : undefined;
  const target: SocketAddress = isInetAddress(address)
    ? { host: await (signal ? waitFor(host!, { signal }) : host!), port: address[1] }
    : { path: address as string };
  for (let pause = 1; ; pause = Math.min(pause * 2, MAX_RETRY_DELAY_MS)) {
    let started: { fd: number; pending: boolean };
    try {
      started = connectSocket(target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
        await delay(pause, signal);
        continue;
      }
      throw cannotConnect(address, error as NodeJS.ErrnoException);
    }
    if (!started.pending) return started.fd;
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        watcher.close();
        closeFd(started.fd);
        reject(signal!.reason);
      };
      const watcher = new FdWatcher(started.fd, () => {
        watcher.close();
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      watcher.set(WRITABLE);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    const failure = socketError(started.fd);
    if (failure === null) return started.fd;
    closeFd(started.fd);
    throw cannotConnect(address, failure);
  }
}

function cannotConnect(address: Address, error: NodeJS.ErrnoException): ProtocolError {
  return new ProtocolError(
    `cannot connect to ${describe(address)}: ${error.message}` +
      (error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? ' (is a Listener running there?)' : ''),
    { cause: error },
  );
}
