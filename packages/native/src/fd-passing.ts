/**
 * Unix sockets that carry file descriptors: a `socketpair`, and sending or
 * receiving descriptors with `SCM_RIGHTS` alongside a few bytes of data. This
 * is how a running process hands shared memory, sockets or pipes to another.
 *
 * A socket from {@link socketpair} can also be wrapped for ordinary streaming
 * with `new net.Socket({ fd, readable: true, writable: true })`; do not mix
 * that with {@link recvFds} on the same descriptor (both would watch it).
 */
import { constants } from 'node:os';
import { EOFError, normalizeTimeout, ProtocolError, setLongTimeout, TimeoutError, type LongTimer, type Timeout } from '@mpjs/util';
import { native, type NativeReceived } from './binding.js';
import { FdWatcher, READABLE } from './fd-watch.js';
import { systemError } from './system-error.js';
import { checkFd, checkInteger, checkOptions, checkSignal, describe } from './validate.js';

const { EEXIST, ETIMEDOUT } = constants.errno;

/** The most descriptors one message can carry on Linux (`SCM_MAX_FD`). */
export const MAX_FDS_PER_MESSAGE = 253;

/** Options of {@link recvFdsSync}. */
export interface RecvFdsSyncOptions {
  /** Most descriptors to accept (default 16, at most 253). More than this is an error and the extra ones are lost. */
  maxFds?: number;
  /** Most bytes of data to read (default 65536). */
  maxBytes?: number;
  /** Milliseconds to wait for a message; `undefined`/`null` waits forever. */
  timeout?: Timeout;
}

/** Options of {@link recvFds}. */
export interface RecvFdsOptions extends RecvFdsSyncOptions {
  /** Aborting rejects with `signal.reason` and stops receiving. */
  signal?: AbortSignal;
}

/** What one receive got. */
export interface ReceivedFds {
  /** The descriptors, new in this process and close-on-exec; the receiver owns (and closes) them. */
  fds: number[];
  /** The data bytes (at least one); descriptors arrive with the first byte of the `sendFds` that sent them. */
  data: Buffer;
}

/**
 * Creates a connected pair of Unix stream sockets (`AF_UNIX`, `SOCK_STREAM`,
 * close-on-exec). Give one end to a child in its stdio table
 * (`spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe', fd] })` makes it fd 3
 * there) and keep the other.
 */
export function socketpair(): [number, number] {
  const result = native.socketpair();
  if (typeof result === 'number') throw systemError(result, 'socketpair');
  return result;
}

/**
 * Creates a pipe (`pipe2`, close-on-exec): `[readEnd, writeEnd]`. Bytes
 * written to the second come out of the first. Cheaper per message than a
 * socketpair, one way only, and it cannot carry descriptors.
 *
 * @param capacity Bytes of buffer to ask for (`F_SETPIPE_SZ`; Linux rounds
 *   it up to a power-of-two number of pages); the system's default (64 KiB on
 *   Linux) when 0, or when the request is refused, as it is beyond
 *   `/proc/sys/fs/pipe-max-size` or once the user's pipes hold more than
 *   `pipe-user-pages-soft`.
 */
export function pipe(capacity = 0): [number, number] {
  if (!Number.isInteger(capacity) || capacity < 0 || capacity > 0x7fffffff) {
    throw new RangeError(`pipe: "capacity" must be a number of bytes from 0 to 2147483647, got ${String(capacity)}`);
  }
  const result = native.pipe(capacity);
  if (typeof result === 'number') throw systemError(result, 'pipe');
  return result;
}

/**
 * A second descriptor for what `fd` refers to (`fcntl(F_DUPFD_CLOEXEC)`),
 * close-on-exec; closing either leaves the other open. Lets a socket that
 * Node opened be taken over by other code once Node's handle is closed.
 */
export function dupFd(fd: number): number {
  checkFd('dupFd', 'fd', fd);
  const result = native.dupFd(fd);
  if (result < 0) throw systemError(result, 'dup');
  return result;
}

/**
 * Sends `data` over a Unix socket with `fds` attached to its first byte
 * (`sendmsg` with `SCM_RIGHTS`). The receiver gets its own copies of the
 * descriptors; the caller's stay open. Blocks until all bytes are written.
 *
 * @param data At least one byte: descriptors cannot travel without data.
 * @returns The number of bytes sent (all of `data`).
 */
export function sendFds(socketFd: number, fds: readonly number[], data: Uint8Array): number {
  const fn = 'sendFds';
  checkFd(fn, 'socketFd', socketFd);
  if (!Array.isArray(fds)) throw new TypeError(`${fn}: "fds" must be an array of file descriptors, got ${describe(fds)}`);
  if (fds.length > MAX_FDS_PER_MESSAGE) {
    throw new RangeError(`${fn}: at most ${MAX_FDS_PER_MESSAGE} descriptors fit in one message, got ${fds.length}`);
  }
  fds.forEach((fd, i) => checkFd(fn, `fds[${i}]`, fd));
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(`${fn}: "data" must be a Uint8Array or Buffer, got ${describe(data)}`);
  }
  if (data.length === 0) {
    throw new RangeError(`${fn}: "data" must hold at least one byte: descriptors travel attached to data`);
  }
  const rc = native.sendFds(socketFd, Int32Array.from(fds), data);
  if (rc < 0) throw systemError(rc, 'sendmsg', { message: `cannot send on fd ${socketFd}` });
  return rc;
}

interface Limits {
  maxFds: number;
  maxBytes: number;
  ms: number;
}

function checkLimits(fn: string, opts: Partial<RecvFdsSyncOptions>): Limits {
  const maxFds = opts.maxFds === undefined ? 16 : checkInteger(fn, 'maxFds', opts.maxFds, 0, MAX_FDS_PER_MESSAGE);
  const maxBytes = opts.maxBytes === undefined ? 65536 : checkInteger(fn, 'maxBytes', opts.maxBytes, 1, 2 ** 31 - 1);
  return { maxFds, maxBytes, ms: normalizeTimeout(opts.timeout, `${fn}: "timeout"`) };
}

/** Turns the addon's answer into a result, or throws what went wrong. */
function toReceived(fn: string, socketFd: number, maxFds: number, result: NativeReceived | number): ReceivedFds {
  if (typeof result === 'number') throw systemError(result, 'recvmsg', { message: `cannot receive on fd ${socketFd}` });
  const [data, fds, truncated] = result;
  if (truncated) {
    for (const fd of fds) native.closeFd(fd);
    throw new ProtocolError(
      `${fn}: a message on fd ${socketFd} carried more than ${maxFds} descriptors (maxFds); ` +
        'the kernel discarded the rest, so the message was dropped. Raise maxFds to receive it',
    );
  }
  if (data.length === 0) throw new EOFError(`${fn}: the other end of the socket (fd ${socketFd}) is closed`);
  return { fds, data };
}

/**
 * Receives one message and the descriptors attached to it, without blocking
 * the event loop (`recvmsg` with `MSG_CMSG_CLOEXEC` when the socket is
 * readable, as a {@link FdWatcher} tells). The socket is switched to
 * non-blocking mode.
 *
 * Rejects with `EOFError` when the other end has closed, `TimeoutError` on
 * timeout, `ProtocolError` when more than `maxFds` descriptors came, and
 * `signal.reason` on abort. A pending receive keeps the process alive.
 */
export function recvFds(socketFd: number, options?: RecvFdsOptions): Promise<ReceivedFds> {
  return new Promise<ReceivedFds>((resolve, reject) => {
    const fn = 'recvFds';
    checkFd(fn, 'socketFd', socketFd);
    const opts = checkOptions<RecvFdsOptions>(fn, options);
    const { maxFds, maxBytes, ms } = checkLimits(fn, opts);
    const signal = checkSignal(fn, opts.signal);
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let timer: LongTimer | undefined;
    let watcher: FdWatcher;
    const stop = (): void => {
      timer?.clear();
      signal?.removeEventListener('abort', onAbort);
      watcher.close();
    };
    const onAbort = (): void => {
      stop();
      reject(signal!.reason);
    };
    try {
      // Readable: one receive (it never waits); a wake-up with nothing to read keeps watching.
      watcher = new FdWatcher(socketFd, (_events, failure) => {
        const result = native.recvFdsSync(socketFd, maxFds, maxBytes, 0);
        if (result === -ETIMEDOUT && failure === undefined) return;
        stop();
        try {
          resolve(toReceived(fn, socketFd, maxFds, result === -ETIMEDOUT ? failureCode(failure!) : result));
        } catch (error) {
          reject(error);
        }
      });
      watcher.set(READABLE);
    } catch (error) {
      const message =
        (error as NodeJS.ErrnoException).code === 'EEXIST'
          ? `fd ${socketFd} is already watched by this thread's event loop (wrapped in a net.Socket?); ` +
            'receive descriptors on a socket that nothing else reads'
          : `cannot watch fd ${socketFd} for messages`;
      reject(systemError((error as NodeJS.ErrnoException).errno ?? -EEXIST, 'recvmsg', { message }));
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    if (ms !== Infinity) {
      timer = setLongTimeout(() => {
        stop();
        reject(new TimeoutError(`${fn}: no message arrived on fd ${socketFd} within ${ms} ms`));
      }, ms);
    }
  });
}

/** The errno of a watch that failed with nothing to read (a negative number, as the addon returns). */
function failureCode(failure: NodeJS.ErrnoException): number {
  return typeof failure.errno === 'number' && failure.errno < 0 ? failure.errno : -EEXIST;
}

/**
 * Blocking form of {@link recvFds}: waits on the calling thread for one
 * message. Throws `EOFError`, `TimeoutError` or `ProtocolError` as
 * {@link recvFds} rejects.
 */
export function recvFdsSync(socketFd: number, options?: RecvFdsSyncOptions): ReceivedFds {
  const fn = 'recvFdsSync';
  checkFd(fn, 'socketFd', socketFd);
  const { maxFds, maxBytes, ms } = checkLimits(fn, checkOptions<RecvFdsSyncOptions>(fn, options));
  const result = native.recvFdsSync(socketFd, maxFds, maxBytes, ms === Infinity ? -1 : ms);
  if (result === -ETIMEDOUT) throw new TimeoutError(`${fn}: no message arrived on fd ${socketFd} within ${ms} ms`);
  return toReceived(fn, socketFd, maxFds, result);
}
