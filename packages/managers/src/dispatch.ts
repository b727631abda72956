/**
 * The client side of the manager protocol. Each request is
 * `[objectId | null, method, args, kwds]`; the reply is `[kind, value]` with
 * kind `#RETURN`, `#ERROR` (the referent threw: the value is the error),
 * `#TRACEBACK` (the server itself failed: the value is its stack) or `#PROXY`.
 *
 * Python keeps one connection per thread and server; here a call takes an idle
 * pooled connection or opens one, so concurrent calls (a blocking `get()` and a
 * `put()`) never wait behind each other.
 */
import { Client, type Address, type Connection } from '@mpjs/connection';
import { ProtocolError, RemoteError } from '@mpjs/util';
import { addressKey } from './token.js';

/** A request's reply kinds. */
export type ReplyKind = '#RETURN' | '#ERROR' | '#TRACEBACK' | '#PROXY';

/** A request as it travels. */
export type Request = [id: string | null, method: string, args: unknown[], kwds: Record<string, unknown> | null];

const pools = new Map<string, Connection[]>();

function poolKey(address: Address, authkey: Buffer): string {
  return `${addressKey(address)}|${authkey.toString('hex')}`;
}

/** Opens an authenticated connection to a manager's server. */
export function connectTo(address: Address, authkey: Buffer): Promise<Connection> {
  return Client(address, { authkey });
}

/**
 * Sends one request and waits for its reply; returns `[kind, value]`, or
 * throws `RemoteError` for `#TRACEBACK`. Connection failures reject with the
 * connection's error and drop that connection from the pool.
 */
export async function rawCall(address: Address, authkey: Buffer, request: Request): Promise<[ReplyKind, unknown]> {
  const key = poolKey(address, authkey);
  let pool = pools.get(key);
  if (!pool) pools.set(key, (pool = []));
  const connection = pool.pop() ?? (await connectTo(address, authkey));
  let reply: unknown;
  try {
    connection.send(request);
    reply = await connection.recv();
  } catch (error) {
    connection.close();
    throw error;
  }
  pool.push(connection);
  if (!Array.isArray(reply) || reply.length !== 2 || typeof reply[0] !== 'string') {
    throw new ProtocolError(`manager sent an invalid reply to ${request[1]}(): ${String(reply)}`);
  }
  const [kind, value] = reply as [ReplyKind, unknown];
  if (kind === '#TRACEBACK') throw new RemoteError(`manager server failed in ${request[1]}():\n${String(value)}`, String(value));
  return [kind, value];
}

/** Calls a server function (`create`, `incref`, `shutdown`…) and returns its result or throws its error. */
export async function serverCall(address: Address, authkey: Buffer, method: string, args: unknown[] = []): Promise<unknown> {
  const [kind, value] = await rawCall(address, authkey, [null, method, args, null]);
  if (kind === '#ERROR') throw value;
  return value;
}

/** Closes the idle pooled connections to `address` (after the server shut down). */
export function dropConnections(address: Address): void {
  const prefix = `${addressKey(address)}|`;
  for (const [key, pool] of pools) {
    if (!key.startsWith(prefix)) continue;
    for (const connection of pool.splice(0)) connection.close();
    pools.delete(key);
  }
}
