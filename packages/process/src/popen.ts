/**
 * The parent's handle on a started child (CPython's `Popen` objects): pid,
 * exit code, signals, and the promise that settles when the child ends. Both
 * start methods produce the same kind of object, so `Process` never knows how
 * its child was started.
 */
import type { ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Socket } from 'node:net';
import { waitFor, type Timeout } from '@mpjs/util';
import { waitForChildSync } from './native.js';

/** Names of the start methods Node can offer. */
export type StartMethod = 'spawn' | 'forkserver';

/** Turns Node's `(code, signal)` pair into Python's exit code: `-N` for signal N. */
export function toExitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) {
    const number = osConstants.signals[signal];
    return number === undefined ? 255 : -number;
  }
  return 255;
}

/** A started child process as its parent sees it. */
export class Popen {
  /** The start method that created the child. */
  readonly method: StartMethod;
  /** The child's process id. */
  readonly pid: number;
  /** Resolves with the exit code once the child has ended (never rejects). */
  readonly exited: Promise<number>;
  #returncode: number | null = null;
  #child: ChildProcess | null;
  #control: Socket | null;
  #detached = false;
  #holds = 0;
  #resolveExited!: (code: number) => void;

  constructor(method: StartMethod, child: ChildProcess, control: Socket) {
    if (child.pid === undefined) throw new Error('Popen needs a running child');
    this.method = method;
    this.pid = child.pid;
    this.#child = child;
    this.#control = control;
    // The control channel never keeps the parent's loop alive: a join does,
    // and the exit handling joins the children that must be waited for.
    control.unref();
    this.exited = new Promise<number>((resolve) => {
      this.#resolveExited = resolve;
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.#returncode !== null) return; // already reaped by waitSync()
        this.#returncode = toExitCode(code, signal);
        this.#control?.destroy();
        this.#control = null;
        this.#child = null;
        resolve(this.#returncode);
      };
      if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode, child.signalCode);
      else child.once('exit', onExit);
    });
  }

  /** The exit code, or null while the child runs (Python's `poll()`). */
  get returncode(): number | null {
    return this.#returncode;
  }

  /** Waits up to `timeout` ms; resolves with the exit code, or null on timeout; rejects with `signal.reason` on abort. */
  async wait(timeout?: Timeout, signal?: AbortSignal): Promise<number | null> {
    if (this.#returncode !== null) return this.#returncode;
    const release = this.hold();
    try {
      return await waitFor<number | null>(this.exited, { timeout, signal, onTimeout: () => timedOut });
    } catch (error) {
      if (error === timedOut) return null;
      throw error;
    } finally {
      release();
    }
  }

  /**
   * Blocks the whole thread until the child ends, and returns its exit code:
   * for `process.on('exit')`, where nothing can be awaited. The child is
   * reaped here, so Node never reports its end: use it only when the process
   * is exiting.
   */
  waitSync(): number | null {
    if (this.#returncode !== null) return this.#returncode;
    const status = waitForChildSync(this.pid);
    if (status === null) return null; // reaped by someone else: nothing to wait for
    this.#returncode = toExitCode(status.code, status.signal);
    this.#child = null;
    this.#resolveExited(this.#returncode);
    return this.#returncode;
  }

  /** Sends `signal` unless the child has already ended. */
  signal(signal: NodeJS.Signals): void {
    if (this.#returncode !== null || !this.#child) return;
    try {
      this.#child.kill(signal);
    } catch (error) {
      // ESRCH: it ended between our check and the signal; the exit event follows.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  /** Lets the parent's event loop run dry while this child runs, unless someone waits for it (the exit handling then joins it). */
  unref(): void {
    this.#detached = true;
    this.#applyRef();
  }

  /** Keeps the parent's event loop alive until this child ends. */
  ref(): void {
    this.#detached = false;
    this.#applyRef();
  }

  /**
   * Keeps the event loop alive while a caller waits for this child (joining a
   * daemonic child must not let the program end under the wait). Returns the
   * release function.
   */
  hold(): () => void {
    this.#holds++;
    this.#applyRef();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.#applyRef();
    };
  }

  #applyRef(): void {
    if (!this.#child) return;
    if (this.#detached && this.#holds === 0) this.#child.unref();
    else this.#child.ref();
  }

  /** Releases what the parent holds for a finished child. */
  close(): void {
    this.#control?.destroy();
    this.#control = null;
    this.#child = null;
  }
}

const timedOut = Symbol('timed out');
