/**
 * The client side of the manager protocol.
 *
 * A process keeps one connection (a session) per server address and key.
 * Every call travels on it as a frame `[call id: u32][codec bytes of
 * [objectId | null, method, args, kwds, waits]]`; the server answers each
 * call with `[call id][codec bytes of [kind, value]]` when it is done, kind
 * `#RETURN`, `#ERROR` (the referent threw: the value is the error),
 * `#TRACEBACK` (the server itself failed: the value is its stack), `#PROXY`
 * or `#CANCELLED`. The call id travels outside the codec so that a message
 * one side cannot decode is still answered (or failed) for the right call.
 *
 * The server starts the calls of one connection in the order they arrive and
 * answers them as they finish, so calls start in the order they were made
 * while a call that waits (a queue's `get`) holds up no other. A call given up
 * through its `AbortSignal` is cancelled with a `#CANCEL` frame: the server
 * answers `#CANCELLED` if it had not finished the call (and undoes a result
 * it could no longer deliver); if the result was already on its way, it
 * arrives as usual, because the call had taken effect.
 */
import { Client, type Address, type Connection } from '@mpjs/connection';
import { defaultCodec, decodeWhenReady } from '@mpjs/serialization';
import { EOFError, ProtocolError, RemoteError, getLogger } from '@mpjs/util';
import { addressKey } from './token.js';

/** A reply's kinds. */
export type ReplyKind = '#RETURN' | '#ERROR' | '#TRACEBACK' | '#PROXY' | '#CANCELLED';

/** A request as it travels (inside its frame). */
export type Request = [id: string | null, method: string, args: unknown[], kwds: Record<string, unknown> | null, waits: boolean];

/** The body of a frame that cancels the call of the same id. */
export const CANCEL = '#CANCEL';

/** Options of one call. */
export interface CallOptions {
  /**
   * The call may wait (a queue's `get`, `acquire`, `wait`, `join`): the server
   * passes the method a `signal`, aborted when the caller gives up or goes.
   */
  waits?: boolean;
  /** Aborting gives the call up: it is cancelled in the server. */
  signal?: AbortSignal;
}

/** Frames a codec body behind its call id. */
export function frame(call: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + body.byteLength);
  out.writeUInt32BE(call, 0);
  out.set(body, 4);
  return out;
}

/** Reads the call id of a frame; throws ProtocolError on a frame too short to have one. */
export function callOf(bytes: Buffer): number {
  if (bytes.byteLength < 4) throw new ProtocolError(`manager protocol: a frame of ${bytes.byteLength} bytes has no call id`);
  return bytes.readUInt32BE(0);
}

interface Pending {
  readonly method: string;
  readonly resolve: (reply: [ReplyKind, unknown]) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  /** The caller gave up; the server's answer decides how the call ends. */
  cancelled: boolean;
  /** The frame, while the session is still connecting. */
  frame: Buffer | null;
  /** Written on the connection (its answer will come). */
  sent: boolean;
  onAbort: (() => void) | null;
}

function describe(address: Address): string {
  return typeof address === 'string' ? JSON.stringify(address) : `['${address[0]}', ${address[1]}]`;
}

/** One process's connection to one server (for one key), shared by every call. */
class Session {
  readonly address: Address;
  readonly authkey: Buffer;
  readonly #key: string;
  #connection: Connection | null = null;
  #closed = false;
  readonly #pending = new Map<number, Pending>();
  /** Calls whose frames wait for the connection, in order. */
  readonly #outbox: number[] = [];
  #nextCall = 1;
  #reading = false;
  /** Calls sent and not answered yet (the reading loop runs while there are any). */
  #inFlight = 0;

  constructor(address: Address, authkey: Buffer, key: string) {
    this.address = address;
    this.authkey = authkey;
    this.#key = key;
    Client(address, { authkey }).then(
      (connection) => this.#connected(connection),
      (error: unknown) => this.#fail(error),
    );
  }

  /** The connection, once connected and authenticated (the exit hook writes on it). */
  get connection(): Connection | null {
    return this.#closed ? null : this.#connection;
  }

  /** Sends a request; resolves with the server's reply. */
  call(request: Request, signal: AbortSignal | undefined): Promise<[ReplyKind, unknown]> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    let body: Uint8Array;
    try {
      // Handles cannot travel over a socket to a server: the codec reports them below.
      const context = { handles: [] };
      body = defaultCodec.encode(request, context);
      if (context.handles.length > 0) {
        throw new TypeError(
          `${request[1]}(): an argument holds an OS handle (a Queue, a Connection, a Lock…), which cannot travel to a manager's server; ` +
            'use a shared object of the manager instead (manager.Queue(), manager.Lock()…)',
        );
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const call = this.#nextCall;
    this.#nextCall = call >= 0xffff_ffff ? 1 : call + 1;
    return new Promise<[ReplyKind, unknown]>((resolve, reject) => {
      const pending: Pending = { method: request[1], resolve, reject, signal, cancelled: false, frame: null, sent: false, onAbort: null };
      this.#pending.set(call, pending);
      if (signal) {
        pending.onAbort = () => this.#cancel(call);
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      const bytes = frame(call, body);
      if (this.#connection) this.#write(call, bytes);
      else {
        pending.frame = bytes;
        this.#outbox.push(call);
      }
    });
  }

  /**
   * Writes `request` now, synchronously, without waiting for its reply (the
   * process is exiting: nothing will read it).
   */
  writeNow(request: Request): void {
    const connection = this.connection;
    if (!connection) return;
    const call = this.#nextCall++;
    connection.sendBytes(frame(call, defaultCodec.encode(request)));
  }

  close(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    if (sessions.get(this.#key) === this) sessions.delete(this.#key);
    this.#connection?.close();
    const reason = error ?? new EOFError(`the connection to the manager at ${describe(this.address)} was closed (the manager was shut down)`);
    for (const call of [...this.#pending.keys()]) this.#settle(call, null, reason);
  }

  #connected(connection: Connection): void {
    if (this.#closed) {
      connection.close();
      return;
    }
    this.#connection = connection;
    for (const call of this.#outbox.splice(0)) {
      const pending = this.#pending.get(call);
      if (!pending?.frame) continue;
      const bytes = pending.frame;
      pending.frame = null;
      this.#write(call, bytes);
      if (this.#closed) return;
    }
  }

  #fail(error: unknown): void {
    this.close(error);
  }

  #write(call: number, bytes: Buffer): void {
    try {
      this.#connection!.sendBytes(bytes);
      const pending = this.#pending.get(call);
      if (pending && !pending.sent) {
        pending.sent = true;
        this.#inFlight++;
      }
    } catch (error) {
      // Writing failed: the server is gone; every call on this session fails.
      this.close(error);
      return;
    }
    this.#read();
  }

  /** Reads replies while calls wait for them (an idle session keeps no process alive). */
  #read(): void {
    if (this.#reading || this.#closed || !this.#connection) return;
    this.#reading = true;
    void this.#readLoop(this.#connection);
  }

  async #readLoop(connection: Connection): Promise<void> {
    try {
      while (!this.#closed && this.#hasSentCalls()) {
        let bytes: Buffer;
        try {
          bytes = await connection.recvBytes();
        } catch (error) {
          this.close(
            error instanceof EOFError
              ? new EOFError(
                  `lost the connection to the manager at ${describe(this.address)} while calls were waiting for replies ` +
                    '(the manager was shut down, or its process died)',
                  { cause: error },
                )
              : error,
          );
          return;
        }
        this.#onReply(bytes);
      }
    } finally {
      this.#reading = false;
    }
    // A call sent while the last reply was being handled.
    if (!this.#closed && this.#hasSentCalls()) this.#read();
  }

  #hasSentCalls(): boolean {
    return this.#inFlight > 0;
  }

  #onReply(bytes: Buffer): void {
    let call: number;
    try {
      call = callOf(bytes);
    } catch (error) {
      this.close(error);
      return;
    }
    if (!this.#pending.has(call)) return;
    let decoded: unknown;
    try {
      decoded = decodeWhenReady(defaultCodec, bytes.subarray(4));
    } catch (error) {
      this.#settle(call, null, error);
      return;
    }
    if (decoded instanceof Promise) {
      decoded.then(
        (reply: unknown) => this.#settle(call, reply, undefined),
        (error: unknown) => this.#settle(call, null, error),
      );
    } else {
      this.#settle(call, decoded, undefined);
    }
  }

  #settle(call: number, reply: unknown, error: unknown): void {
    const pending = this.#pending.get(call);
    if (!pending) return;
    this.#pending.delete(call);
    if (pending.sent) this.#inFlight--;
    if (pending.onAbort) pending.signal!.removeEventListener('abort', pending.onAbort);
    if (error !== undefined) {
      pending.reject(pending.cancelled ? pending.signal!.reason : error);
      return;
    }
    if (!Array.isArray(reply) || reply.length !== 2 || typeof reply[0] !== 'string') {
      pending.reject(new ProtocolError(`manager sent an invalid reply to ${pending.method}(): ${String(reply)}`));
      return;
    }
    const [kind, value] = reply as [ReplyKind, unknown];
    if (kind === '#CANCELLED') {
      pending.reject(pending.signal?.reason ?? new ProtocolError(`manager cancelled ${pending.method}(), which nobody gave up`));
      return;
    }
    pending.resolve([kind, value]);
  }

  /** The caller gave up: a call not sent yet ends now; a sent one is cancelled in the server. */
  #cancel(call: number): void {
    const pending = this.#pending.get(call);
    if (!pending || pending.cancelled) return;
    pending.cancelled = true;
    if (pending.frame !== null) {
      this.#outbox.splice(this.#outbox.indexOf(call), 1);
      this.#settle(call, null, pending.signal!.reason);
      return;
    }
    try {
      this.#connection!.sendBytes(frame(call, defaultCodec.encode(CANCEL)));
    } catch (error) {
      this.close(error);
    }
  }
}

const sessions = new Map<string, Session>();

function sessionKey(address: Address, authkey: Buffer): string {
  return `${addressKey(address)}|${authkey.toString('hex')}`;
}

function sessionFor(address: Address, authkey: Buffer): Session {
  const key = sessionKey(address, authkey);
  let session = sessions.get(key);
  if (!session) sessions.set(key, (session = new Session(address, authkey, key)));
  return session;
}

/**
 * Sends one request and waits for its reply; returns `[kind, value]`, or
 * throws `RemoteError` for `#TRACEBACK`. Connection failures reject with the
 * connection's error (and the next call connects again).
 */
export async function rawCall(address: Address, authkey: Buffer, request: Request, signal?: AbortSignal): Promise<[ReplyKind, unknown]> {
  const [kind, value] = await sessionFor(address, authkey).call(request, signal);
  if (kind === '#TRACEBACK') throw new RemoteError(`manager server failed in ${request[1]}():\n${String(value)}`, String(value));
  return [kind, value];
}

/** Calls a server function (`create`, `incref`, `shutdown`…) and returns its result or throws its error. */
export async function serverCall(address: Address, authkey: Buffer, method: string, args: unknown[] = []): Promise<unknown> {
  const [kind, value] = await rawCall(address, authkey, [null, method, args, null, false]);
  if (kind === '#ERROR') throw value;
  return value;
}

/**
 * Writes a `decref` of `id` at once on the open session to its server, without
 * waiting (the process is exiting). Returns whether it was written.
 */
export function decrefNow(address: Address, authkey: Buffer, id: string): boolean {
  const session = sessions.get(sessionKey(address, authkey));
  if (!session?.connection) return false;
  try {
    session.writeNow([null, 'decref', [id], null, false]);
    return true;
  } catch (error) {
    getLogger().debug(`decref of ${id} at exit failed: ${String(error)}`);
    return false;
  }
}

/** Closes the connections to `address` (after the server shut down); calls still waiting reject. */
export function dropConnections(address: Address): void {
  const prefix = `${addressKey(address)}|`;
  for (const [key, session] of [...sessions]) if (key.startsWith(prefix)) session.close();
}
