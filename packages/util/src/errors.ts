/**
 * The error classes of mpjs. Python's `multiprocessing` raises `ProcessError`
 * and its subclasses, `queue.Empty`/`queue.Full`, `EOFError`, `ValueError` and
 * `AssertionError`; each has a class here with a fixed `name` and a stable
 * `code` (`'ERR_MP_…'`) so callers can test either.
 *
 * `name` is set on each prototype rather than read from `constructor.name`, so
 * it survives minifiers and bundlers.
 */

/** Options accepted by every mpjs error constructor. */
export interface MpErrorOptions {
  /** The error that led to this one. */
  cause?: unknown;
}

/** Base class of the errors that Python derives from `multiprocessing.ProcessError`. */
export class ProcessError extends Error {
  /** Stable machine-readable code. */
  readonly code: string = 'ERR_MP_PROCESS';
  constructor(message?: string, options?: MpErrorOptions) {
    super(message, options);
  }
}

/**
 * Thrown by `Connection.recvBytesInto()` when the supplied buffer is too small.
 * `buffer` holds the whole message that was read.
 */
export class BufferTooShort extends ProcessError {
  override readonly code: string = 'ERR_MP_BUFFER_TOO_SHORT';
  /** The complete message that did not fit. */
  readonly buffer: Buffer;
  constructor(buffer: Buffer, message?: string, options?: MpErrorOptions) {
    super(message ?? `buffer too short for a message of ${buffer.length} bytes`, options);
    this.buffer = buffer;
  }
}

/** Thrown when the HMAC challenge between two connection ends fails. */
export class AuthenticationError extends ProcessError {
  override readonly code: string = 'ERR_MP_AUTHENTICATION';
}

/** Thrown when a wait with a timeout expires (`AsyncResult.get(timeout)` and friends). */
export class TimeoutError extends ProcessError {
  override readonly code: string = 'ERR_MP_TIMEOUT';
}

/**
 * An error raised in another process (a manager's server, a pool worker) that
 * could not be rebuilt as its own class. `remoteStack` is the other side's stack.
 */
export class RemoteError extends ProcessError {
  override readonly code: string = 'ERR_MP_REMOTE';
  /** The stack trace as the remote side printed it. */
  readonly remoteStack: string | undefined;
  constructor(message?: string, remoteStack?: string, options?: MpErrorOptions) {
    super(message, options);
    this.remoteStack = remoteStack;
  }
}

/** Python's `queue.Empty`: a non-blocking or timed `get()` found nothing. */
export class Empty extends Error {
  readonly code: string = 'ERR_MP_EMPTY';
  constructor(message = 'queue is empty', options?: MpErrorOptions) {
    super(message, options);
  }
}

/** Python's `queue.Full`: a non-blocking or timed `put()` found no room. */
export class Full extends Error {
  readonly code: string = 'ERR_MP_FULL';
  constructor(message = 'queue is full', options?: MpErrorOptions) {
    super(message, options);
  }
}

/** Python's `threading.BrokenBarrierError`. */
export class BrokenBarrierError extends Error {
  readonly code: string = 'ERR_MP_BROKEN_BARRIER';
  constructor(message = 'the barrier is broken', options?: MpErrorOptions) {
    super(message, options);
  }
}

/** Python's `EOFError`: the other end of a connection closed and nothing is left to read. */
export class EOFError extends Error {
  readonly code: string = 'ERR_MP_EOF';
  constructor(message = 'end of file: the other end of the connection is closed', options?: MpErrorOptions) {
    super(message, options);
  }
}

/** Where Python raises `ValueError` (bad argument, closed object, wrong state). */
export class ValueError extends Error {
  readonly code: string = 'ERR_MP_VALUE';
}

/** Where Python raises `AssertionError` (e.g. releasing an RLock one does not own). */
export class AssertionError extends Error {
  readonly code: string = 'ERR_MP_ASSERTION';
}

/** Where Python raises `OSError` for protocol or I/O failures (bad message length, truncated frame). */
export class ProtocolError extends Error {
  readonly code: string = 'ERR_MP_PROTOCOL';
}

const classes = {
  ProcessError,
  BufferTooShort,
  AuthenticationError,
  TimeoutError,
  RemoteError,
  Empty,
  Full,
  BrokenBarrierError,
  EOFError,
  ValueError,
  AssertionError,
  ProtocolError,
} as const;

for (const [name, cls] of Object.entries(classes)) {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true, enumerable: false });
}

/** Every mpjs error class by name, so a codec can rebuild them by name. */
export const errorClasses: Readonly<Record<string, new (...args: never[]) => Error>> = classes;
