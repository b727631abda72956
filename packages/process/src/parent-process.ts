/**
 * `parentProcess()` in a child: the name and pid of the process that started
 * it, and whether it is still alive (the control channel to it is still open).
 */
import { waitFor, type Timeout } from '@mpjs/util';
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

  /** Waits until the parent ends, or at most `timeout` ms. */
  async join(timeout?: Timeout): Promise<void> {
    const release = this.#hold?.();
    try {
      await waitFor(this.#gone, { timeout, onTimeout: () => undefined }).catch(() => undefined);
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
