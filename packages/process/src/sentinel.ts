/**
 * A process's `sentinel`: Python hands out a file descriptor that becomes
 * readable when the process ends; here it is an object implementing the
 * `Waitable` protocol of `@mpjs/util`, so `wait()` of `@mpjs/connection`
 * accepts it beside connections.
 */
import { waitFor, waitReady, type Waitable } from '@mpjs/util';

/** Becomes ready when the process it belongs to has ended. */
export class ProcessSentinel implements Waitable {
  readonly #ended: Promise<void>;
  readonly #hold: (() => () => void) | undefined;
  #ready = false;

  /**
   * @param ended settles when the process ends
   * @param hold keeps the event loop alive while someone waits (returns the release function)
   */
  constructor(ended: Promise<unknown>, hold?: () => () => void) {
    this.#hold = hold;
    this.#ended = ended.then(
      () => {
        this.#ready = true;
      },
      () => {
        this.#ready = true;
      },
    );
  }

  /** Whether the process has ended. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Resolves when the process has ended; rejects with `signal.reason` if aborted first. */
  [waitReady](signal: AbortSignal): Promise<void> {
    if (this.#ready) return Promise.resolve();
    const release = this.#hold?.();
    const wait = waitFor(this.#ended, { signal });
    if (release) void wait.then(release, release);
    return wait;
  }

  /** Shown by `console.log`. */
  toString(): string {
    return `<ProcessSentinel ${this.#ready ? 'ready' : 'pending'}>`;
  }
}
