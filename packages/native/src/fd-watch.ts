/**
 * Readiness of a descriptor on the event loop (libuv's `uv_poll_t`): the
 * owner is told when it can read or write and does so itself, with
 * {@link readPolling} or `fs.writeSync`.
 */
import { native } from './binding.js';
import { systemError } from './system-error.js';
import { checkFd, checkInteger, describe } from './validate.js';

/** Ready to read (data, or the end of the stream). */
export const READABLE = 1;
/** Ready to write. */
export const WRITABLE = 2;
/** The peer hung up (reported with READABLE when reading is watched). */
export const HANG_UP = 4;

/** Longest wait {@link pollFd} accepts, in milliseconds (what `poll(2)` takes). */
const MAX_POLL_TIMEOUT = 2 ** 31 - 1;

/**
 * Asks the kernel, without reading anything, whether `fd` is ready for
 * `events` ({@link READABLE} | {@link WRITABLE}): `poll(2)`, as Python's
 * `select` does for `Connection.poll()`. Waits up to `timeout` ms (0, the
 * default, checks and returns at once; the thread is blocked meanwhile, so
 * keep it 0 on an event loop).
 *
 * @returns What is ready: a mix of {@link READABLE} (data, or the end of the
 *   stream), {@link WRITABLE} and {@link HANG_UP} (the peer closed, or the
 *   descriptor has a pending error), or 0 when nothing is.
 * @throws A system error with code `'EBADF'` for a descriptor that is not open.
 */
export function pollFd(fd: number, events: number = READABLE, timeout = 0): number {
  const fn = 'pollFd';
  checkFd(fn, 'fd', fd);
  checkInteger(fn, 'events', events, 1, READABLE | WRITABLE);
  checkInteger(fn, 'timeout', timeout, 0, MAX_POLL_TIMEOUT);
  const rc = native.pollFd(fd, events, timeout);
  if (rc < 0) throw systemError(rc, 'poll');
  return rc;
}

/**
 * Watches one descriptor. `onReady` gets the events that are ready (a mix of
 * {@link READABLE}, {@link WRITABLE}, {@link HANG_UP}), or a system error;
 * readiness is level-triggered: it is reported again until the owner has
 * read (or written) what it can, or stops watching for it.
 *
 * Nothing is watched until {@link FdWatcher.set}; while something is, the
 * watch keeps the event loop alive unless {@link FdWatcher.ref} said not to.
 * Close the watcher before closing the descriptor. Never watch a descriptor
 * a Node socket also reads.
 */
export class FdWatcher {
  readonly #id: number;
  #closed = false;

  constructor(fd: number, onReady: (events: number, error?: NodeJS.ErrnoException) => void) {
    checkFd('FdWatcher', 'fd', fd);
    if (typeof onReady !== 'function') throw new TypeError(`FdWatcher: "onReady" must be a function, got ${describe(onReady)}`);
    const id = native.watchStart(fd, (result) => {
      if (result < 0) onReady(0, systemError(result, 'poll'));
      else onReady(result);
    });
    if (id < 0) throw systemError(id, 'uv_poll_init');
    this.#id = id;
  }

  /** Watches for `events` ({@link READABLE} | {@link WRITABLE}; 0 stops watching). */
  set(events: number): void {
    if (this.#closed) return;
    checkInteger('FdWatcher.set', 'events', events, 0, READABLE | WRITABLE);
    const rc = native.watchSet(this.#id, events);
    if (rc < 0) throw systemError(rc, 'uv_poll_start');
  }

  /** Whether an active watch keeps the event loop alive (default true). */
  ref(on: boolean): void {
    if (!this.#closed) native.watchRef(this.#id, on);
  }

  /** Stops watching for good; `onReady` is not called again. The descriptor may be closed right after. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    native.watchClose(this.#id);
  }
}
