/**
 * `Client()`: connects to a `Listener` (Python's `multiprocessing.connection.Client`)
 * and, with a key, runs the HMAC handshake (answer, then deliver).
 */
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProtocolError } from '@mpjs/util';
import type { Codec } from '@mpjs/serialization';
import { addressType, checkAddress, describe, isInetAddress, validateFamily, type Address, type Family } from './address.js';
import { clientHandshake, defaultAuthkey, toKey, type Authkey } from './auth.js';
import { Connection, connectSocket } from './connection.js';

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
}

/**
 * Connects to the listener at `address` (`['127.0.0.1', port]` or a socket
 * path) and returns the connection. With a key, both ends prove they know it;
 * a mismatch rejects with `AuthenticationError` and closes the connection.
 */
export async function Client(address: Address, options: ClientOptions = {}): Promise<Connection> {
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
  const socket = await connectWaiting(checked);
  if (isInetAddress(checked)) socket.setNoDelay(true);
  const connection = new Connection(socket, { codec: options.codec, maxMessageSize: options.maxMessageSize });
  if (key !== null) {
    try {
      await clientHandshake(connection, key);
    } catch (error) {
      connection.close();
      throw error;
    }
  }
  return connection;
}

/** Longest pause (ms) between two tries to connect to a listener whose queue is full. */
const MAX_RETRY_DELAY_MS = 50;

/**
 * Connects a socket to `address`. A listener whose queue of connections not
 * yet accepted is full refuses an AF_UNIX connection at once (EAGAIN); as
 * CPython's blocking `connect()` would, this waits for room and tries again.
 */
async function connectWaiting(address: Address): Promise<net.Socket> {
  for (let delay = 1; ; delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)) {
    // AF_INET is IPv4 in CPython; family 4 keeps 'localhost' from resolving to ::1.
    const socket = connectSocket(isInetAddress(address) ? { host: address[0], port: address[1], family: 4 } : { path: address });
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      const onError = (failure: NodeJS.ErrnoException): void => {
        socket.off('connect', onConnect);
        resolve(failure);
      };
      const onConnect = (): void => {
        socket.off('error', onError);
        resolve(null);
      };
      socket.once('error', onError);
      socket.once('connect', onConnect);
    });
    if (error === null) return socket;
    socket.destroy();
    if (error.code === 'EAGAIN') {
      await sleep(delay);
      continue;
    }
    throw new ProtocolError(
      `cannot connect to ${describe(address)}: ${error.message}` +
        (error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? ' (is a Listener running there?)' : ''),
      { cause: error },
    );
  }
}
