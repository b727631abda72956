/**
 * What every queue class shares: its ring and descriptor, the writing side
 * (feeder) and reading side (reader) of this thread, encoding, closing, and
 * the waits of `get` and of a bounded `put`. `Queue`, `SimpleQueue` and
 * `JoinableQueue` are thin faces over a `Channel`.
 */
import { closeSync, openSync } from 'node:fs';
import { closeFd, futexWaitAsync, mapSharedMemory } from '@mpjs/native';
import { defaultCodec, type DecodeContext, type EncodeContext } from '@mpjs/serialization';
import { Deadline, Empty, Full, ValueError, throwIfAborted, type Timeout } from '@mpjs/util';
import { Feeder } from './feeder.js';
import { QueueKind } from './messages.js';
import { ReadStatus, Reader } from './reader.js';
import { LIVENESS_SLICE, Ring, Word } from './ring-buffer.js';

/** Options of a blocking `put` or `get`. */
export interface WaitOptions {
  /** Wait for room (put) or an item (get); `false` fails at once with `Full`/`Empty`. Default `true`. */
  block?: boolean;
  /** Milliseconds to wait at most (when blocking); `null`/omitted waits as long as needed. */
  timeout?: Timeout;
  /** Aborting stops the wait: the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** The handle record of a queue's shared memory. */
export const HANDLE_KIND = 'mpjs.queue';

/** Names of the classes, for messages. */
export type QueueClassName = 'Queue' | 'SimpleQueue' | 'JoinableQueue';

const channels = new WeakMap<object, Channel>();

/** The channel behind a queue object. */
export function channelOf(queue: object): Channel {
  const channel = channels.get(queue);
  if (channel === undefined) throw new TypeError('not a queue created by @mpjs/queues');
  return channel;
}

/**
 * Descriptors this thread opened with `fs.openSync` (a queue that came from
 * another thread). A worker thread's Node tracks those and closes them when
 * the worker exits, unless they were closed through `fs` too: closing them
 * natively would leave Node to close the same numbers again later, by then
 * another thread's descriptors.
 */
const openedByFs = new Set<number>();

/** Closes a queue's descriptor the way it was opened. */
function closeDescriptor(fd: number): void {
  if (openedByFs.delete(fd)) closeSync(fd);
  else closeFd(fd);
}

// A queue that is garbage-collected without close() still gives its descriptor back.
const descriptors = new FinalizationRegistry<number>((fd) => {
  try {
    closeDescriptor(fd);
  } catch {
    // Already closed.
  }
});

const RESOLVED = Promise.resolve();

/** A resolved promise, shared by every put that completed at once. */
export function resolved(): Promise<void> {
  return RESOLVED;
}

// Encoding is synchronous, so one context serves every put.
const encodeContext: EncodeContext = { handles: [] };

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

/** Checks the options of put/get; returns them with defaults. */
export function checkWaitOptions(method: string, options: WaitOptions): Required<Pick<WaitOptions, 'block'>> & WaitOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${method}: options must be an object such as { block: true, timeout: 1000 }, got ${describe(options)}`);
  }
  const { block = true, timeout, signal } = options;
  if (typeof block !== 'boolean') throw new TypeError(`${method}: "block" must be a boolean, got ${describe(block)}`);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${method}: "signal" must be an AbortSignal, got ${describe(signal)}`);
  }
  return { block, timeout, signal };
}

/** The shared machinery of one queue object. */
export class Channel {
  /** The shared memory. */
  readonly ring: Ring;
  /** This thread's writing side. */
  readonly feeder: Feeder;
  /** This thread's reading side. */
  readonly reader: Reader;
  /** The class name, for messages. */
  readonly name: QueueClassName;
  /** The shared memory's descriptor in this process; -1 once closed. */
  fd: number;
  /** Whether `close()` was called in this thread. */
  closed = false;
  #closing: AbortController | null = null;

  constructor(owner: object, ring: Ring, fd: number, name: QueueClassName) {
    this.ring = ring;
    this.fd = fd;
    this.name = name;
    this.feeder = new Feeder(ring, (value) => this.encode(value));
    this.reader = new Reader(ring, defaultCodec);
    channels.set(owner, this);
    descriptors.register(owner, fd, this);
  }

  /** Creates the shared memory of a new queue. */
  static create(owner: object, kind: QueueKind, maxsize: number, bufferSize: number, name: QueueClassName): Channel {
    const { ring, fd } = Ring.create(kind, maxsize, bufferSize);
    return new Channel(owner, ring, fd, name);
  }

  /** The error of a put or get on a closed queue. */
  closedError(): ValueError {
    return new ValueError(`${this.name} is closed: it cannot be used after close() in this process`);
  }

  /** Encodes an object to put; refuses objects that hold OS handles. */
  encode(obj: unknown): Uint8Array {
    const handles = encodeContext.handles;
    if (handles.length !== 0) handles.length = 0;
    const bytes = defaultCodec.encode(obj, encodeContext);
    if (handles.length > 0) {
      const kinds = [...new Set(handles.map((h) => h.kind))].join(', ');
      handles.length = 0;
      throw new ValueError(
        `${this.name}.put(): the object holds OS handles (${kinds}), which cannot travel through a queue's shared memory; ` +
          'pass queues, connections and the like to a child as Process arguments instead',
      );
    }
    return bytes;
  }

  /**
   * Encodes an object to put, or returns null when this thread's list of
   * messages waiting to be flushed is already large: the object then waits
   * as itself and is encoded when its turn comes, as Python's feeder does,
   * so a producer far ahead of its readers does not hold every message
   * twice (the object and its bytes).
   */
  encodeOrDefer(obj: unknown): Uint8Array | null {
    return this.feeder.deferring ? null : this.encode(obj);
  }

  /** Hands a message to the feeder (`bytes` null: encode `obj` later). Returns its sequence number. */
  enqueue(bytes: Uint8Array | null, obj: unknown, counted: boolean): number {
    return bytes === null ? this.feeder.pushObject(obj, counted) : this.feeder.push(bytes, counted);
  }

  /** Reserves a place (bounded queues) and counts a task (joinable ones); false when full. */
  reserve(): boolean {
    const ring = this.ring;
    if (!ring.tracksReservations) return true;
    // Counted as this process's before the reservation, so that if it dies in between the count errs low.
    ring.addPending(1);
    if (ring.tryReserve()) return true;
    ring.subPending(1);
    return false;
  }

  /** A signal that aborts when the queue is closed, combined with the caller's. */
  signal(user: AbortSignal | undefined): AbortSignal {
    this.#closing ??= new AbortController();
    return user === undefined ? this.#closing.signal : AbortSignal.any([user, this.#closing.signal]);
  }

  /** Waits until a place is free and reserves it (bounded queues). Throws `Full` at the deadline. */
  async waitForPlace(deadline: Deadline, userSignal: AbortSignal | undefined): Promise<void> {
    const ring = this.ring;
    const words = ring.words;
    const signal = this.signal(userSignal);
    for (;;) {
      if (this.closed) throw this.closedError();
      throwIfAborted(signal);
      if (this.reserve()) return;
      const remaining = deadline.remaining();
      if (remaining === 0) throw new Full();
      Atomics.add(words, Word.PUT_WAITERS, 1);
      try {
        const count = Atomics.load(words, Word.COUNT);
        if (count < ring.maxsize) continue;
        const result = await futexWaitAsync(words, Word.COUNT, count, { timeout: Math.min(LIVENESS_SLICE, remaining), signal });
        // Places held by producers that died are given back.
        if (result === 'timed-out') ring.recoverDeadProducers();
      } finally {
        Atomics.sub(words, Word.PUT_WAITERS, 1);
      }
    }
  }

  /** `get(options)`. */
  get(options: WaitOptions | undefined): Promise<unknown> {
    try {
      if (this.closed) throw this.closedError();
      let block = true;
      let timeout: Timeout;
      let signal: AbortSignal | undefined;
      if (options !== undefined) ({ block, timeout, signal } = checkWaitOptions(`${this.name}.get()`, options));
      throwIfAborted(signal);
      const reader = this.reader;
      const status = reader.tryRead(false);
      if (status === ReadStatus.VALUE) return Promise.resolve(reader.take(status));
      if (status <= ReadStatus.FAILED) return reader.take(status) as Promise<unknown>;
      if (!block && status !== ReadStatus.PARTIAL) throw new Empty();
      return reader.receive(status, new Deadline(block ? timeout : 0, `${this.name}.get(): "timeout"`), this.signal(signal));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `getNowait()`. */
  getNowait(): unknown {
    if (this.closed) throw this.closedError();
    const reader = this.reader;
    const status = reader.tryRead(true);
    if (status === ReadStatus.VALUE || status === ReadStatus.FAILED) return reader.take(status);
    if (status === ReadStatus.PARTIAL) {
      // Only a damaged ring gets here (a sync read starts a message only when all of it is there).
      reader.abandon();
    }
    throw new Empty();
  }

  /** Closes this process's use of the queue: later puts and gets fail; pending data is still flushed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#closing?.abort(this.closedError());
    if (this.fd >= 0) {
      descriptors.unregister(this);
      const fd = this.fd;
      this.fd = -1;
      closeDescriptor(fd);
    }
  }

  /** Encodes this queue for another process: its descriptor goes on the side channel. */
  share(context: EncodeContext | undefined): { handle: number } {
    if (this.closed || this.fd < 0) throw new ValueError(`cannot send a closed ${this.name} to another process`);
    if (context === undefined) {
      throw new ValueError(
        `a ${this.name} travels with the descriptor of its shared memory: pass it to a child as a Process argument ` +
          '(or through a transport that carries descriptors); it cannot be put on a queue or encoded on its own',
      );
    }
    const handle = context.handles.push({ fd: this.fd, kind: HANDLE_KIND, meta: { pid: process.pid } }) - 1;
    return { handle };
  }
}

/** Maps the shared memory of a queue that arrived from another process or thread. */
export function attachShared(data: unknown, context: DecodeContext | undefined, expected: readonly QueueKind[]): { ring: Ring; fd: number } {
  const index = (data as { handle?: unknown } | null)?.handle;
  const record = typeof index === 'number' ? context?.handles[index] : undefined;
  if (record === undefined || record.kind !== HANDLE_KIND) {
    throw new ValueError('a queue arrived without the descriptor of its shared memory; queues travel only as Process arguments');
  }
  let fd = record.fd;
  // From another thread of this process: the descriptor is the sender's; open our own.
  if ((record.meta as { pid?: unknown } | undefined)?.pid === process.pid) {
    fd = openSync(`/proc/self/fd/${fd}`, 'r+');
    openedByFs.add(fd);
  }
  let ring: Ring;
  try {
    ring = Ring.attach(mapSharedMemory(fd));
    if (!expected.includes(ring.kind)) throw new ValueError(`the shared memory received belongs to another kind of queue (${ring.kind})`);
  } catch (error) {
    closeDescriptor(fd);
    throw error;
  }
  return { ring, fd };
}
