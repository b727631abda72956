/**
 * Process control that Node.js does not offer: a signal on parent death, the
 * parent's pid straight from the kernel, and a synchronous wait for a child.
 */
import { constants } from 'node:os';
import { native } from './binding.js';
import { systemError } from './system-error.js';
import { checkInteger, describe } from './validate.js';

/** Largest signal number on Linux (SIGRTMAX). */
const MAX_SIGNAL = 64;

function toSignalNumber(fn: string, signal: NodeJS.Signals | number): number {
  if (typeof signal === 'number') return checkInteger(fn, 'signal', signal, 0, MAX_SIGNAL);
  if (typeof signal !== 'string') {
    throw new TypeError(`${fn}: "signal" must be a signal name such as 'SIGTERM' or a number, got ${describe(signal)}`);
  }
  const number = (constants.signals as Record<string, number | undefined>)[signal];
  if (number === undefined) {
    throw new RangeError(`${fn}: "signal" ${JSON.stringify(signal)} is not a signal name of this system (e.g. 'SIGTERM', 'SIGKILL')`);
  }
  return number;
}

/**
 * Asks the kernel to send `signal` to this process when its parent dies
 * (Linux `prctl(PR_SET_PDEATHSIG)`); `0` clears it. Use it in a child so that
 * it does not outlive a parent that was killed without a chance to clean up.
 *
 * The parent may already be gone when this runs: pass the pid the parent had
 * (`expectedParentPid`, e.g. sent by the parent or read from `process.ppid`
 * at start-up) and, if the current parent differs, the signal is delivered to
 * this process at once.
 *
 * Linux caveat: the signal fires when the parent *thread* that spawned this
 * process exits, not the whole parent process. A child spawned from a worker
 * thread gets it when that worker ends. The setting is cleared in a child of
 * this process and by executing a set-user-ID binary.
 */
export function setParentDeathSignal(signal: NodeJS.Signals | number, expectedParentPid?: number): void {
  const fn = 'setParentDeathSignal';
  const signo = toSignalNumber(fn, signal);
  if (expectedParentPid !== undefined) checkInteger(fn, 'expectedParentPid', expectedParentPid, 0, 2 ** 31 - 1);
  const rc = native.setParentDeathSignal(signo);
  if (rc < 0) throw systemError(rc, 'prctl', { message: 'cannot set the parent-death signal' });
  if (signo !== 0 && expectedParentPid !== undefined && native.getppid() !== expectedParentPid) {
    // The parent died before the request: nobody will send the signal now.
    process.kill(process.pid, signo);
  }
}

/** The pid of this process's parent, as the kernel reports it now (1 or a subreaper once the parent is gone). */
export function getppid(): number {
  return native.getppid();
}

/**
 * Ends this process at once with exit status `code` (0–255), as C's `_exit`:
 * none of Node's teardown runs, no `'exit'` listeners, no `atexit` handlers,
 * and output still buffered in JavaScript is lost (writes to files, pipes and
 * terminals are synchronous on Linux, so only a stream that reported
 * backpressure holds any). For a process that has finished its work and
 * flushed what it wrote; the kernel closes its descriptors. On a Node
 * process this saves a millisecond or two over `process.exit()`.
 */
export function exitImmediately(code: number): never {
  checkInteger('exitImmediately', 'code', code, 0, 255);
  return native.exitImmediately(code);
}

/** How a child ended, as {@link waitChildSync} reports it. */
export interface ChildExit {
  /** The exit status (0–255), or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it (`'SIGTERM'`…), or null when it exited. */
  signal: NodeJS.Signals | null;
}

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

/**
 * Waits synchronously until the child `pid` ends, and reaps it (`waitpid`);
 * with `{ block: false }` only checks, returning null while it runs. For code
 * that cannot await, above all a `process.on('exit')` listener that must not
 * let the program end before its children (Python joins them at exit). The
 * whole thread waits, event loop included.
 *
 * The child is reaped here, so Node never learns that it ended: a
 * `ChildProcess` for it never emits `'exit'` (and, if referenced, keeps the
 * event loop alive). Use it only on children whose end nothing else awaits,
 * or when the process is exiting anyway.
 *
 * @throws A system error with code `'ECHILD'` when `pid` is not a child of
 *   this process (or was already reaped: check the `ChildProcess` first).
 */
export function waitChildSync(pid: number, options: { block?: boolean } = {}): ChildExit | null {
  const fn = 'waitChildSync';
  checkInteger(fn, 'pid', pid, 1, 2 ** 31 - 1);
  if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: "options" must be an object such as { block: false }`);
  const block = options.block ?? true;
  if (typeof block !== 'boolean') throw new TypeError(`${fn}: "block" must be a boolean, got ${describe(block)}`);
  const result = native.waitChild(pid, block);
  if (typeof result !== 'number') {
    const [code, signo] = result;
    return signo === 0 ? { code, signal: null } : { code: null, signal: signalNames.get(signo) ?? (`SIG${signo}` as NodeJS.Signals) };
  }
  if (result === 0) return null;
  throw systemError(result, 'waitpid', {
    message: result === -constants.errno.ECHILD ? `process ${pid} is not a child of this process, or was already reaped` : undefined,
  });
}
