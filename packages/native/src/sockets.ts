/**
 * Stream sockets made with plain system calls: a listening socket, the
 * connections it accepts, and outgoing connections, each a descriptor
 * (non-blocking, close-on-exec) from the start. Read and write them with
 * {@link readPolling} and `fs.writeSync`, and learn when they are ready with
 * a {@link FdWatcher}; no Node stream is made around them.
 */
import { constants } from 'node:os';
import { native } from './binding.js';
import { systemError } from './system-error.js';
import { checkFd, checkInteger, describe } from './validate.js';

const { EAGAIN } = constants.errno;

/** Where a socket listens or connects: a Unix socket path (a leading NUL byte: abstract name), or an IPv4 address and port. */
export type SocketAddress = { path: string } | { host: string; port: number };

function parts(fn: string, address: SocketAddress): [unix: boolean, where: string, port: number] {
  if (address !== null && typeof address === 'object' && 'path' in address) {
    if (typeof address.path !== 'string' || address.path.length === 0) {
      throw new TypeError(`${fn}: "path" must be a non-empty string, got ${describe(address.path)}`);
    }
    if (Buffer.byteLength(address.path) > 107) {
      throw new RangeError(`${fn}: the socket path ${JSON.stringify(address.path)} is longer than the 107 bytes Linux allows; use a shorter one`);
    }
    return [true, address.path, 0];
  }
  if (address !== null && typeof address === 'object' && 'host' in address) {
    if (typeof address.host !== 'string') throw new TypeError(`${fn}: "host" must be an IPv4 address string, got ${describe(address.host)}`);
    return [false, address.host, checkInteger(fn, 'port', address.port, 0, 65535)];
  }
  throw new TypeError(`${fn}: the address must be { path } or { host, port }, got ${describe(address)}`);
}

function where(address: SocketAddress): string {
  return 'path' in address ? address.path : `${address.host}:${address.port}`;
}

/**
 * Binds a stream socket to `address` and listens (`backlog`: most
 * connections waiting to be accepted). An IPv4 listener reuses a port in
 * TIME_WAIT (`SO_REUSEADDR`), as CPython's does.
 *
 * @returns The descriptor, and for IPv4 the port bound (the real one when 0 was asked for).
 * @throws A system error (`EADDRINUSE`, `EACCES`, `ENOENT` for a missing directory…); `EINVAL` for a host that is no IPv4 address.
 */
export function listenSocket(address: SocketAddress, backlog: number): { fd: number; port: number | null } {
  const fn = 'listenSocket';
  const [unix, text, port] = parts(fn, address);
  checkInteger(fn, 'backlog', backlog, 0, 2 ** 31 - 1);
  const fd = native.listenSocket(unix, text, port, backlog);
  if (fd < 0) throw systemError(fd, unix ? 'bind' : 'listen', { target: where(address) });
  if (unix) return { fd, port: null };
  const bound = native.localPort(fd);
  if (bound < 0) {
    native.closeFd(fd);
    throw systemError(bound, 'getsockname');
  }
  return { fd, port: bound };
}

/** A connection {@link acceptSocket} took. */
export interface AcceptedSocket {
  fd: number;
  /** The peer's IPv4 address and port, or null for a Unix socket (its clients are unnamed). */
  peer: { host: string; port: number } | null;
}

/**
 * Takes one connection waiting on the listening socket `fd` (non-blocking,
 * close-on-exec; `TCP_NODELAY` set for TCP), or returns null when none is
 * waiting.
 */
export function acceptSocket(fd: number): AcceptedSocket | null {
  checkFd('acceptSocket', 'fd', fd);
  const result = native.acceptSocket(fd);
  if (typeof result === 'number') {
    if (result === -EAGAIN) return null;
    throw systemError(result, 'accept');
  }
  const [conn, host, port] = result;
  return { fd: conn, peer: port < 0 ? null : { host, port } };
}

/**
 * Starts connecting a stream socket to `address` (`TCP_NODELAY` for TCP).
 * A Unix socket connects at once; a TCP one may be `pending`: it is
 * connected once writable (watch it with a {@link FdWatcher}), and then
 * {@link socketError} says whether it worked.
 *
 * @throws A system error: `ENOENT`/`ECONNREFUSED` when nobody listens there, `EAGAIN` when a Unix listener's queue is full.
 */
export function connectSocket(address: SocketAddress): { fd: number; pending: boolean } {
  const fn = 'connectSocket';
  const [unix, text, port] = parts(fn, address);
  const result = native.connectSocket(unix, text, port);
  if (typeof result === 'number') throw systemError(result, 'connect', { target: where(address) });
  return { fd: result[0], pending: result[1] };
}

/** The error a socket has pending (`SO_ERROR`), e.g. of a connection that failed, as a system error; null when none. */
export function socketError(fd: number): NodeJS.ErrnoException | null {
  checkFd('socketError', 'fd', fd);
  const rc = native.socketError(fd);
  return rc === 0 ? null : systemError(rc, 'connect');
}

/**
 * Puts `fd` in non-blocking mode (`O_NONBLOCK`; shared by every copy of the
 * descriptor, in any process), so reads and writes on it fail with `EAGAIN`
 * instead of waiting, as a descriptor watched with a {@link FdWatcher} must.
 */
export function setNonBlocking(fd: number): void {
  checkFd('setNonBlocking', 'fd', fd);
  const rc = native.setNonBlocking(fd);
  if (rc < 0) throw systemError(rc, 'fcntl');
}
