/**
 * Child-side targets of the connection workloads (connection.ts). A child
 * process imports this module (which loads @mpjs/connection, so Connection
 * arguments are rebuilt) and runs one of them.
 */
import { Listener, type Connection } from '@mpjs/connection';

/** Sends back every object until the other end closes. */
export async function echoObjects(conn: Connection): Promise<void> {
  for (;;) {
    let message: unknown;
    try {
      message = await conn.recv();
    } catch {
      break;
    }
    conn.send(message);
  }
  conn.close();
}

/** Sends back every message as raw bytes until the other end closes. */
export async function echoBytes(conn: Connection): Promise<void> {
  for (;;) {
    let message: Buffer;
    try {
      message = await conn.recvBytes();
    } catch {
      break;
    }
    conn.sendBytes(message);
  }
  conn.close();
}

/** Sends `n` messages of `size` bytes. */
export function sendMany(conn: Connection, n: number, size: number): void {
  const payload = Buffer.alloc(size, 1);
  for (let i = 0; i < n; i++) conn.sendBytes(payload);
  conn.close();
}

/**
 * Listens (AF_UNIX, default address, authkey), reports the address over
 * `control`, then accepts and closes `n` connections.
 */
export async function acceptMany(control: Connection, n: number, authkey: Buffer): Promise<void> {
  using listener = await new Listener({ authkey, backlog: 16 }).ready();
  control.send(listener.address);
  for (let i = 0; i < n; i++) (await listener.accept()).close();
  control.close();
}
