/**
 * `Queue`: Python's `multiprocessing.Queue`, a multi-producer multi-consumer
 * FIFO shared by processes and threads, on a ring of shared memory.
 */
import { AssertionError, Deadline, Full, throwIfAborted } from '@mpjs/util';
import { Channel, checkWaitOptions, resolved, type QueueClassName, type WaitOptions } from './core.js';
import { QueueKind } from './messages.js';
import { MAX_MAXSIZE, checkBufferSize, type Ring } from './ring-buffer.js';

/** Options of `new Queue(maxsize, options)` (and of the other queue classes). */
export interface QueueOptions {
  /**
   * Bytes of shared memory for messages in transit: a power of two from 4096
   * to 2^30, default 1 MiB. Messages up to a quarter of it travel in one
   * piece; larger ones stream through it. (Python's pipe holds 64 KiB.)
   */
  bufferSize?: number;
}

/** Options of {@link Queue.put}. */
export type PutOptions = WaitOptions;

/** Options of {@link Queue.get}. */
export type GetOptions = WaitOptions;

/** Internal construction: a queue rebuilt around shared memory that arrived from elsewhere. */
export const kAttach = Symbol('mpjs.queues.attach');
/** Internal construction: the kind of queue to create. */
export const kKind = Symbol('mpjs.queues.kind');

/** What the constructors accept internally besides the public options. */
export interface InternalOptions extends QueueOptions {
  [kAttach]?: { ring: Ring; fd: number };
  [kKind]?: QueueKind;
}

/** Checks `maxsize`: 0 or less is unbounded, as in Python. */
export function checkMaxsize(maxsize: unknown): number {
  if (typeof maxsize !== 'number' || !Number.isInteger(maxsize)) {
    throw new TypeError(`maxsize must be a whole number of items (0 for no limit), got ${String(maxsize)}`);
  }
  if (maxsize > MAX_MAXSIZE) throw new RangeError(`maxsize must be at most ${MAX_MAXSIZE}, got ${maxsize}`);
  return maxsize <= 0 ? 0 : maxsize;
}

/** Checks the options object of a constructor. */
export function checkQueueOptions(name: string, options: QueueOptions | undefined): number {
  if (options === undefined) return checkBufferSize(undefined);
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`new ${name}(): options must be an object such as { bufferSize: 1048576 }`);
  }
  return checkBufferSize(options.bufferSize);
}

interface BlockedPut {
  bytes: Uint8Array | null;
  value: unknown;
  deadline: Deadline;
  signal: AbortSignal | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * A process-safe FIFO queue (Python's `multiprocessing.Queue`). Objects are
 * encoded by `put` (so later changes to them do not travel) and copied into
 * shared memory, directly when there is room and otherwise by a background
 * flush; `get` decodes them in whichever process or thread asks. Pass a queue
 * to a child as a `Process` argument.
 *
 * Timeouts are in milliseconds. A process flushes what it put before it
 * exits, unless {@link Queue.cancelJoinThread} was called.
 *
 * @typeParam T What the queue carries (not checked at run time).
 */
export class Queue<T = unknown> {
  readonly #channel: Channel;
  /** Puts waiting for a place, oldest first, so that this producer's order holds. */
  #blocked: BlockedPut[] = [];
  #unblocking = false;

  /**
   * @param maxsize The most items the queue holds (put waits when it is full);
   *   0 or less for no limit.
   */
  constructor(maxsize = 0, options?: QueueOptions) {
    const internal = options as InternalOptions | undefined;
    const attached = internal?.[kAttach];
    const kind = internal?.[kKind] ?? QueueKind.QUEUE;
    const name: QueueClassName = kind === QueueKind.JOINABLE ? 'JoinableQueue' : 'Queue';
    if (attached !== undefined) {
      this.#channel = new Channel(this, attached.ring, attached.fd, name);
    } else {
      const size = checkMaxsize(maxsize);
      this.#channel = Channel.create(this, kind, size, checkQueueOptions(name, options), name);
    }
  }

  /**
   * Puts `obj` on the queue. With `block` (the default) and a bounded queue
   * that is full, waits for a place, up to `timeout` ms if given, and then
   * rejects with `Full`; without `block`, rejects with `Full` at once.
   *
   * Resolves once `obj` is encoded and accepted: it is in the shared memory
   * already or will be flushed there in the background, as Python's feeder
   * thread does; the reader is never awaited. Rejects with `ValueError` after
   * {@link close}, and with the codec's `SerializationError` for an object
   * that cannot be encoded.
   */
  put(obj: T, options?: PutOptions): Promise<void> {
    const channel = this.#channel;
    try {
      if (channel.closed) throw channel.closedError();
      let block = true;
      let timeout: PutOptions['timeout'];
      let signal: AbortSignal | undefined;
      if (options !== undefined) ({ block, timeout, signal } = checkWaitOptions(`${channel.name}.put()`, options));
      throwIfAborted(signal);
      const bytes = channel.encodeOrDefer(obj);
      if (this.#blocked.length === 0 && channel.reserve()) {
        channel.enqueue(bytes, obj, channel.ring.tracksReservations);
        return resolved();
      }
      if (!block) throw new Full();
      const deadline = new Deadline(timeout, `${channel.name}.put(): "timeout"`);
      return this.#putLater(bytes, obj, deadline, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Puts `obj` if there is a place now, else throws `Full` (Python's `put_nowait`). */
  putNowait(obj: T): void {
    const channel = this.#channel;
    if (channel.closed) throw channel.closedError();
    const bytes = channel.encodeOrDefer(obj);
    if (this.#blocked.length > 0 || !channel.reserve()) throw new Full();
    channel.enqueue(bytes, obj, channel.ring.tracksReservations);
  }

  /**
   * Removes and returns the next item. With `block` (the default), waits for
   * one, up to `timeout` ms if given, and then rejects with `Empty`; without
   * `block`, rejects with `Empty` at once if none is there. The timeout
   * bounds the wait for an item to start arriving: a large item that has
   * started is read to its end. Rejects with `ValueError` after {@link close}.
   */
  get(options?: GetOptions): Promise<T> {
    return this.#channel.get(options) as Promise<T>;
  }

  /**
   * Removes and returns the next item if one is there now, else throws
   * `Empty` (Python's `get_nowait`). An item still streaming in counts as
   * not there yet.
   */
  getNowait(): T {
    return this.#channel.getNowait() as T;
  }

  /** The approximate number of items put and not yet got (unreliable while others use the queue). */
  qsize(): number {
    return this.#channel.ring.qsize();
  }

  /** Whether no item is waiting in shared memory (unreliable while others use the queue). */
  empty(): boolean {
    return this.#channel.ring.empty();
  }

  /** Whether a bounded queue has no free place (unreliable while others use the queue). */
  full(): boolean {
    return this.#channel.ring.full();
  }

  /**
   * Says that this process will put no more data on the queue and get none
   * from it: later calls of `put` and `get` fail with `ValueError`, waiting
   * ones are rejected, and the descriptor is closed. What was put is still
   * flushed. Other processes are not affected.
   */
  close(): void {
    const channel = this.#channel;
    channel.close();
    const blocked = this.#blocked.splice(this.#unblocking ? 1 : 0);
    for (const put of blocked) put.reject(channel.closedError());
  }

  /**
   * Waits until everything this process put is in shared memory (Python's
   * `join_thread`). Only after {@link close}; returns at once after
   * {@link cancelJoinThread}.
   */
  async joinThread(): Promise<void> {
    const channel = this.#channel;
    if (!channel.closed) throw new AssertionError(`${channel.name} is not closed: call close() before joinThread()`);
    await channel.feeder.drained();
  }

  /**
   * Lets this process exit without waiting for its data to be flushed
   * (Python's `cancel_join_thread`, or as its docs put it,
   * `allow_exit_without_flush`). Data not yet in shared memory when the
   * process ends is lost.
   */
  cancelJoinThread(): void {
    this.#channel.feeder.cancel();
  }

  /** `Queue(maxsize=…)`, as a short description. */
  toString(): string {
    return `${this.#channel.name}(maxsize=${this.#channel.ring.maxsize})`;
  }

  #putLater(bytes: Uint8Array | null, value: T, deadline: Deadline, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#blocked.push({ bytes, value, deadline, signal, resolve, reject });
      if (!this.#unblocking) void this.#unblock();
    });
  }

  /** Serves blocked puts one at a time, in order. */
  async #unblock(): Promise<void> {
    const channel = this.#channel;
    this.#unblocking = true;
    try {
      while (this.#blocked.length > 0) {
        const put = this.#blocked[0]!;
        try {
          await channel.waitForPlace(put.deadline, put.signal);
          channel.enqueue(put.bytes, put.value, true);
          put.resolve();
        } catch (error) {
          put.reject(error);
        }
        this.#blocked.shift();
      }
    } finally {
      this.#unblocking = false;
    }
  }
}
