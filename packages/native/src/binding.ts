/**
 * The one place the native addon is loaded. Other files use the
 * {@link NativeBinding} type and the {@link native} object, never the `.node`
 * file itself.
 *
 * The addon is compiled per Node.js ABI (it uses V8's API to create external
 * SharedArrayBuffers, which Node-API cannot do on Node 20/24), so builds for
 * several Node versions sit side by side and the one for the running ABI is
 * loaded. `scripts/build.mjs` writes them under the same names.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** How async futex waits are carried out in a thread: see `futexBackend()` in futex.ts. */
export type FutexBackend = 'io_uring' | 'threads';

/** `[data, fds, truncated]` as the addon reports one `recvmsg()`. */
export type NativeReceived = [data: Buffer, fds: number[], truncated: boolean];

/**
 * The raw addon. Arguments are positional and already validated; results
 * that can fail are a value or a negative errno (never a thrown error).
 */
export interface NativeBinding {
  /** A sealed memfd of `size` bytes (close-on-exec): fd or -errno. */
  memfdCreate(size: number): number;
  /** `shm_open(name, O_RDWR | …, 0600)`; `name` has its leading slash: fd or -errno. */
  shmOpen(name: string, create: boolean, exclusive: boolean): number;
  /** `shm_unlink(name)`: 0 or -errno. */
  shmUnlink(name: string): number;
  /** `ftruncate(fd, size)`: 0 or -errno. */
  ftruncate(fd: number, size: number): number;
  /** The size of the file behind `fd`, or -errno. */
  fstatSize(fd: number): number;
  /** A `MAP_SHARED` mapping of the first `size` (> 0, ≤ file size) bytes, or -errno. */
  mmapShared(fd: number, size: number): SharedArrayBuffer | number;
  /** `close(fd)`: 0 or -errno. */
  closeFd(fd: number): number;

  /** Blocks while the word equals `expected`; timeout < 0 waits forever. 0 ok, 1 not-equal, 2 timed-out, or -errno. */
  futexWait(buffer: SharedArrayBuffer, byteOffset: number, expected: number, timeoutMs: number): number;
  /** Wakes up to `count` (< 0: all) waiters; the number woken, or -errno. */
  futexWake(buffer: SharedArrayBuffer, byteOffset: number, count: number): number;
  /**
   * Waits through this thread's io_uring, or on a native thread; `callback` gets 0 ok,
   * 2 timed-out, 3 cancelled or -errno. Returns a wait id (> 0) for
   * {@link NativeBinding.futexCancel}, or -errno.
   */
  futexWaitAsync(
    buffer: SharedArrayBuffer,
    byteOffset: number,
    expected: number,
    timeoutMs: number,
    callback: (result: number) => void,
  ): number;
  /** Stops an async wait; it no longer keeps the loop alive. Its callback still runs once. */
  futexCancel(id: number): boolean;
  /** How this thread's async waits wait: an io_uring of its own, or the native thread cache. */
  futexBackend(): FutexBackend;

  /** `socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)`: the two fds, or -errno. */
  socketpair(): [number, number] | number;
  /** `pipe2(O_CLOEXEC)`, then `F_SETPIPE_SZ` to `capacity` when above 0 (best effort): [read end, write end], or -errno. */
  pipe(capacity: number): [number, number] | number;
  /** `fcntl(fd, F_DUPFD_CLOEXEC, 0)`: the new fd, or -errno. */
  dupFd(fd: number): number;
  /** Sends all of `data` with `fds` attached to its first byte: bytes sent, or -errno. */
  sendFds(socketFd: number, fds: Int32Array, data: Uint8Array): number;
  /** Waits up to `timeoutMs` (< 0: forever) and receives once; -ETIMEDOUT on timeout. */
  recvFdsSync(socketFd: number, maxFds: number, maxBytes: number, timeoutMs: number): NativeReceived | number;
  /** A listening socket (non-blocking, close-on-exec) on a path (`unix`) or an IPv4 address and port: fd, or -errno. */
  listenSocket(unix: boolean, address: string, port: number, backlog: number): number;
  /** The port an AF_INET socket is bound to, or -errno. */
  localPort(fd: number): number;
  /** One waiting connection: `[fd, host, port]` (host '' and port -1 for AF_UNIX), or -errno (-EAGAIN: none). */
  acceptSocket(fd: number): [number, string, number] | number;
  /** Starts connecting a non-blocking socket: `[fd, pending]` (pending: finishes once writable), or -errno. */
  connectSocket(unix: boolean, address: string, port: number): [number, boolean] | number;
  /** The socket's pending error (`SO_ERROR`) as -errno, 0 when none. */
  socketError(fd: number): number;
  /** `fcntl(fd, F_SETFL, … | O_NONBLOCK)`: 0 or -errno. */
  setNonBlocking(fd: number): number;

  /** Prepares watching `fd` on the event loop; `callback` gets ready events (1 readable, 2 writable, 4 hang-up) or -errno. Returns an id or -errno. */
  watchStart(fd: number, callback: (events: number) => void): number;
  /** Watches for `events` (1 readable, 2 writable; 0 stops): 0 or -errno. */
  watchSet(id: number, events: number): number;
  /** Whether the watch keeps the event loop alive while active. */
  watchRef(id: number, on: boolean): void;
  /** Stops watching for good. */
  watchClose(id: number): void;

  /** `recv(fd, MSG_DONTWAIT)` into `target`, retried while nothing is there for up to `budgetMicros`: bytes (0: end), or -errno (-EAGAIN: nothing in time). */
  readPolling(fd: number, target: Uint8Array, budgetMicros: number): number;
  /** One `read(fd)` into `target`: bytes (0: end of file), or -errno (-EAGAIN: nothing there). */
  readSome(fd: number, target: Uint8Array): number;
  /** `poll(2)` of one fd for `events` (1 readable, 2 writable) up to `timeoutMs` (< 0: forever): ready events (1, 2, 4 hung up), 0 on timeout, or -errno. */
  pollFd(fd: number, events: number, timeoutMs: number): number;
  /** `waitpid(pid)`, blocking if `block`: `[code, signal]` (code -1 when a signal ended it, signal 0 when it exited), 0 while it runs, or -errno. */
  waitChild(pid: number, block: boolean): [code: number, signal: number] | number;
  /** `_exit(code)`: ends the process at once. */
  exitImmediately(code: number): never;
  /** `sched_yield()`: 0 or -errno. */
  schedYield(): number;
  /** `prctl(PR_SET_PDEATHSIG, signal)`: 0 or -errno. */
  setParentDeathSignal(signal: number): number;
  /** `getppid()`. */
  getppid(): number;
}

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** The command that builds the addon for the running Node.js. */
export const buildCommand = 'pnpm --filter @mpjs/native run build';

/**
 * Where the addon for the running Node.js lives (prebuildify's naming:
 * `prebuilds/<platform>-<arch>/@mpjs+native.abi<NODE_MODULE_VERSION>.node`).
 */
export const bindingPath: string = path.join(
  packageRoot,
  'prebuilds',
  `${process.platform}-${process.arch}`,
  `@mpjs+native.abi${process.versions.modules}.node`,
);

/** node-gyp-build's resolver: the binary for this platform, arch and ABI under prebuilds/ (or build/Release). */
interface NodeGypBuild {
  resolve(dir: string): string;
}

/**
 * Loads an addon file as `require()` does, without the CommonJS loader: every
 * child process loads the addon before anything else, and requiring
 * node-gyp-build and then the file costs it about 4 ms more.
 */
function openAddon(file: string): NativeBinding {
  const module = { exports: {} };
  process.dlopen(module, file);
  return module.exports as NativeBinding;
}

function notBuilt(cause?: unknown): Error {
  const error = new Error(
    `the native addon of @mpjs/native is not built for Node.js ${process.version} ` +
      `(ABI ${process.versions.modules}, ${process.platform}-${process.arch}): ${bindingPath} is missing. ` +
      `Build it with \`${buildCommand}\` (or \`node scripts/build.mjs\` in ${packageRoot}); ` +
      'where @mpjs/native is a dependency, its install script builds it: `npm rebuild @mpjs/native`, ' +
      'or with pnpm allow it (`pnpm approve-builds`) and run `pnpm rebuild @mpjs/native`.',
    cause === undefined ? undefined : { cause },
  );
  return Object.assign(error, { code: 'ERR_MP_NATIVE_NOT_BUILT' });
}

function loadBinding(): NativeBinding {
  // The build for this ABI, where scripts/build.mjs and prebuildify put it.
  if (existsSync(bindingPath)) return openAddon(bindingPath);
  // Else whatever node-gyp-build finds (a node-gyp build left in build/Release, …).
  let resolved: string;
  try {
    resolved = (createRequire(import.meta.url)('node-gyp-build') as NodeGypBuild).resolve(packageRoot);
  } catch {
    throw notBuilt();
  }
  try {
    return openAddon(resolved);
  } catch (error) {
    // Built for another Node.js, say: the way out is the same.
    throw notBuilt(error);
  }
}

/** The loaded addon of this thread (each worker thread loads its own instance). */
export const native: NativeBinding = loadBinding();
