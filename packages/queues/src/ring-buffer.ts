/**
 * The shared memory behind a queue: a header of 32-bit words (positions,
 * locks, counters, a table of producers) followed by a ring of variable-length
 * records (see messages.ts). Every process that uses the queue maps the same
 * memory (a memfd), so a put is a copy into the ring and a get a copy out of
 * it, with no system call unless a side has to sleep.
 *
 * Positions (`HEAD`, `TAIL`) are byte counters modulo 2^32 that only grow;
 * the ring index is `position & (capacity - 1)`. One write lock lets one
 * writer at a time append, one read lock one reader at a time consume, so the
 * ring itself is single-producer single-consumer between the lock holders.
 *
 * A lock word holds its owner's pid (0 when free). A process that waits for a
 * lock wakes up every {@link LIVENESS_SLICE} ms to check that the owner is
 * alive; if it is gone (killed), the waiter takes the lock over and repairs
 * what the dead owner left half done. Each producing process also has a slot
 * counting the items it has reserved but not yet published, so that when it
 * dies its reservations (places of a bounded queue, unfinished tasks of a
 * joinable one) are given back.
 */
import { createSharedMemory, futexWaitAsync, futexWake, type FutexWaitResult } from '@mpjs/native';
import { ValueError, type Deadline } from '@mpjs/util';
import { processGone } from './liveness.js';
import { QueueKind } from './messages.js';

/** Word indices of the header. Groups written by different sides sit 128 bytes apart. */
export const Word = {
  MAGIC: 0,
  VERSION: 1,
  CAPACITY: 2,
  KIND: 3,
  MAXSIZE: 4,

  // Writer side: touched by the write-lock holder.
  TAIL: 32,
  WRITE_LOCK: 33,
  WRITE_LOCK_WAITERS: 34,
  /** 1 while the write-lock holder is streaming a large message. */
  WRITER_IN_MESSAGE: 35,
  /** Messages completely written (wrapping counter). */
  PUBLISHED: 36,
  /** Readers sleeping on TAIL. */
  DATA_WAITERS: 37,

  // Reader side: touched by the read-lock holder.
  HEAD: 64,
  READ_LOCK: 65,
  READ_LOCK_WAITERS: 66,
  /** 1 while the read-lock holder is assembling a large message. */
  READER_IN_MESSAGE: 67,
  /** Messages completely read (wrapping counter). */
  CONSUMED: 68,
  /** Writers sleeping on HEAD for room. */
  SPACE_WAITERS: 69,

  /** Bounded queues: items put and not yet got. */
  COUNT: 96,
  PUT_WAITERS: 97,

  /** Joinable queues: items put and not yet marked done. */
  UNFINISHED: 128,

  /** Producer slots: [pid, pending] every SLOT_STRIDE words. */
  SLOTS: 160,
} as const;

const SLOT_STRIDE = 16;
const SLOT_COUNT = 64;
/** Where the ring's bytes start. */
export const DATA_OFFSET = 8192;

const MAGIC = 0x6d707131; // 'mpq1'
const VERSION = 1;

/** Ring size when none is given: 1 MiB. */
export const DEFAULT_BUFFER_SIZE = 1 << 20;
/** Smallest ring size accepted. */
export const MIN_BUFFER_SIZE = 1 << 12;
/** Largest ring size accepted. */
export const MAX_BUFFER_SIZE = 1 << 30;

/** Largest `maxsize` (the counters are 32-bit). */
export const MAX_MAXSIZE = 0x7fffffff;

/** Milliseconds between liveness checks while waiting on a lock or a dead producer. */
export const LIVENESS_SLICE = 100;

/**
 * How a side waits for a word to change. A queue whose flush was cancelled
 * (`cancelJoinThread()`) swaps in one that does not keep the process alive.
 */
export type WaitFn = (
  view: Int32Array,
  index: number,
  expected: number,
  timeout: number,
  signal?: AbortSignal,
) => Promise<FutexWaitResult>;

/** A futex wait that keeps the process alive while pending. */
export const futexWaiter: WaitFn = (view, index, expected, timeout, signal) =>
  futexWaitAsync(view, index, expected, signal ? { timeout, signal } : { timeout });

/** A lock that was taken: `0`, or the pid of the dead owner it was taken over from. */
export type Acquired = number;

/** Checks a ring size given by a user. */
export function checkBufferSize(size: unknown): number {
  if (size === undefined) return DEFAULT_BUFFER_SIZE;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < MIN_BUFFER_SIZE || size > MAX_BUFFER_SIZE || (size & (size - 1)) !== 0) {
    throw new RangeError(
      `"bufferSize" must be a power of two from ${MIN_BUFFER_SIZE} to ${MAX_BUFFER_SIZE} bytes (e.g. 1048576), got ${String(size)}`,
    );
  }
  return size;
}

/**
 * A `Buffer` over part of the ring, made the way Node makes its own (a
 * `Uint8Array` subclass on `Buffer.prototype`): the codec decodes a `Buffer`
 * as it is, and `Buffer#subarray` costs three times as much per message.
 */
class BufferView extends Uint8Array {}
Object.setPrototypeOf(BufferView.prototype, Buffer.prototype);

/** A `Buffer` of `length` bytes of `buffer` from `offset`, without copying. */
export function bufferView(buffer: SharedArrayBuffer, offset: number, length: number): Buffer {
  return new BufferView(buffer as unknown as ArrayBuffer, offset, length) as unknown as Buffer;
}

/** The shared state of one queue, as seen from one thread. */
export class Ring {
  /** The mapped memory. */
  readonly buffer: SharedArrayBuffer;
  /** The header (and record headers) as 32-bit words. */
  readonly words: Int32Array;
  /** The whole mapping as bytes. */
  readonly bytes: Uint8Array;
  /** Bytes in the ring (a power of two). */
  readonly capacity: number;
  /** `capacity - 1`. */
  readonly mask: number;
  /** Largest record, header included: a quarter of the ring, so two always fit in half of it. */
  readonly maxRecord: number;
  /** What kind of queue this is. */
  readonly kind: QueueKind;
  /** 0 for unbounded. */
  readonly maxsize: number;
  /** Whether reservations must be tracked per producer (bounded or joinable queues). */
  readonly tracksReservations: boolean;
  /** This process. */
  readonly pid: number = process.pid;
  /** Word index of this process's pending counter; -1 none free; -2 not looked up yet. */
  #slot = -2;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.words = new Int32Array(buffer);
    this.bytes = new Uint8Array(buffer);
    this.capacity = this.words[Word.CAPACITY]!;
    this.mask = this.capacity - 1;
    this.maxRecord = this.capacity / 4;
    this.kind = this.words[Word.KIND]! as QueueKind;
    this.maxsize = this.words[Word.MAXSIZE]!;
    this.tracksReservations = this.maxsize > 0 || this.kind === QueueKind.JOINABLE;
  }

  /** Creates the shared memory of a new queue; returns it mapped and its descriptor. */
  static create(kind: QueueKind, maxsize: number, capacity: number): { ring: Ring; fd: number } {
    const block = createSharedMemory(DATA_OFFSET + capacity);
    const words = new Int32Array(block.buffer);
    words[Word.VERSION] = VERSION;
    words[Word.CAPACITY] = capacity;
    words[Word.KIND] = kind;
    words[Word.MAXSIZE] = maxsize;
    Atomics.store(words, Word.MAGIC, MAGIC);
    return { ring: new Ring(block.buffer), fd: block.fd };
  }

  /** Wraps memory mapped from a queue's descriptor, checking that it is one. */
  static attach(buffer: SharedArrayBuffer): Ring {
    const words = new Int32Array(buffer, 0, Math.min(buffer.byteLength, DATA_OFFSET) >> 2);
    if (buffer.byteLength < DATA_OFFSET + MIN_BUFFER_SIZE || Atomics.load(words, Word.MAGIC) !== MAGIC) {
      throw new ValueError('the shared memory received is not an mpjs queue (wrong magic number)');
    }
    if (words[Word.VERSION] !== VERSION) {
      throw new ValueError(`the queue was made by another version of @mpjs/queues (layout ${words[Word.VERSION]}, expected ${VERSION})`);
    }
    if (buffer.byteLength !== DATA_OFFSET + words[Word.CAPACITY]!) {
      throw new ValueError('the queue received is damaged: its size does not match its header');
    }
    return new Ring(buffer);
  }

  // ---- Locks -------------------------------------------------------------

  /** Takes `lock` (WRITE_LOCK or READ_LOCK) if it is free. */
  tryLock(lock: number): boolean {
    return Atomics.compareExchange(this.words, lock, 0, this.pid) === 0;
  }

  /** Releases `lock`, waking one waiter if there is any. */
  unlock(lock: number): void {
    Atomics.store(this.words, lock, 0);
    if (Atomics.load(this.words, lock + 1) > 0) futexWake(this.words, lock, 1);
  }

  /**
   * Waits for `lock` until `deadline`. Returns null when the deadline passed,
   * 0 when taken, or the pid of a dead owner it was taken over from (the
   * caller repairs what that owner left). Rejects when `signal` aborts.
   */
  async acquire(lock: number, wait: WaitFn, deadline: Deadline, signal?: AbortSignal): Promise<Acquired | null> {
    const words = this.words;
    const waiters = lock + 1;
    for (;;) {
      if (Atomics.compareExchange(words, lock, 0, this.pid) === 0) return 0;
      const remaining = deadline.remaining();
      if (remaining === 0) return null;
      Atomics.add(words, waiters, 1);
      let owner: number;
      let result: FutexWaitResult;
      try {
        owner = Atomics.load(words, lock);
        if (owner === 0) continue;
        result = await wait(words, lock, owner, Math.min(LIVENESS_SLICE, remaining), signal);
      } finally {
        Atomics.sub(words, waiters, 1);
      }
      if (result === 'timed-out' && Atomics.load(words, lock) === owner && processGone(owner)) {
        if (Atomics.compareExchange(words, lock, owner, this.pid) === owner) return owner;
      }
    }
  }

  /**
   * If `lock` is held by a dead process, takes it over and returns that pid
   * (the caller repairs, then unlocks); otherwise returns 0.
   */
  takeOverIfDead(lock: number): number {
    const owner = Atomics.load(this.words, lock);
    if (owner === 0 || owner === this.pid || !processGone(owner)) return 0;
    return Atomics.compareExchange(this.words, lock, owner, this.pid) === owner ? owner : 0;
  }

  // ---- Producer slots ------------------------------------------------------

  /** Word index of this process's pending counter, claiming a slot on first use; -1 if the table is full. */
  slot(): number {
    if (this.#slot !== -2) return this.#slot;
    const words = this.words;
    for (let i = 0; i < SLOT_COUNT; i++) {
      const at = Word.SLOTS + i * SLOT_STRIDE;
      if (Atomics.load(words, at) === this.pid) return (this.#slot = at + 1);
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      for (let i = 0; i < SLOT_COUNT; i++) {
        const at = Word.SLOTS + i * SLOT_STRIDE;
        if (Atomics.compareExchange(words, at, 0, this.pid) === 0) return (this.#slot = at + 1);
      }
      // The table is full: free the slots of dead producers and look again.
      this.recoverDeadProducers(true);
    }
    return (this.#slot = -1);
  }

  /** Counts `n` items this process has reserved and not yet published. */
  addPending(n: number): void {
    const at = this.slot();
    if (at >= 0) Atomics.add(this.words, at, n);
  }

  /** `n` of this process's reserved items were published (or given up). */
  subPending(n: number): void {
    const at = this.#slot >= 0 ? this.#slot : this.slot();
    if (at >= 0) Atomics.sub(this.words, at, n);
  }

  /**
   * Gives back what dead producers had reserved and never published, and
   * frees their slots (`freeIdle`: also the slots of dead producers that owed
   * nothing). Returns how many items were given back.
   */
  recoverDeadProducers(freeIdle = false): number {
    const words = this.words;
    let recovered = 0;
    for (let i = 0; i < SLOT_COUNT; i++) {
      const at = Word.SLOTS + i * SLOT_STRIDE;
      const pid = Atomics.load(words, at);
      if (pid === 0 || pid === this.pid) continue;
      if (!freeIdle && Atomics.load(words, at + 1) === 0) continue;
      if (!processGone(pid)) continue;
      const owed = Atomics.exchange(words, at + 1, 0);
      if (owed > 0) {
        recovered += owed;
        this.giveBack(owed);
      }
      Atomics.compareExchange(words, at, pid, 0);
    }
    return recovered;
  }

  // ---- Reservations ----------------------------------------------------------

  /** Reserves a place for one item if the queue has room (always, when unbounded). */
  tryReserve(): boolean {
    const words = this.words;
    if (this.maxsize > 0) {
      for (;;) {
        const count = Atomics.load(words, Word.COUNT);
        if (count >= this.maxsize) return false;
        if (Atomics.compareExchange(words, Word.COUNT, count, count + 1) === count) break;
      }
    }
    if (this.kind === QueueKind.JOINABLE) Atomics.add(words, Word.UNFINISHED, 1);
    return true;
  }

  /** One item was taken out of the ring: its place is free again. */
  released(): void {
    if (this.maxsize > 0) {
      Atomics.sub(this.words, Word.COUNT, 1);
      if (Atomics.load(this.words, Word.PUT_WAITERS) > 0) futexWake(this.words, Word.COUNT, 1);
    }
  }

  /** `n` reserved items will never arrive: free their places and finish their tasks. */
  giveBack(n: number): void {
    const words = this.words;
    if (this.maxsize > 0) {
      Atomics.sub(words, Word.COUNT, n);
      futexWake(words, Word.COUNT);
    }
    if (this.kind === QueueKind.JOINABLE && Atomics.sub(words, Word.UNFINISHED, n) - n <= 0) futexWake(words, Word.UNFINISHED);
  }

  // ---- Observers ---------------------------------------------------------------

  /** Items put and not yet got (approximate while others are active). */
  qsize(): number {
    const words = this.words;
    // What dead producers reserved and never published is not in the queue.
    this.recoverDeadProducers();
    if (this.maxsize > 0) return Math.max(0, Atomics.load(words, Word.COUNT));
    let n = (Atomics.load(words, Word.PUBLISHED) - Atomics.load(words, Word.CONSUMED)) | 0;
    for (let i = 0; i < SLOT_COUNT; i++) {
      const at = Word.SLOTS + i * SLOT_STRIDE;
      if (Atomics.load(words, at) !== 0) n += Atomics.load(words, at + 1);
    }
    return Math.max(0, n);
  }

  /** Whether the ring holds no record. */
  empty(): boolean {
    return Atomics.load(this.words, Word.HEAD) === Atomics.load(this.words, Word.TAIL);
  }

  /** Whether a bounded queue has no free place. */
  full(): boolean {
    return this.maxsize > 0 && Atomics.load(this.words, Word.COUNT) >= this.maxsize;
  }
}
