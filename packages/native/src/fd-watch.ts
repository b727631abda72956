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
