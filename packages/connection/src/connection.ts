/**
 * `Connection`: one end of a message-oriented byte stream (a socketpair from
 * `Pipe()`, or a socket from `Listener`/`Client`), framed exactly as CPython
 * frames it so raw `sendBytes`/`recvBytes` talk to Python's
 * `send_bytes`/`recv_bytes`.
 *
 * Reading is lazy and exact: the socket is read only while someone waits
 * (`recv*`, `poll`, `wait`), first the header and then exactly the payload, so a
 * process that merely holds an end (a parent that passed `childConn` to a child
 * and kept its copy) never takes messages meant for another process, and a
 * large payload lands directly in the buffer that is returned.
 *
 * Receivers with nothing to read yet have their sockets polled for a moment
 * (once the code that called them has run) before the event loop takes over
 * (see `POLL_MICROS` in @mpjs/util): a partner on another CPU that answers
 * within that time is caught without a sleep and a wake-up, which is most of
 * the cost of a round trip.
 *
 * Writing is synchronous when the kernel has room (as in Python, the data is in
 * the socket when `send` returns); what does not fit is queued and written in
 * the background, copied first if it belongs to the caller.
 *
 * A connection over a descriptor (`Pipe()`, `Listener`, `Client`, one passed
 * to another process) makes no Node stream: it reads and writes with system
 * calls and learns from the event loop when the descriptor is ready
 * (`FdWatcher` in @mpjs/native). A `net.Socket` given by the caller is read
 * through its 'data' events.
 */
import { writeSync, writevSync } from 'node:fs';
import type net from 'node:net';
import { FdWatcher, READABLE, WRITABLE, closeFd, pollFd, readPolling, readSome, schedYield, setNonBlocking } from '@mpjs/native';
import {
  BufferTooShort,
  lazyBuiltin,
  POLL_MICROS,
  PollBackoff,
  PollGroup,
  type PollOutcome,
  EOFError,
  enqueueMicrotask,
  ProtocolError,
  ValueError,
  checkSignal,
  setLongTimeout,
  withdrawOnAbort,
  waitArguments,
  waitReady,
  type AbortOptions,
  type LongTimer,
  type Timeout,
  type TimeoutOptions,
  type Waitable,
} from '@mpjs/util';
import {
  SerializationError,
  decodeWhenReady,
  defaultCodec,
  registerType,
  type Codec,
  type DecodeContext,
  type EncodeContext,
} from '@mpjs/serialization';
import {
  DEFAULT_MAX_MESSAGE_SIZE,
  LONG_HEADER_SIZE,
  SHORT_HEADER_SIZE,
  decodeHeader,
  encodeHeader,
  tooLargeError,
} from './framing.js';
import { FdChannel, isEnvelope, openEnvelope, sealEnvelope } from './handle-passing.js';

/** Options accepted wherever a {@link Connection} is made. */
export interface ConnectionOptions {
  /** Whether this end can receive (default true). */
  readable?: boolean;
  /** Whether this end can send (default true). */
  writable?: boolean;
  /** Codec of `send`/`recv` (default: `defaultCodec` of `@mpjs/serialization`). */
  codec?: Codec;
  /**
   * Largest message this end accepts, in bytes (default 1 GiB). A frame header
   * announcing more is refused with a {@link ProtocolError} before anything is
   * allocated. `Infinity` lifts the limit (Node's own buffer limit remains).
   */
  maxMessageSize?: number;
  /**
   * File descriptor of the side channel that carries file descriptors
   * (`SCM_RIGHTS`) for messages that contain handles. `Pipe()` creates it; a
   * connection without one can send only plain data.
   */
  fdChannel?: number;
  /**
   * Read whatever has arrived, several messages at a time, instead of
   * exactly one frame per read as CPython does (default false). Faster for
   * many small messages, but bytes read ahead live in this object: such a
   * connection cannot be sent to another process while it holds input that
   * was not received yet, and no other process may read the same descriptor.
   */
  readAhead?: boolean;
}

/** Internal to this package: batch frames into one write (see `Connection[kCork]`). */
export const kCork = Symbol('mpjs.connection.cork');
/** Internal to this package: write the frames held back by `kCork`. */
export const kUncork = Symbol('mpjs.connection.uncork');
/** Internal to this package: whether input read ahead is held by the object. */
const kHoldsInput = Symbol('mpjs.connection.holdsInput');
/** Internal to this package: whether input has already arrived, checked synchronously. */
export const kHasInput = Symbol('mpjs.connection.hasInput');

/** Size of one read when reading ahead. */
const READ_AHEAD_SIZE = 64 * 1024;

/** Payloads up to this size are copied next to their header and written with one syscall. */
const SMALL_FRAME = 64 * 1024;
/** Payloads above this size are received into a list of chunks allocated as data arrives. */
const CHUNK_SIZE = 16 * 1024 * 1024;

/** Scratch for small frames; safe to share because a synchronous write either finishes or is copied. */
const scratch = Buffer.allocUnsafe(SMALL_FRAME + LONG_HEADER_SIZE);

/** Connections with queued writes, so a process can flush them before it exits. */
const flushing = new Set<Connection>();

/**
 * `@mpjs/process` awaits the `shutdown()` of every member of this
 * `Symbol.for`-keyed set after a child's target returns and before it calls
 * `process.exit()`. Joining it makes sure what `send` queued reaches the
 * kernel first, as in Python where `send` returns only once it has.
 */
const EXIT_PARTICIPANTS = Symbol.for('mpjs.process.exitParticipants');
interface ExitParticipant {
  beforeExit(): void;
  exit(): void;
  shutdown(): Promise<void>;
}
let flushAtExitRegistered = false;
function flushAtExit(): void {
  if (flushAtExitRegistered) return;
  flushAtExitRegistered = true;
  const holder = globalThis as { [EXIT_PARTICIPANTS]?: Set<ExitParticipant> };
  (holder[EXIT_PARTICIPANTS] ??= new Set()).add({
    beforeExit: () => undefined, // a connection with queued writes keeps the event loop alive by itself
    exit: () => undefined,
    shutdown: () => flushConnections(),
  });
}

interface Reader {
  maxlength: number | undefined;
  resolve(message: Buffer): void;
  reject(error: unknown): void;
}

/** Node's stream handle exposes the file descriptor it wraps. */
interface HandleWithFd {
  fd?: number;
}

/** `node:net`, loaded only for a connection made from a `net.Socket`: descriptors need no stream. */
const netModule = lazyBuiltin<typeof import('node:net')>('node:net');

/** The file descriptor under a socket's handle, or -1. @internal */
export function socketFd(socket: net.Socket): number {
  const fd = (socket as unknown as { _handle?: HandleWithFd | null })._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}

function isWouldBlock(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

function brokenPipe(error: unknown): ProtocolError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'EIO';
  return new ProtocolError(`cannot send: the other end of the connection is closed (${code})`, { cause: error });
}

/** Bytes of an ArrayBufferView or (Shared)ArrayBuffer, as a Uint8Array over the same memory. */
function bytesOf(buffer: ArrayBufferView | ArrayBufferLike, what: string): Uint8Array {
  if (buffer instanceof Uint8Array) return buffer;
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (buffer instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer)) {
    return new Uint8Array(buffer);
  }
  throw new TypeError(`${what} must be a Buffer, a TypedArray, a DataView or an ArrayBuffer, got ${typeof buffer}`);
}

/** The `signal` of a receive's options, checked. */
function receiveSignal(method: string, options: AbortOptions | undefined): AbortSignal | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object') throw new TypeError(`${method}: options must be an object such as { signal }, got ${typeof options}`);
  return checkSignal(method, options.signal);
}

function checkInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) throw new TypeError(`${what} must be an integer, got ${String(value)}`);
}

/**
 * A connection end (Python's `multiprocessing.connection.Connection`).
 *
 * Made by `Pipe()`, `Listener.accept()` and `Client()`, or directly from a file
 * descriptor (`new Connection(fd)`) or a connected `net.Socket`. It can be
 * passed to `wait()`, and to another process inside a message or as a
 * `Process` argument.
 */
export class Connection implements Waitable, Disposable {
  /** A `net.Socket` the caller gave (read through its 'data' events); undefined over a descriptor. */
  readonly #socket: net.Socket | undefined;
  readonly #fd: number;
  /** Tells when the descriptor can be read or written (made when first needed). */
  #watcher: FdWatcher | undefined;
  /** The events the watcher watches now. */
  #watching = 0;
  /** Watching failed (the descriptor was closed under us): nothing more will be read or written. */
  #unwatchable = false;
  /** The descriptor is closed (a descriptor connection). */
  #released = false;
  /** The descriptor is no socket (a pipe, a FIFO): read with read(2), as recv() refuses it. */
  #plainFd = false;
  /** Writes waiting for room in the kernel (a descriptor connection), oldest first. */
  readonly #outbox: Uint8Array[] = [];
  readonly #codec: Codec;
  readonly #maxMessageSize: number;
  readonly #fdChannel: FdChannel | undefined;
  /** With `readAhead`: where a read that may hold several messages lands. */
  readonly #readAheadBuffer: Buffer | undefined;
  #readable: boolean;
  #writable: boolean;
  #closed = false;

  // Incoming frame being assembled.
  readonly #header: Buffer = Buffer.alloc(LONG_HEADER_SIZE);
  /** Where a whole short header is read, made once. */
  readonly #shortHeader: Buffer = this.#header.subarray(0, SHORT_HEADER_SIZE);
  #headerFill = 0;
  #headerNeeded = SHORT_HEADER_SIZE;
  #payloadLength = -1;
  #payloadFill = 0;
  #payload: Buffer | undefined;
  #chunks: Buffer[] = [];

  // Consumers and what arrived for them.
  readonly #messages: Buffer[] = [];
  readonly #readers: Reader[] = [];
  readonly #pollers = new Set<() => void>();
  #reading = false;
  /** Whether waiting receivers poll the socket (until a poll fails with an error). */
  #pollable = POLL_MICROS > 0;
  readonly #pollBackoff = new PollBackoff();
  #settleScheduled = false;
  #eof = false;
  #endCause: Error | undefined;
  #readError: Error | undefined;

  // Writes that did not fit in the kernel buffer.
  #pendingWrites = 0;
  #writeError: Error | undefined;
  #corked: Uint8Array[] | undefined;
  #flushWaiters: Array<() => void> = [];
  #refed = true;

  /**
   * Wraps a file descriptor (a socket or pipe; this connection owns it from
   * now on and closes it) or a connected `net.Socket`.
   */
  constructor(handle: number | net.Socket, options: ConnectionOptions = {}) {
    const readable = options.readable ?? true;
    const writable = options.writable ?? true;
    if (!readable && !writable) throw new ValueError('at least one of `readable` and `writable` must be true');
    const limit = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (!(limit >= 0)) throw new TypeError(`maxMessageSize must be a non-negative number of bytes, got ${String(limit)}`);
    this.#readable = readable;
    this.#writable = writable;
    this.#codec = options.codec ?? defaultCodec;
    this.#maxMessageSize = limit;
    if (typeof handle === 'number' && (!Number.isInteger(handle) || handle < 0)) {
      throw new ValueError(`invalid handle: ${String(handle)}`);
    }
    this.#fdChannel = options.fdChannel === undefined ? undefined : new FdChannel(options.fdChannel);
    this.#readAheadBuffer = options.readAhead && readable ? Buffer.allocUnsafe(READ_AHEAD_SIZE) : undefined;

    if (typeof handle === 'number') {
      this.#fd = handle;
      this.#socket = undefined;
      // Reads and writes must fail with EAGAIN rather than wait (as a Node stream would also set it).
      setNonBlocking(handle);
    } else if (handle instanceof netModule().Socket) {
      this.#socket = handle;
      this.#fd = socketFd(handle);
      handle.pause();
      handle.on('data', (chunk: Buffer) => {
        this.#feed(chunk);
        if (!this.#wantsData()) this.#settleSoon();
      });
      handle.on('end', () => this.#onEnd(undefined));
      handle.on('error', (error: Error) => this.#onSocketError(error));
      handle.on('close', () => this.#onEnd(undefined));
    } else {
      throw new TypeError(`Connection needs a file descriptor or a net.Socket, got ${typeof handle}`);
    }
    this.#setRef(false);
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether this end can receive. */
  get readable(): boolean {
    return this.#readable;
  }

  /** Whether this end can send. */
  get writable(): boolean {
    return this.#writable;
  }

  /** The codec used by `send`/`recv`. */
  get codec(): Codec {
    return this.#codec;
  }

  /** Largest message this end accepts, in bytes. */
  get maxMessageSize(): number {
    return this.#maxMessageSize;
  }

  /** Whether this end reads several messages at a time (the `readAhead` option); a copy sent elsewhere does too. */
  get readAhead(): boolean {
    return this.#readAheadBuffer !== undefined;
  }

  /** The file descriptor of the connection. */
  fileno(): number {
    this.#checkClosed();
    return this.#fd;
  }

  /**
   * Sends an object; the other end reads it with `recv()`. The object is
   * encoded with the connection's codec. Handles in it (a `Connection`, a
   * lock, …) travel as file descriptors over connections made by `Pipe()`.
   */
  send(obj: unknown): void {
    this.#checkClosed();
    this.#checkWritable();
    const context: EncodeContext = { handles: [] };
    const bytes = this.#codec.encode(obj, context);
    if (context.handles.length === 0) {
      this.#writeFrame(bytes, true);
      return;
    }
    if (!this.#fdChannel) {
      throw new ValueError(
        `cannot send ${context.handles.length} OS handle(s) (${context.handles.map((h) => h.kind).join(', ')}) over this connection: ` +
          'only connections made by Pipe() can carry handles; pass them as Process arguments or use a Pipe',
      );
    }
    const { envelope, token } = sealEnvelope(context.handles, bytes);
    // The descriptors go first, so they are waiting when the receiver reads the envelope.
    this.#fdChannel.send(
      context.handles.map((h) => h.fd),
      token,
    );
    this.#writeFrame(envelope, true);
  }

  /**
   * Sends bytes as one message (Python's `send_bytes`): `size` bytes of
   * `buffer` from `offset` (both in bytes).
   */
  sendBytes(buffer: ArrayBufferView | ArrayBufferLike, offset = 0, size?: number): void {
    this.#checkClosed();
    this.#checkWritable();
    const bytes = bytesOf(buffer, 'buffer');
    checkInteger(offset, 'offset');
    const n = bytes.byteLength;
    if (offset < 0) throw new ValueError('offset is negative');
    if (n < offset) throw new ValueError('buffer length < offset');
    if (size === undefined || size === null) {
      size = n - offset;
    } else {
      checkInteger(size, 'size');
      if (size < 0) throw new ValueError('size is negative');
      if (offset + size > n) throw new ValueError('buffer length < offset + size');
    }
    this.#writeFrame(offset === 0 && size === n ? bytes : bytes.subarray(offset, offset + size), false);
  }

  /**
   * Receives one object sent with `send()`. Rejects with `EOFError` when the
   * other end is closed and nothing is left.
   *
   * Aborting `signal` rejects with `signal.reason` and loses nothing: a
   * message that arrives afterwards (or was half read) is kept for the next
   * receive. Once the message has arrived, an abort no longer stops it being
   * decoded and returned.
   */
  recv(options?: AbortOptions): Promise<unknown> {
    let signal: AbortSignal | undefined;
    try {
      this.#checkClosed();
      this.#checkReadable();
      signal = receiveSignal('recv', options);
    } catch (error) {
      return Promise.reject(error);
    }
    // Not an async function: a message decoded at once costs no promise of its own.
    return this.#nextMessage(undefined, signal).then(this.#decodeMessage);
  }

  readonly #decodeMessage = (message: Buffer): unknown =>
    isEnvelope(message) ? this.#decodeEnvelope(message) : decodeWhenReady(this.#codec, message);

  /** A message that carries OS handles: its descriptors come over the fd channel. */
  async #decodeEnvelope(message: Buffer): Promise<unknown> {
    if (!this.#fdChannel) {
      throw new ProtocolError('received a message with OS handles on a connection that has no fd channel');
    }
    const { body, handles, token } = openEnvelope(message);
    const fds = await this.#fdChannel.receive(token, handles.length);
    const context: DecodeContext = { handles: handles.map((h, i) => ({ ...h, fd: fds[i]! })) };
    return this.#codec.decodeAsync(body, context);
  }

  /**
   * Receives one message as bytes (Python's `recv_bytes`). A message longer
   * than `maxlength` throws `ProtocolError('bad message length')` and, as in
   * Python, leaves the connection unreadable (closed if it is not writable).
   * Aborting `signal` rejects with `signal.reason` and loses nothing, as for
   * {@link Connection.recv}.
   */
  recvBytes(options?: AbortOptions): Promise<Buffer>;
  recvBytes(maxlength?: number | null, options?: AbortOptions): Promise<Buffer>;
  recvBytes(maxlength?: number | null | AbortOptions, options?: AbortOptions): Promise<Buffer> {
    let signal: AbortSignal | undefined;
    try {
      this.#checkClosed();
      this.#checkReadable();
      if (maxlength !== null && typeof maxlength === 'object') {
        if (options !== undefined) throw new TypeError('recvBytes: give the options once, as recvBytes(maxlength, { signal }) or recvBytes({ signal })');
        options = maxlength;
        maxlength = undefined;
      }
      signal = receiveSignal('recvBytes', options);
      if (maxlength !== undefined && maxlength !== null) {
        if (typeof maxlength !== 'number' || Number.isNaN(maxlength)) {
          throw new TypeError(`maxlength must be a number of bytes, got ${String(maxlength)}`);
        }
        if (maxlength < 0) throw new ValueError('negative maxlength');
      }
    } catch (error) {
      return Promise.reject(error);
    }
    // Not an async function: one promise per message instead of two.
    return this.#nextMessage((maxlength as number | null | undefined) ?? undefined, signal);
  }

  /**
   * Receives one message into `buffer` from byte `offset` and returns its
   * length (Python's `recv_bytes_into`). If it does not fit, rejects with
   * `BufferTooShort` whose `buffer` holds the whole message. Aborting
   * `signal` rejects with `signal.reason` and loses nothing, as for
   * {@link Connection.recv}.
   */
  async recvBytesInto(buffer: ArrayBufferView | ArrayBufferLike, options?: AbortOptions): Promise<number>;
  async recvBytesInto(buffer: ArrayBufferView | ArrayBufferLike, offset?: number, options?: AbortOptions): Promise<number>;
  async recvBytesInto(buffer: ArrayBufferView | ArrayBufferLike, offset: number | AbortOptions = 0, options?: AbortOptions): Promise<number> {
    this.#checkClosed();
    this.#checkReadable();
    if (offset !== null && typeof offset === 'object') {
      if (options !== undefined) throw new TypeError('recvBytesInto: give the options once, as recvBytesInto(buffer, offset, { signal }) or recvBytesInto(buffer, { signal })');
      options = offset;
      offset = 0;
    }
    const signal = receiveSignal('recvBytesInto', options);
    const target = bytesOf(buffer, 'buffer');
    checkInteger(offset, 'offset');
    if (offset < 0) throw new ValueError('negative offset');
    if (offset > target.byteLength) throw new ValueError('offset too large');
    const message = await this.#nextMessage(undefined, signal);
    if (target.byteLength < offset + message.byteLength) {
      throw new BufferTooShort(
        message,
        `buffer too short: the message has ${message.byteLength} bytes but only ${target.byteLength - offset} ` +
          `fit after offset ${offset}; the whole message is in error.buffer`,
      );
    }
    target.set(message, offset);
    return message.byteLength;
  }

  /**
   * Whether there is something to read (a message, part of one, or the end of
   * the stream). Without `timeout` it checks and returns at once; `null` waits
   * forever; otherwise waits up to `timeout` ms (negative means 0). The
   * timeout may also be given in the options: `poll({ timeout, signal })`.
   * Aborting `signal` rejects with `signal.reason`.
   *
   * A check asks the kernel too (as Python's `select` does), so what the
   * other end sent, or its close, is seen at once, without a turn of the
   * event loop.
   */
  async poll(timeout?: Timeout | TimeoutOptions, options?: AbortOptions): Promise<boolean> {
    this.#checkClosed();
    this.#checkReadable();
    // No timeout means "check and return", not "wait forever".
    const { ms, signal } = waitArguments('poll', timeout, options, 0);
    if (signal?.aborted) throw signal.reason;
    if (this.#readyNow() || this.#kernelHasInput()) return true;
    if (ms === 0) return false;
    return new Promise<boolean>((resolve, reject) => {
      let timer: LongTimer | undefined;
      const cleanup = (): void => {
        this.#pollers.delete(onReady);
        timer?.clear();
        signal?.removeEventListener('abort', onAbort);
        this.#updateReading();
      };
      const onReady = (): void => {
        cleanup();
        resolve(true);
      };
      const onAbort = (): void => {
        cleanup();
        reject(signal!.reason);
      };
      this.#pollers.add(onReady);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#updateReading();
      if (ms !== Infinity) {
        timer = setLongTimeout(() => {
          cleanup();
          resolve(this.#readyNow() || this.#kernelHasInput());
        }, ms);
      }
    });
  }

  /**
   * Whether the kernel holds input for this end (data, or the other end's
   * close), asked without reading: `poll(2)` on the descriptor. False when
   * there is no descriptor to ask; an error (a descriptor closed under us)
   * counts as input, so that the read that follows reports it.
   */
  #kernelHasInput(): boolean {
    if (this.#fd < 0 || this.#isReleased() || !this.#canRead()) return false;
    try {
      return pollFd(this.#fd) !== 0;
    } catch {
      return true;
    }
  }

  /** Resolves once there is something to read or the stream ended (the `wait()` protocol). */
  [waitReady](signal: AbortSignal): Promise<void> {
    try {
      this.#checkClosed();
      this.#checkReadable();
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    // The kernel too, so that wait(objects, 0) sees what has been sent but not read yet.
    if (this.#readyNow() || this.#kernelHasInput()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        this.#pollers.delete(onReady);
        signal.removeEventListener('abort', onAbort);
        this.#updateReading();
      };
      const onReady = (): void => {
        cleanup();
        if (this.#closed) reject(new ProtocolError('handle is closed'));
        else resolve();
      };
      const onAbort = (): void => {
        cleanup();
        reject(signal.reason);
      };
      this.#pollers.add(onReady);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#updateReading();
    });
  }

  /**
   * Closes the connection. Pending readers are rejected; data already handed
   * to `send` is still delivered before the descriptor is closed.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    Connection.#polls.delete(this);
    if (this.#readers.length > 0) {
      const error = new ProtocolError('handle is closed: the connection was closed while a recv was waiting');
      for (const reader of this.#readers.splice(0)) reader.reject(error);
    }
    this.#notifyReady();
    this.#fdChannel?.close();
    if (this.#pendingWrites === 0) {
      this.#release();
    } else {
      this.#setRef(true);
      this.#flushWaiters.push(() => this.#release());
    }
  }

  /** Closes the socket or descriptor underneath (after the queued writes). */
  #release(): void {
    if (this.#socket) {
      this.#socket.destroy();
      return;
    }
    if (this.#released) return;
    this.#released = true;
    this.#outbox.length = 0;
    // The watch stops before the descriptor closes: the number may be reused at once.
    this.#watcher?.close();
    this.#watcher = undefined;
    try {
      closeFd(this.#fd);
    } catch {
      // Already closed by someone else: nothing left to release.
    }
  }

  /** Whether the socket or descriptor underneath is closed. */
  #isReleased(): boolean {
    return this.#socket ? this.#socket.destroyed : this.#released;
  }

  /** Closes the connection (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Resolves when every queued write has reached the kernel (or failed). */
  flush(): Promise<void> {
    if (this.#pendingWrites === 0) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push(resolve));
  }

  /**
   * Descriptor of this end's fd channel (the side socket that carries handles
   * sent through the connection), or undefined for a connection without one.
   * Give it to `new Connection(fd, { fdChannel })` when rebuilding an end by hand.
   */
  get fdChannelFd(): number | undefined {
    return this.#fdChannel?.fd;
  }

  // ---- writing -------------------------------------------------------------

  #writeFrame(payload: Uint8Array, owned: boolean): void {
    if (this.#writeError) throw brokenPipe(this.#writeError);
    const n = payload.byteLength;
    if (this.#corked) {
      this.#corked.push(encodeHeader(n), owned ? payload : Buffer.from(payload));
      return;
    }
    if (this.#pendingWrites > 0 || this.#fd < 0) {
      this.#enqueue(encodeHeader(n));
      this.#enqueue(owned ? payload : Buffer.from(payload));
      return;
    }
    if (n <= SMALL_FRAME) {
      scratch.writeInt32BE(n, 0);
      scratch.set(payload, SHORT_HEADER_SIZE);
      const total = SHORT_HEADER_SIZE + n;
      let written = 0;
      try {
        written = writeSync(this.#fd, scratch, 0, total);
      } catch (error) {
        this.#writeFailed(error);
      }
      if (written < total) this.#enqueue(Buffer.from(scratch.subarray(written, total)));
      return;
    }
    const header = encodeHeader(n);
    let written = 0;
    try {
      written = writevSync(this.#fd, [header, payload]);
    } catch (error) {
      this.#writeFailed(error);
    }
    if (written < header.byteLength) {
      this.#enqueue(header.subarray(written));
      this.#enqueue(owned ? payload : Buffer.from(payload));
    } else {
      const rest = payload.subarray(written - header.byteLength);
      if (rest.byteLength > 0) this.#enqueue(owned ? rest : Buffer.from(rest));
    }
  }

  /**
   * Holds back the frames sent until {@link kUncork}, which writes them with
   * one syscall: the handshake uses it to put two of its messages in one write.
   */
  [kCork](): void {
    this.#corked ??= [];
  }

  /** Writes the frames held back since {@link kCork}. */
  [kUncork](): void {
    const frames = this.#corked;
    this.#corked = undefined;
    if (!frames || frames.length === 0 || this.#closed) return;
    const bytes = Buffer.concat(frames);
    if (this.#pendingWrites > 0 || this.#fd < 0) {
      this.#enqueue(bytes);
      return;
    }
    let written = 0;
    try {
      written = writeSync(this.#fd, bytes);
    } catch (error) {
      this.#writeFailed(error);
    }
    if (written < bytes.byteLength) this.#enqueue(bytes.subarray(written));
  }

  /** Whether something (part of a message, or the end) has already arrived, without waiting. */
  [kHasInput](): boolean {
    return this.#readyNow();
  }

  /** A synchronous write failed: a full kernel buffer is fine (the rest is queued), anything else means the peer is gone. */
  #writeFailed(error: unknown): void {
    if (isWouldBlock(error)) return;
    this.#writeError = error as Error;
    throw brokenPipe(error);
  }

  #enqueue(chunk: Uint8Array): void {
    this.#pendingWrites += 1;
    if (this.#pendingWrites === 1) {
      flushing.add(this);
      flushAtExit();
    }
    this.#setRef(true);
    if (this.#socket) {
      this.#socket.write(chunk, this.#written);
    } else {
      this.#outbox.push(chunk);
      this.#watch();
    }
  }

  /** One queued write reached the kernel, or failed. */
  readonly #written = (error?: Error | null): void => {
    if (error && !this.#writeError) this.#writeError = error;
    this.#pendingWrites -= 1;
    if (this.#pendingWrites === 0) {
      flushing.delete(this);
      for (const waiter of this.#flushWaiters.splice(0)) waiter();
      this.#updateReading();
    }
  };

  /** The descriptor has room: writes what waits, as far as it fits. */
  #onWritable(): void {
    const outbox = this.#outbox;
    while (outbox.length > 0) {
      const chunk = outbox[0]!;
      let n: number;
      try {
        n = writeSync(this.#fd, chunk);
      } catch (error) {
        if (isWouldBlock(error)) break;
        // The peer is gone: every queued write fails (later sends throw).
        for (let i = outbox.splice(0).length; i > 0; i--) this.#written(error as Error);
        break;
      }
      if (n < chunk.byteLength) {
        outbox[0] = chunk.subarray(n);
      } else {
        outbox.shift();
        this.#written(null);
      }
    }
    this.#watch();
  }

  /**
   * Watches the descriptor for what is wanted now: reading while a receiver
   * (or a `poll`/`wait`) waits, writing while writes are queued.
   */
  #watch(): void {
    if (this.#socket || this.#released || this.#unwatchable) return;
    const events = (this.#reading ? READABLE : 0) | (this.#outbox.length > 0 ? WRITABLE : 0);
    if (events === this.#watching) return;
    if (this.#watcher === undefined) {
      if (events === 0) return;
      this.#watcher = new FdWatcher(this.#fd, this.#onReady);
      if (!this.#refed) this.#watcher.ref(false);
    }
    this.#watching = events;
    try {
      this.#watcher.set(events);
    } catch (error) {
      // The descriptor cannot be watched (closed under us): the stream is over, both ways.
      this.#watching = 0;
      this.#unwatchable = true;
      for (let i = this.#outbox.splice(0).length; i > 0; i--) this.#written(error as Error);
      this.#onSocketError(error as Error);
    }
  }

  readonly #onReady = (events: number, error?: Error): void => {
    if (error) {
      // libuv reports a socket's pending error (a reset, with data perhaps still to read before it)
      // as EBADF and stops watching: reading and writing find out what it is.
      this.#watching = 0;
      events = READABLE | WRITABLE;
    }
    if (events & WRITABLE) this.#onWritable();
    if (events & ~WRITABLE) this.#onReadable();
    if (error) this.#watch();
  };

  // ---- reading -------------------------------------------------------------

  #nextMessage(maxlength: number | undefined, signal: AbortSignal | undefined): Promise<Buffer> {
    // An aborted signal rejects at once, before anything is taken.
    if (signal?.aborted) return Promise.reject(signal.reason);
    const queued = this.#messages[0];
    if (queued !== undefined && this.#readers.length === 0) {
      if (maxlength !== undefined && queued.byteLength > maxlength) {
        this.#messages.shift();
        return Promise.reject(this.#badMessageLength(queued.byteLength, maxlength));
      }
      this.#messages.shift();
      return Promise.resolve(queued);
    }
    if (this.#readers.length === 0) {
      const failure = this.#pendingFailure(maxlength);
      if (failure) return Promise.reject(failure);
    }
    return new Promise<Buffer>((resolve, reject) => {
      const reader: Reader = { maxlength, resolve, reject };
      if (signal) this.#abortable(reader, signal);
      this.#readers.push(reader);
      this.#updateReading();
      // Over a descriptor the reads are ours (exact, into our buffers): they can be polled.
      if (this.#pollable && this.#socket === undefined) Connection.#polls.add(this);
    });
  }

  /**
   * Lets `signal` withdraw `reader` while it waits. Nothing is lost: the bytes
   * of a message read so far stay in the frame state (reading is exact, so
   * they are all this end took), and the message goes to the next receiver.
   * A reader already served keeps its message.
   */
  #abortable(reader: Reader, signal: AbortSignal): void {
    // Nobody may wait any more: stop watching, or the watch keeps the process alive.
    withdrawOnAbort(this.#readers, reader, signal, () => this.#updateReading());
  }

  /** Connections of this thread with a receiver waiting, polled together once the current code has run. */
  static readonly #polls = new PollGroup<Connection>({
    poll: (connection) => connection.#pollOnce(),
    backoff: (connection) => connection.#pollBackoff,
    yieldCpu: schedYield,
  });

  /**
   * Reads what the descriptor holds now, straight into the frame state
   * machine, until one receiver has its message. The end of the stream and
   * errors are left to the event loop's read, which reports them as usual.
   */
  #pollOnce(): PollOutcome {
    if (this.#readers.length === 0 || !this.#pollable || this.#released || !this.#canRead()) return 'leave';
    const readers = this.#readers.length;
    while (this.#readers.length === readers && this.#canRead()) {
      let n: number | null;
      const target = this.#readTarget();
      try {
        n = this.#readSome(target);
      } catch {
        this.#pollable = false; // broken: the event loop's read will say
        break;
      }
      if (n === null || n === 0) break;
      this.#took(target, n);
    }
    if (this.#readers.length < readers) {
      // Nobody may wait next: stop watching then, or the watch keeps the process alive.
      if (!this.#wantsData()) this.#settleSoon();
      return 'delivered';
    }
    return this.#pollable ? 'nothing' : 'leave';
  }

  /** Where the next read lands: the read-ahead buffer between messages when reading ahead, else exactly what is missing. */
  #readTarget(): Uint8Array {
    return this.#readAheadBuffer !== undefined && this.#payloadLength < 0 && this.#headerFill === 0 ? this.#readAheadBuffer : this.#nextTarget();
  }

  /** `n` bytes were read into `target` (from {@link Connection.#readTarget}). */
  #took(target: Uint8Array, n: number): void {
    if (target === this.#readAheadBuffer) this.#feed(target.subarray(0, n));
    else this.#advance(n);
  }

  /**
   * The descriptor is readable (data, or its end): reads what those waiting
   * need, exactly as the polled reads do, and reports the end of the stream
   * and errors.
   */
  #onReadable(): void {
    while (this.#wantsData()) {
      const target = this.#readTarget();
      let n: number | null;
      try {
        n = this.#readSome(target);
      } catch (error) {
        // A reset ends the stream as a close does; mid-message it is a truncated message.
        this.#onSocketError(error as Error);
        return;
      }
      if (n === null) break;
      if (n === 0) {
        this.#onEnd(undefined);
        return;
      }
      this.#took(target, n);
    }
    if (!this.#wantsData()) this.#settleSoon();
  }

  /** One non-blocking read: bytes read, 0 at the end, null when nothing is there. */
  #readSome(target: Uint8Array): number | null {
    if (!this.#plainFd) {
      try {
        return readPolling(this.#fd, target, 0);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOTSOCK') throw error;
        this.#plainFd = true;
      }
    }
    return readSome(this.#fd, target);
  }

  /** Error for the head reader if it cannot be served: a known-too-long frame, the end, a broken stream. */
  #pendingFailure(maxlength: number | undefined): Error | undefined {
    if (maxlength !== undefined && this.#payloadLength > maxlength) {
      return this.#badMessageLength(this.#payloadLength, maxlength);
    }
    if (this.#readError) return this.#readError;
    if (this.#eof) return new EOFError(undefined, { cause: this.#endCause });
    return undefined;
  }

  /** Python's `_bad_message_length`: the stream is out of sync, so stop reading it. */
  #badMessageLength(length: number, maxlength: number): ProtocolError {
    const error = new ProtocolError(
      `bad message length: the message has ${length} bytes, more than maxlength ${maxlength}; ` +
        (this.#writable ? 'the connection is now write-only' : 'the connection is now closed'),
    );
    this.#abandonReading(error);
    return error;
  }

  #abandonReading(error: Error): void {
    this.#readError = error;
    this.#payload = undefined;
    this.#chunks = [];
    if (this.#writable) {
      this.#readable = false;
      for (const reader of this.#readers.splice(0)) reader.reject(error);
      this.#notifyReady();
      this.#updateReading();
    } else {
      for (const reader of this.#readers.splice(0)) reader.reject(error);
      this.close();
    }
  }

  #readyNow(): boolean {
    return (
      this.#messages.length > 0 ||
      (this.#socket !== undefined && this.#socket.readableLength > 0) ||
      this.#headerFill > 0 ||
      this.#payloadLength >= 0 ||
      this.#eof ||
      this.#readError !== undefined
    );
  }

  #wantsData(): boolean {
    return (this.#readers.length > 0 || this.#pollers.size > 0) && this.#canRead();
  }

  #canRead(): boolean {
    return !this.#closed && this.#readable && !this.#eof && this.#readError === undefined;
  }

  #updateReading(): void {
    if (this.#wantsData()) {
      if (!this.#reading) {
        this.#reading = true;
        if (this.#socket) this.#socket.resume();
        else this.#watch();
      }
    } else {
      this.#stopReading();
    }
    this.#setRef(this.#reading || this.#pendingWrites > 0);
  }

  #stopReading(): void {
    if (this.#reading) {
      this.#reading = false;
      if (this.#socket) {
        if (!this.#socket.destroyed) this.#socket.pause();
      } else {
        this.#watch();
      }
    }
  }

  #setRef(on: boolean): void {
    if (on === this.#refed) return;
    this.#refed = on;
    if (this.#socket) {
      if (on) this.#socket.ref();
      else this.#socket.unref();
    } else {
      this.#watcher?.ref(on);
    }
  }

  /** Whether input that arrived is held here, not yet received: a copy sent elsewhere would not see it. */
  [kHoldsInput](): boolean {
    return this.#messages.length > 0 || this.#headerFill > 0 || this.#payloadLength >= 0;
  }

  /** Where the next read should land: the rest of the header, or the rest of the payload. */
  #nextTarget(): Uint8Array {
    let target: Uint8Array;
    if (this.#payloadLength < 0) {
      target =
        this.#headerFill === 0 && this.#headerNeeded === SHORT_HEADER_SIZE
          ? this.#shortHeader
          : this.#header.subarray(this.#headerFill, this.#headerNeeded);
    } else if (this.#payload) {
      target = this.#payloadFill === 0 ? this.#payload : this.#payload.subarray(this.#payloadFill);
    } else {
      // A large message: chunks are allocated as the data arrives.
      const chunkFill = this.#payloadFill % CHUNK_SIZE;
      if (chunkFill === 0) {
        this.#chunks.push(Buffer.allocUnsafe(Math.min(CHUNK_SIZE, this.#payloadLength - this.#payloadFill)));
      }
      const chunk = this.#chunks[this.#chunks.length - 1]!;
      target = chunk.subarray(chunkFill);
    }
    return target;
  }

  /**
   * Nobody waits right now, but the code that just got a message usually asks
   * for the next one at once. Decide once that code has run (after the
   * microtasks, still before the event loop polls again), which spares a
   * stop and a restart of the watch per message.
   */
  #settleSoon(): void {
    if (this.#settleScheduled) return;
    this.#settleScheduled = true;
    enqueueMicrotask(this.#settleNextTick);
  }

  readonly #settleNextTick = (): void => void process.nextTick(this.#settle);

  /** Stops reading if, after the microtasks that followed a read, still nobody waits. */
  readonly #settle = (): void => {
    this.#settleScheduled = false;
    if (!this.#wantsData()) this.#updateReading();
  };

  /** Copies arbitrary incoming bytes through the frame state machine ('data' events). */
  #feed(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.byteLength && this.#readError === undefined && this.#readable && !this.#closed) {
      const target = this.#nextTarget();
      const n = Math.min(target.byteLength, chunk.byteLength - offset);
      target.set(chunk.subarray(offset, offset + n));
      offset += n;
      this.#advance(n);
    }
  }

  /** `n` more bytes were written into the current target. */
  #advance(n: number): void {
    if (n <= 0) return;
    if (this.#payloadLength < 0) {
      const wasEmpty = this.#headerFill === 0;
      this.#headerFill += n;
      if (wasEmpty) this.#notifyReady();
      if (this.#headerFill < this.#headerNeeded) return;
      if (this.#headerNeeded === SHORT_HEADER_SIZE) {
        const length = this.#header.readInt32BE(0);
        if (length >= 0) {
          this.#headerFill = 0;
          this.#startPayload(length);
          return;
        }
      }
      let header;
      try {
        header = decodeHeader(this.#header.subarray(0, this.#headerFill));
      } catch (error) {
        this.#failStream(error as Error);
        return;
      }
      if (!header.complete) {
        this.#headerNeeded = header.needed;
        return;
      }
      this.#headerFill = 0;
      this.#headerNeeded = SHORT_HEADER_SIZE;
      this.#startPayload(header.length);
      return;
    }
    this.#payloadFill += n;
    if (this.#payloadFill === this.#payloadLength) this.#completePayload();
  }

  #startPayload(length: number): void {
    if (length > this.#maxMessageSize) {
      this.#failStream(tooLargeError(length, this.#maxMessageSize));
      return;
    }
    const head = this.#readers[0];
    this.#payloadLength = length;
    this.#payloadFill = 0;
    if (head && head.maxlength !== undefined && length > head.maxlength) {
      this.#readers.shift()!.reject(this.#badMessageLength(length, head.maxlength));
      return;
    }
    if (length === 0) {
      this.#completePayload();
      return;
    }
    this.#payload = length <= CHUNK_SIZE ? Buffer.allocUnsafe(length) : undefined;
    this.#chunks = [];
  }

  #completePayload(): void {
    const message =
      this.#payload ?? (this.#payloadLength === 0 ? Buffer.alloc(0) : Buffer.concat(this.#chunks, this.#payloadLength));
    this.#payload = undefined;
    this.#chunks = [];
    this.#payloadLength = -1;
    this.#payloadFill = 0;
    const reader = this.#readers.shift();
    if (reader) reader.resolve(message);
    else this.#messages.push(message);
    this.#notifyReady();
  }

  /** The stream cannot be parsed any further (garbage header, message over the limit). */
  #failStream(error: Error): void {
    this.#readError = error;
    this.#payload = undefined;
    this.#chunks = [];
    this.#payloadLength = -1;
    this.#headerFill = 0;
    if (this.#messages.length === 0) {
      for (const reader of this.#readers.splice(0)) reader.reject(error);
    }
    this.#notifyReady();
    this.#stopReading();
  }

  #onEnd(cause: Error | undefined): void {
    if (this.#eof) return;
    this.#eof = true;
    this.#endCause = cause;
    this.#reading = false;
    const midMessage = this.#headerFill > 0 || this.#payloadLength >= 0;
    if (midMessage && this.#readError === undefined) {
      this.#readError = new ProtocolError(
        'got end of file during message: the other end closed the connection in the middle of a message',
        { cause },
      );
    }
    // Errors are made only for someone waiting: a close is the common case, and stacks cost.
    if (this.#readers.length > 0) {
      const error = this.#readError ?? new EOFError(undefined, { cause });
      for (const reader of this.#readers.splice(0)) reader.reject(error);
    }
    this.#notifyReady();
    this.#watch();
    this.#setRef(this.#pendingWrites > 0 && !this.#isReleased());
  }

  #onSocketError(error: Error): void {
    const syscall = (error as NodeJS.ErrnoException).syscall;
    if (syscall === 'write' || syscall === 'writev' || this.#pendingWrites > 0) {
      this.#writeError ??= error;
      for (const waiter of this.#flushWaiters.splice(0)) waiter();
    }
    // A reset ends the stream as a close does; mid-message it is a truncated message.
    this.#onEnd(error);
  }

  #notifyReady(): void {
    if (this.#pollers.size === 0) return;
    for (const poller of [...this.#pollers]) poller();
  }

  #checkClosed(): void {
    if (this.#closed) throw new ProtocolError('handle is closed: the connection was closed with close()');
  }

  #checkReadable(): void {
    if (!this.#readable) {
      throw new ProtocolError(
        this.#readError
          ? `connection is write-only since an earlier error: ${this.#readError.message}`
          : 'connection is write-only: this end can only send (the second end of Pipe(false))',
      );
    }
  }

  #checkWritable(): void {
    if (!this.#writable) {
      throw new ProtocolError('connection is read-only: this end can only receive (the first end of Pipe(false))');
    }
  }
}

/**
 * Waits until every connection in this process has handed its queued writes
 * to the kernel. A process that calls `process.exit()` right after sending
 * large messages should await this first.
 */
export async function flushConnections(): Promise<void> {
  await Promise.all([...flushing].map((c) => c.flush()));
}

/** Kind of the handle record of a Connection's data socket. */
export const CONNECTION_KIND = 'mpjs.Connection';
/** Kind of the handle record of a Connection's fd channel. */
export const FD_CHANNEL_KIND = 'mpjs.Connection.fdChannel';

/** What a Connection becomes inside a message: indexes into the handles, and its flags. */
interface ConnectionData {
  handle: number;
  fdChannel: number;
  readable: boolean;
  writable: boolean;
  maxMessageSize: number;
  readAhead?: boolean;
}

function isConnectionData(data: unknown): data is ConnectionData {
  const d = data as Partial<ConnectionData> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    Number.isInteger(d.handle) &&
    Number.isInteger(d.fdChannel) &&
    typeof d.readable === 'boolean' &&
    typeof d.writable === 'boolean' &&
    typeof d.maxMessageSize === 'number' &&
    (d.readAhead === undefined || typeof d.readAhead === 'boolean')
  );
}

function handleAt(context: DecodeContext, index: number, kind: string): number {
  const record = context.handles[index];
  if (!record || record.kind !== kind || !Number.isInteger(record.fd) || record.fd < 0) {
    throw new SerializationError(`a received Connection refers to handle #${index} (${kind}), which did not arrive with the message`);
  }
  return record.fd;
}

// A Connection inside a message (or in Process arguments) travels as its file
// descriptors; the receiving side rebuilds it around its own copies.
registerType<Connection>({
  name: CONNECTION_KIND,
  type: Connection,
  // A receiver that has not loaded this package yet imports it to rebuild the Connection.
  module: import.meta.url,
  encode(connection, context): ConnectionData {
    if (!context) {
      throw new SerializationError(
        'a Connection can only travel where OS handles can: send it over a Pipe() connection or pass it as a Process argument',
      );
    }
    if (connection.closed) throw new SerializationError('cannot send a closed Connection');
    if (connection[kHoldsInput]()) {
      throw new SerializationError(
        'cannot send a Connection that has read ahead messages it has not delivered yet: receive them first (or create it without readAhead)',
      );
    }
    const { readable, writable } = connection;
    const handle = context.handles.push({ fd: connection.fileno(), kind: CONNECTION_KIND, meta: { readable, writable } }) - 1;
    const channel = connection.fdChannelFd;
    const fdChannel = channel === undefined ? -1 : context.handles.push({ fd: channel, kind: FD_CHANNEL_KIND }) - 1;
    const data: ConnectionData = { handle, fdChannel, readable, writable, maxMessageSize: connection.maxMessageSize };
    if (connection.readAhead) data.readAhead = true;
    return data;
  },
  decode(data, context): Connection {
    if (!context) throw new SerializationError('a Connection arrived without its OS handles (no decode context was given)');
    if (!isConnectionData(data)) throw new SerializationError('malformed Connection in a message');
    const fd = handleAt(context, data.handle, CONNECTION_KIND);
    const fdChannel = data.fdChannel < 0 ? undefined : handleAt(context, data.fdChannel, FD_CHANNEL_KIND);
    return new Connection(fd, {
      readable: data.readable,
      writable: data.writable,
      maxMessageSize: data.maxMessageSize,
      fdChannel,
      readAhead: data.readAhead === true,
    });
  },
});
