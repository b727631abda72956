/**
 * `parentProcess()` in a child: the name and pid of the process that started
 * it, and whether it is still alive (the control channel to it is still open).
 */
import { waitArguments, waitFor, type AbortOptions, type Timeout, type TimeoutOptions } from '@mpjs/util';

const timedOut = Symbol('timed out');
import { ProcessSentinel } from './sentinel.js';

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The parent of the current process, as a child sees it (Python's `_ParentProcess`). */
export class ParentProcess {
  /** The parent's name (`MainProcess`, or `Process-1` for a grandchild). */
  readonly name: string;
  /** The parent's process id. */
  readonly pid: number;
  readonly #gone: Promise<void>;
  #ended = false;
  readonly #sentinel: ProcessSentinel;

  readonly #hold: (() => () => void) | undefined;

  /**
   * @param gone settles when the control channel to the parent closes
   * @param hold keeps the event loop alive while someone waits for the parent
   */
  constructor(name: string, pid: number, gone: Promise<unknown>, hold?: () => () => void) {
    this.name = name;
    this.pid = pid;
    this.#hold = hold;
    this.#gone = gone.then(
      () => {
        this.#ended = true;
      },
      () => {
        this.#ended = true;
      },
    );
    this.#sentinel = new ProcessSentinel(this.#gone, hold);
  }

  /** Alias of `pid`. */
  get ident(): number {
    return this.pid;
  }

  /** A parent is never daemonic from its child's point of view. */
  get daemon(): boolean {
    return false;
  }

  /** Whether the parent is still running. */
  isAlive(): boolean {
    return !this.#ended && pidExists(this.pid);
  }

  /**
   * Waits until the parent ends, or at most `timeout` ms (also given as
   * `join({ timeout, signal })`). Aborting `signal` rejects with `signal.reason`.
   */
  async join(timeout?: Timeout | TimeoutOptions, options?: AbortOptions): Promise<void> {
    const { ms, signal } = waitArguments('join', timeout, options);
    if (signal?.aborted) throw signal.reason;
    const release = this.#hold?.();
    try {
      await waitFor(this.#gone, { timeout: ms, signal, onTimeout: () => timedOut }).catch((error: unknown) => {
        if (error !== timedOut) throw error;
      });
    } finally {
      release?.();
    }
  }

  /** Ready when the parent has ended; can be passed to `wait()`. */
  get sentinel(): ProcessSentinel {
    return this.#sentinel;
  }

  /** `<ParentProcess name='MainProcess' pid=123>`. */
  toString(): string {
    return `<ParentProcess name='${this.name}' pid=${this.pid} ${this.isAlive() ? 'started' : 'stopped'}>`;
  }
}
