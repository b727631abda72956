/**
 * A read that stays awake for a moment: for a request/reply partner that
 * answers within microseconds, catching the answer while polling spares the
 * sleep and the wake-up (tens of microseconds when the partner runs on
 * another CPU).
 */
import { constants } from 'node:os';
import { native } from './binding.js';
import { systemError } from './system-error.js';
import { checkFd, describe } from './validate.js';

/** Longest budget {@link readPolling} accepts, in microseconds (a second). */
const MAX_BUDGET_MICROS = 1_000_000;

/**
 * Receives from the socket `fd` into `target` without blocking, retrying
 * while nothing is there for at most `budgetMicros` microseconds (0: one
 * try). The calling thread stays busy meanwhile, so keep the budget to tens
 * of microseconds on an event loop. Between tries it lets any other runnable
 * process on this CPU go first (`sched_yield`). Works on stream sockets (a
 * `Pipe()`, a Unix or TCP connection) whether or not the descriptor is in
 * non-blocking mode; any other descriptor fails with `ENOTSOCK`.
 *
 * @returns The number of bytes read, `0` at the end of the stream, or `null`
 *   if nothing arrived within the budget.
 * @throws A system error (with `code`, e.g. `'EBADF'`) if the read fails.
 */
export function readPolling(fd: number, target: Uint8Array, budgetMicros: number): number | null {
  const fn = 'readPolling';
  checkFd(fn, 'fd', fd);
  if (!(target instanceof Uint8Array)) throw new TypeError(`${fn}: "target" must be a Uint8Array, got ${describe(target)}`);
  if (target.byteLength === 0) throw new RangeError(`${fn}: "target" is empty: give it room for at least one byte`);
  if (typeof budgetMicros !== 'number' || !(budgetMicros >= 0 && budgetMicros <= MAX_BUDGET_MICROS)) {
    throw new RangeError(`${fn}: "budgetMicros" must be a number of microseconds from 0 to ${MAX_BUDGET_MICROS}, got ${describe(budgetMicros)}`);
  }
  const rc = native.readPolling(fd, target, budgetMicros);
  if (rc >= 0) return rc;
  if (rc === -constants.errno.EAGAIN) return null;
  throw systemError(rc, 'read');
}

/**
 * One `read(2)` of `fd` into `target`, for descriptors that are not sockets
 * (a pipe, a FIFO), which {@link readPolling} refuses. The descriptor must be
 * in non-blocking mode, or the read waits for data.
 *
 * @returns The number of bytes read, `0` at the end of the file, or `null`
 *   if nothing is there now.
 * @throws A system error (with `code`, e.g. `'EBADF'`) if the read fails.
 */
export function readSome(fd: number, target: Uint8Array): number | null {
  const fn = 'readSome';
  checkFd(fn, 'fd', fd);
  if (!(target instanceof Uint8Array)) throw new TypeError(`${fn}: "target" must be a Uint8Array, got ${describe(target)}`);
  if (target.byteLength === 0) throw new RangeError(`${fn}: "target" is empty: give it room for at least one byte`);
  const rc = native.readSome(fd, target);
  if (rc >= 0) return rc;
  if (rc === -constants.errno.EAGAIN) return null;
  throw systemError(rc, 'read');
}

/**
 * Lets another runnable thread or process on this CPU run first
 * (`sched_yield`); returns at once when there is none. For polling loops: on
 * a busy machine the peer being waited for may be waiting for this very CPU.
 */
export function schedYield(): void {
  native.schedYield();
}
