/**
 * `SimpleQueue`: Python's `multiprocessing.SimpleQueue`, "very close to a
 * locked Pipe": no size limit, no counting, and no background flush to
 * think about — `put` resolves once the item is in shared memory.
 */
import { Channel, resolved } from './core.js';
import { QueueKind } from './messages.js';
import { checkQueueOptions, kAttach, type InternalOptions, type QueueOptions } from './queue.js';

/**
 * A process-safe FIFO queue with only `put`, `get`, `empty` and `close`.
 * Pass it to a child as a `Process` argument.
 *
 * @typeParam T What the queue carries (not checked at run time).
 */
export class SimpleQueue<T = unknown> {
  readonly #channel: Channel;

  constructor(options?: QueueOptions) {
    const attached = (options as InternalOptions | undefined)?.[kAttach];
    this.#channel =
      attached !== undefined
        ? new Channel(this, attached.ring, attached.fd, 'SimpleQueue')
        : Channel.create(this, QueueKind.SIMPLE, 0, checkQueueOptions('SimpleQueue', options), 'SimpleQueue');
  }

  /**
   * Puts `item` on the queue; resolves once it is in shared memory (waiting
   * for room if readers lag behind). Rejects with `ValueError` after
   * {@link close}.
   */
  put(item: T): Promise<void> {
    const channel = this.#channel;
    try {
      if (channel.closed) throw channel.closedError();
      const seq = channel.enqueue(channel.encodeOrDefer(item), item, false);
      return channel.feeder.pendingCount === 0 ? resolved() : channel.feeder.written(seq);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Removes and returns the next item, waiting for one. Rejects with `ValueError` after {@link close}. */
  get(): Promise<T> {
    return this.#channel.get(undefined) as Promise<T>;
  }

  /** Whether no item is waiting. */
  empty(): boolean {
    return this.#channel.ring.empty();
  }

  /** Closes this process's use of the queue: later calls of `put` and `get` fail; other processes are not affected. */
  close(): void {
    this.#channel.close();
  }

  /** `SimpleQueue()`. */
  toString(): string {
    return 'SimpleQueue()';
  }
}
