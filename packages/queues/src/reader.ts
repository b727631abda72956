/**
 * The reading side of a queue in one thread. A get takes the read lock,
 * decodes the next message straight from the ring (no copy for a whole
 * record), advances HEAD and lets go. When the ring is empty it sleeps on
 * TAIL, and only then does a writer pay for a wake-up.
 *
 * A large message arrives in pieces; the reader keeps the read lock while it
 * assembles one, as Python's reader keeps its lock while it reads a message
 * from the pipe. If the writer of that message dies, the reader (or another
 * writer) notices, appends ABORT, and the pieces are dropped: a get never
 * returns part of a message.
 */
import { futexWaitAsync, futexWake, schedYield } from '@mpjs/native';
import { DecodeError, type Codec } from '@mpjs/serialization';
import { Empty, ValueError, WordPoller, getLogger, throwIfAborted, type Deadline } from '@mpjs/util';
import { FIRST_EXTRA, RECORD_HEADER, RecordKind, recordSize } from './messages.js';
import { DATA_OFFSET, LIVENESS_SLICE, Word, bufferView, futexWaiter, type Ring } from './ring-buffer.js';

/** What a read attempt found. */
export const ReadStatus = {
  /** A message, decoded: take it with `take()`. */
  VALUE: 1,
  /** A message whose modules must be imported first: `take()` returns a promise. */
  NEEDS_IMPORT: 2,
  /** A message that could not be decoded: `take()` throws. */
  FAILED: 3,
  /** Nothing to read (the read lock is free again). */
  EMPTY: 4,
  /** Another reader holds the read lock. */
  BUSY: 5,
  /** Part of a large message is read; the read lock is still held. */
  PARTIAL: 6,
} as const;

/** One of {@link ReadStatus}. */
export type ReadStatus = (typeof ReadStatus)[keyof typeof ReadStatus];

/** Reads messages from a ring. */
export class Reader {
  readonly #ring: Ring;
  readonly #codec: Codec;
  /** A recent TAIL; re-read only when HEAD catches up with it. */
  #tailCache = 0;
  /** HEAD as this reader left it: if another reader moved it since, the cached TAIL is stale. */
  #lastHead = 0;
  /** The large message being assembled, and how much of it has arrived. */
  #assembly: Uint8Array | null = null;
  #filled = 0;
  /** Reused for large messages up to a few ring sizes (decoding copies out of it). */
  #scratch: Uint8Array | null = null;
  /** Watches TAIL for a moment before sleeping, as every wait between processes does (`POLL_MICROS`). */
  readonly #poller = new WordPoller(schedYield);
  /** The outcome of the last completed read. */
  #value: unknown = undefined;
  #raw: Uint8Array | null = null;
  #error: unknown = undefined;

  constructor(ring: Ring, codec: Codec) {
    this.#ring = ring;
    this.#codec = codec;
  }

  /**
   * Reads without waiting. `sync`: the caller cannot wait, so a large
   * message is started only once all its pieces are in the ring, and a
   * message whose modules are not loaded is left in place (with an error).
   */
  tryRead(sync: boolean): ReadStatus {
    if (!this.#ring.tryLock(Word.READ_LOCK)) return ReadStatus.BUSY;
    return this.readLocked(sync);
  }

  /** The outcome of a read that returned VALUE, NEEDS_IMPORT or FAILED. */
  take(status: ReadStatus): unknown {
    if (status === ReadStatus.VALUE) {
      const value = this.#value;
      this.#value = undefined;
      return value;
    }
    if (status === ReadStatus.NEEDS_IMPORT) {
      const raw = this.#raw!;
      this.#raw = null;
      return this.#codec.decodeAsync(raw);
    }
    const error = this.#error;
    this.#error = undefined;
    throw error;
  }

  /**
   * Waits for and reads the next message, starting from the outcome of a
   * first attempt. `deadline` and `signal` bound the wait for a message to
   * start; once its first piece is read, the rest is awaited regardless (as
   * Python does), and only the death of its writer ends it.
   */
  async receive(first: ReadStatus, deadline: Deadline, signal: AbortSignal | undefined): Promise<unknown> {
    const ring = this.#ring;
    let status = first;
    for (;;) {
      if (status === ReadStatus.BUSY) {
        const taken = await ring.acquire(Word.READ_LOCK, futexWaiter, deadline, signal);
        if (taken === null) throw new Empty();
        if (taken > 0) this.#repairReader();
        status = this.readLocked(false);
      }
      while (status === ReadStatus.PARTIAL) status = await this.#awaitPieces();
      if (status <= ReadStatus.FAILED) return this.take(status);
      // EMPTY: sleep until a writer publishes.
      const remaining = deadline.remaining();
      if (remaining === 0) throw new Empty();
      throwIfAborted(signal);
      if (!this.#spinForData(remaining)) await this.#waitForData(remaining, signal);
      throwIfAborted(signal);
      status = this.tryRead(false);
    }
  }

  /**
   * Watches TAIL for a moment before sleeping: a producer that is busy
   * putting publishes again within that time, and a sleep costs a system call
   * on both sides. True when something was published within the budget
   * and `remaining` ms.
   */
  #spinForData(remaining: number): boolean {
    const words = this.#ring.words;
    return this.#poller.whileEqual(words, Word.TAIL, Atomics.load(words, Word.HEAD), performance.now() + remaining);
  }

  /** Sleeps on TAIL while the ring is empty, at most `timeout` ms. */
  async #waitForData(timeout: number, signal: AbortSignal | undefined): Promise<void> {
    const words = this.#ring.words;
    Atomics.add(words, Word.DATA_WAITERS, 1);
    try {
      const tail = Atomics.load(words, Word.TAIL);
      if (tail !== Atomics.load(words, Word.HEAD)) return;
      await futexWaitAsync(words, Word.TAIL, tail, signal ? { timeout, signal } : { timeout });
    } finally {
      Atomics.sub(words, Word.DATA_WAITERS, 1);
    }
  }

  /** Read lock held, a large message half read and the ring empty: wait for more, watching its writer. */
  async #awaitPieces(): Promise<ReadStatus> {
    const words = this.#ring.words;
    const tail = Atomics.load(words, Word.TAIL);
    if (tail === Atomics.load(words, Word.HEAD)) {
      Atomics.add(words, Word.DATA_WAITERS, 1);
      let result;
      try {
        result = await futexWaitAsync(words, Word.TAIL, tail, { timeout: LIVENESS_SLICE });
      } finally {
        Atomics.sub(words, Word.DATA_WAITERS, 1);
      }
      if (result === 'timed-out' && Atomics.load(words, Word.TAIL) === tail) this.#checkWriter(tail);
    }
    return this.readLocked(false);
  }

  /**
   * No piece came for a while: if the writer of the message died, take its
   * lock over and end the message with ABORT (the ring is empty, so the
   * record fits); if no writer holds the lock at all, the message can never
   * finish: drop it.
   */
  #checkWriter(tail: number): void {
    const ring = this.#ring;
    const words = ring.words;
    const dead = ring.takeOverIfDead(Word.WRITE_LOCK);
    if (dead > 0) {
      getLogger().debug('queue: writer %d died in the middle of a message; dropping it', dead);
      try {
        if (Atomics.load(words, Word.WRITER_IN_MESSAGE) !== 0) appendAbort(ring);
        ring.recoverDeadProducers();
      } finally {
        ring.unlock(Word.WRITE_LOCK);
      }
      return;
    }
    if (Atomics.load(words, Word.WRITE_LOCK) === 0 && Atomics.load(words, Word.TAIL) === tail) this.#drop();
  }

  /** The read lock was taken over from a reader that died: the message it was reading is lost. */
  #repairReader(): void {
    const ring = this.#ring;
    const words = ring.words;
    if (Atomics.load(words, Word.READER_IN_MESSAGE) !== 0) {
      Atomics.store(words, Word.READER_IN_MESSAGE, 0);
      Atomics.store(words, Word.CONSUMED, (Atomics.load(words, Word.CONSUMED) + 1) | 0);
      ring.giveBack(1);
    }
  }

  /** Gives up a half-read message and the read lock (a reader that cannot wait for the rest). */
  abandon(): void {
    this.#drop();
    this.#ring.unlock(Word.READ_LOCK);
  }

  #drop(): void {
    this.#assembly = null;
    this.#filled = 0;
    Atomics.store(this.#ring.words, Word.READER_IN_MESSAGE, 0);
  }

  /**
   * With the read lock held: reads records until a message is complete
   * (VALUE, NEEDS_IMPORT or FAILED, lock released), the ring runs dry while
   * no message is started (EMPTY, lock released) or in the middle of one
   * (PARTIAL, lock kept).
   */
  readLocked(sync: boolean): ReadStatus {
    const ring = this.#ring;
    const words = ring.words;
    const bytes = ring.bytes;
    let head = Atomics.load(words, Word.HEAD);
    // Positions wrap at 4 GiB: a TAIL cached before other readers moved on could look ahead of HEAD.
    let tail = head === this.#lastHead ? this.#tailCache : head;
    for (;;) {
      if (((tail - head) | 0) <= 0) {
        tail = this.#tailCache = Atomics.load(words, Word.TAIL);
        if (tail === head) {
          this.#lastHead = head;
          if (this.#assembly !== null) return ReadStatus.PARTIAL;
          ring.unlock(Word.READ_LOCK);
          return ReadStatus.EMPTY;
        }
      }
      const at = DATA_OFFSET + (head & ring.mask);
      const w = at >> 2;
      const length = words[w]!;
      const kind = words[w + 1]!;
      if (length < 0 || ((tail - head) | 0) < recordSize(length) || (kind !== RecordKind.PAD && length > ring.maxRecord - RECORD_HEADER)) {
        head = this.#corrupt(head, tail, 'a record header with an impossible length');
        continue;
      }
      const next = (head + recordSize(length)) | 0;
      switch (kind) {
        case RecordKind.WHOLE: {
          if (this.#assembly !== null) this.#drop();
          const status = this.#decode(bufferView(ring.buffer, at + RECORD_HEADER, length), false, sync);
          if (status === ReadStatus.EMPTY) {
            // Left in place for a reader that can import modules.
            ring.unlock(Word.READ_LOCK);
            const error = this.#error;
            this.#error = undefined;
            throw error;
          }
          this.#finish(next);
          return status;
        }
        case RecordKind.FIRST: {
          if (this.#assembly !== null) this.#drop();
          if (sync && !this.#completeFrom(head, tail)) {
            ring.unlock(Word.READ_LOCK);
            return ReadStatus.EMPTY;
          }
          const total = (words[w + 2]! >>> 0) + words[w + 3]! * 0x100000000;
          const chunk = length - FIRST_EXTRA;
          if (chunk < 0 || total <= chunk || total > Number.MAX_SAFE_INTEGER) {
            head = this.#corrupt(head, tail, 'a first piece with an impossible total size');
            continue;
          }
          let assembly: Uint8Array;
          try {
            if (total <= 4 * ring.capacity) {
              if (this.#scratch === null || this.#scratch.length < total) this.#scratch = new Uint8Array(Math.max(total, ring.capacity));
              assembly = this.#scratch.subarray(0, total);
            } else {
              assembly = new Uint8Array(total);
            }
          } catch {
            // Cannot hold it: skip its pieces (they are orphans once the assembly is gone).
            getLogger().warning('queue: cannot allocate %d bytes for a message; it is dropped', total);
            head = next;
            this.#advance(head);
            continue;
          }
          const start = at + RECORD_HEADER + FIRST_EXTRA;
          assembly.set(bytes.subarray(start, start + chunk));
          this.#assembly = assembly;
          this.#filled = chunk;
          Atomics.store(words, Word.READER_IN_MESSAGE, 1);
          break;
        }
        case RecordKind.MIDDLE:
        case RecordKind.LAST: {
          const assembly = this.#assembly;
          // Pieces of a message already dropped (its reader died) are skipped.
          if (assembly === null) break;
          if (this.#filled + length > assembly.length || (kind === RecordKind.LAST && this.#filled + length !== assembly.length)) {
            this.#drop();
            head = this.#corrupt(head, tail, 'pieces that do not add up to their message');
            continue;
          }
          const start = at + RECORD_HEADER;
          assembly.set(bytes.subarray(start, start + length), this.#filled);
          this.#filled += length;
          if (kind === RecordKind.LAST) {
            this.#assembly = null;
            Atomics.store(words, Word.READER_IN_MESSAGE, 0);
            const status = this.#decode(assembly, assembly.buffer !== this.#scratch?.buffer, false);
            this.#finish(next);
            return status;
          }
          break;
        }
        case RecordKind.ABORT:
          if (this.#assembly !== null) this.#drop();
          break;
        case RecordKind.PAD:
          break;
        default:
          head = this.#corrupt(head, tail, `an unknown record kind ${kind}`);
          continue;
      }
      head = next;
      this.#advance(head);
    }
  }

  /** Whether the large message starting at `head` has all its pieces (or its ABORT) before `tail`. */
  #completeFrom(head: number, tail: number): boolean {
    const words = this.#ring.words;
    const mask = this.#ring.mask;
    for (let p = head; p !== tail; ) {
      const w = (DATA_OFFSET + (p & mask)) >> 2;
      const kind = words[w + 1];
      if (kind === RecordKind.LAST || kind === RecordKind.ABORT) return true;
      p = (p + recordSize(words[w]!)) | 0;
      if (((tail - p) | 0) < 0) return false;
    }
    return false;
  }

  /**
   * Decodes a message. Returns VALUE, NEEDS_IMPORT (a module must be
   * imported first) or FAILED; `sync` readers get EMPTY instead of
   * NEEDS_IMPORT, with the explanation in `#error`.
   */
  #decode(bytes: Uint8Array, owned: boolean, sync: boolean): ReadStatus {
    try {
      this.#value = this.#codec.decode(bytes);
      return ReadStatus.VALUE;
    } catch (error) {
      if (error instanceof DecodeError && error.module !== undefined) {
        if (sync) {
          this.#error = new ValueError(
            `getNowait() cannot decode the next message: it refers to ${error.module}, which this process has not imported; ` +
              'use "await queue.get()" (which imports it) or import that module first',
            { cause: error },
          );
          return ReadStatus.EMPTY;
        }
        this.#raw = owned ? bytes : new Uint8Array(bytes);
        return ReadStatus.NEEDS_IMPORT;
      }
      this.#error = error;
      return ReadStatus.FAILED;
    }
  }

  /** A message was taken: count it, free its place and its room, let go of the lock. */
  #finish(next: number): void {
    const ring = this.#ring;
    const words = ring.words;
    ring.released();
    // Read-lock holders only write it, and only qsize() reads it: no fence needed.
    words[Word.CONSUMED] = (words[Word.CONSUMED]! + 1) | 0;
    this.#advance(next);
    ring.unlock(Word.READ_LOCK);
  }

  /** Moves HEAD on; wakes sleeping writers once half of the ring is free. */
  #advance(head: number): void {
    const ring = this.#ring;
    const words = ring.words;
    Atomics.store(words, Word.HEAD, head);
    this.#lastHead = head;
    if (Atomics.load(words, Word.SPACE_WAITERS) > 0) {
      const used = (Atomics.load(words, Word.TAIL) - head) | 0;
      if (ring.capacity - used >= ring.capacity >> 1) futexWake(words, Word.HEAD);
    }
  }

  /** Records that cannot be parsed: skip everything published so far rather than stall every reader. */
  #corrupt(head: number, tail: number, what: string): number {
    getLogger().warning('queue: the ring holds %s at position %d; skipping %d bytes', what, head >>> 0, (tail - head) | 0);
    if (this.#assembly !== null) this.#drop();
    this.#advance(tail);
    return tail;
  }
}

/**
 * Appends ABORT for a writer that died in the middle of a message (the
 * caller holds the write lock it took over, and the ring has room).
 */
export function appendAbort(ring: Ring): boolean {
  const words = ring.words;
  const tail = Atomics.load(words, Word.TAIL);
  const head = Atomics.load(words, Word.HEAD);
  if (ring.capacity - ((tail - head) | 0) < RECORD_HEADER) return false;
  // Records are 8-byte aligned, so an empty one always fits before the end.
  const w = (DATA_OFFSET + (tail & ring.mask)) >> 2;
  words[w] = 0;
  words[w + 1] = RecordKind.ABORT;
  Atomics.store(words, Word.TAIL, (tail + RECORD_HEADER) | 0);
  Atomics.store(words, Word.WRITER_IN_MESSAGE, 0);
  if (Atomics.load(words, Word.DATA_WAITERS) > 0) futexWake(words, Word.TAIL);
  return true;
}
