/**
 * `Client()`: connects to a `Listener` (Python's `multiprocessing.connection.Client`)
 * and, with a key, runs the HMAC handshake (answer, then deliver).
 */
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
  // AF_INET is IPv4 in CPython; family 4 keeps 'localhost' from resolving to ::1.
  const socket = connectSocket(
    isInetAddress(checked) ? { host: checked[0], port: checked[1], family: 4 } : { path: checked },
  );
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      socket.off('connect', onConnect);
      reject(
        new ProtocolError(
          `cannot connect to ${describe(checked)}: ${error.message}` +
            (error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? ' (is a Listener running there?)' : ''),
          { cause: error },
        ),
      );
    };
    const onConnect = (): void => {
      socket.off('error', onError);
      resolve();
    };
    socket.once('error', onError);
    socket.once('connect', onConnect);
  });
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
