/**
 * The writing side of a queue in one thread: Python's feeder thread, on the
 * event loop. A put writes straight into the ring when it can (nothing
 * waiting before it, the write lock free, room for the record); otherwise the
 * encoded message joins a local list that a background flush drains into the
 * ring as room frees up, in order.
 *
 * A pending flush keeps the process alive (its waits are futex waits that
 * count as pending work), so a program does not end before its data is in the
 * ring; a child started by `@mpjs/process` also awaits it before it exits
 * (see exit.ts). `cancel()` (`cancelJoinThread()`) lets the process end
 * without waiting: the flush goes on only while the process lives.
 */
import { futexWaitAsync, futexWake, type FutexWaitResult } from '@mpjs/native';
import { Deadline, getLogger } from '@mpjs/util';
import { trackFlush, untrackFlush } from './exit.js';
import { FIRST_EXTRA, RECORD_HEADER, RecordKind, recordSize } from './messages.js';
import { DATA_OFFSET, LIVENESS_SLICE, Word, type Ring, type WaitFn } from './ring-buffer.js';

/** Encoded bytes a thread keeps waiting in its list, at least, before it keeps objects instead. */
const KEEP_LIMIT = 4 << 20;

/** Fills emptied slots of the list. */
const EMPTY_MESSAGE = new Uint8Array(0);

/** Polls instead of sleeping on a futex, without keeping the process alive. */
function pollingWait(view: Int32Array, index: number, expected: number, timeout: number): Promise<FutexWaitResult> {
  return new Promise((resolve) => {
    if (Atomics.load(view, index) !== expected) {
      resolve('not-equal');
      return;
    }
    setTimeout(() => resolve('timed-out'), Math.min(timeout, 2)).unref();
  });
}

/**
 * A message waiting in the local list as the object itself, encoded again
 * when its turn comes (as Python's feeder thread pickles lazily): what a
 * producer far ahead of its readers keeps once its list holds many bytes.
 */
class Deferred {
  constructor(readonly value: unknown) {}
}

/** Encodes an object for the ring (the queue's codec, refusing OS handles). */
export type Encoder = (value: unknown) => Uint8Array;

/** Writes one thread's messages into a ring, in order. */
export class Feeder {
  readonly #ring: Ring;
  readonly #encode: Encoder;
  /** Encoded bytes kept in the local list before further messages are kept as objects. */
  readonly #keepLimit: number;
  /** Messages waiting for the ring, oldest at `#first`. */
  #pending: Array<Uint8Array | Deferred> = [];
  #first = 0;
  /** Bytes of the encoded messages in the list. */
  #pendingBytes = 0;
  /** Whether a flush runs. */
  #flushing = false;
  #drainWaiters: Array<() => void> = [];
  /** Messages handed to `push` / completely written, for `written(seq)`. */
  #queued = 0;
  #written = 0;
  #writtenWaiters: Array<{ seq: number; resolve: () => void }> = [];
  /** Where the next record goes; valid while this side holds the write lock. */
  #tail = 0;
  /** A recent HEAD: at most the real one, so room computed from it is never overestimated. */
  #headCache = 0;
  /** The write lock was taken over from a writer that died mid-message: end that message first. */
  #abortOwed = false;
  #cancelled = false;
  readonly #stop = new AbortController();

  constructor(ring: Ring, encode: Encoder) {
    this.#ring = ring;
    this.#encode = encode;
    this.#keepLimit = Math.max(KEEP_LIMIT, 2 * ring.capacity);
  }

  /** Messages in the local list. */
  get pendingCount(): number {
    return this.#pending.length - this.#first;
  }

  /** Whether `cancel()` was called. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /**
   * Queues one encoded message. It is written at once when nothing waits
   * before it and there is room (a large message only if all of it fits);
   * otherwise the bytes wait in the local list (the codec never reuses the
   * bytes it returned, so they are not copied). `counted`: the caller
   * already counted it as pending in this process's slot. Returns its
   * sequence number for {@link written}.
   */
  push(bytes: Uint8Array, counted: boolean): number {
    const seq = ++this.#queued;
    const ring = this.#ring;
    if (!this.#flushing && ring.tryLock(Word.WRITE_LOCK)) {
      let done = false;
      try {
        this.#locked();
        if (bytes.length + RECORD_HEADER <= ring.maxRecord) {
          if (this.#room(recordSize(bytes.length))) {
            this.#write(RecordKind.WHOLE, bytes, 0, bytes.length, 0);
            this.#publish(1, false);
            done = true;
          }
        } else if (this.#fitsWhole(bytes.length)) {
          for (let offset = 0; offset < bytes.length; ) offset = this.#piece(bytes, offset);
          done = true;
        }
      } finally {
        ring.unlock(Word.WRITE_LOCK);
      }
      if (done) {
        if (counted) ring.subPending(1);
        this.#written = seq;
        return seq;
      }
    }
    if (!counted) ring.addPending(1);
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#flushing) this.#drainNow();
    else this.#startFlush();
    return seq;
  }

  /**
   * Whether the local list already holds so many encoded bytes that a new
   * message should wait in it as the object itself, encoded when its turn
   * comes ({@link pushObject}) rather than now.
   */
  get deferring(): boolean {
    return this.#pendingBytes > this.#keepLimit;
  }

  /** Queues an object to be encoded when its turn comes (see {@link deferring}). */
  pushObject(value: unknown, counted: boolean): number {
    const seq = ++this.#queued;
    if (!counted) this.#ring.addPending(1);
    this.#pending.push(new Deferred(value));
    if (this.#flushing) this.#drainNow();
    else this.#startFlush();
    return seq;
  }

  /** Resolves once message `seq` (from {@link push}) is completely in the ring. */
  written(seq: number): Promise<void> {
    if (this.#written >= seq) return Promise.resolve();
    return new Promise((resolve) => this.#writtenWaiters.push({ seq, resolve }));
  }

  /** Resolves when the local list is empty and no flush runs (at once after `cancel()`). */
  drained(): Promise<void> {
    if (!this.#flushing || this.#cancelled) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Stops keeping the process alive for the flush (`cancelJoinThread()`). */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#stop.abort();
    untrackFlush(this);
  }

  // ---- Waiting -----------------------------------------------------------

  readonly #wait: WaitFn = (view, index, expected, timeout) => {
    if (this.#cancelled) return pollingWait(view, index, expected, timeout);
    return futexWaitAsync(view, index, expected, { timeout, signal: this.#stop.signal }).catch(() => 'timed-out' as const);
  };

  // ---- Flushing ----------------------------------------------------------

  #startFlush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    if (!this.#cancelled) trackFlush(this);
    void this.#flush();
  }

  /** Ends the flush; called in the same synchronous step that found the list empty. */
  #flushed(): void {
    this.#flushing = false;
    untrackFlush(this);
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async #flush(): Promise<void> {
    const ring = this.#ring;
    try {
      for (;;) {
        if (this.pendingCount === 0 && !this.#abortOwed) {
          this.#flushed();
          return;
        }
        // An object kept as such is encoded now, outside the lock.
        if (this.#pending[this.#first] instanceof Deferred) {
          this.#materialize();
          continue;
        }
        const takenFrom = (await ring.acquire(Word.WRITE_LOCK, this.#wait, Deadline.never()))!;
        if (takenFrom > 0) this.#repair();
        let need = 0;
        try {
          this.#locked();
          if (this.#abortOwed) {
            if (this.#room(RECORD_HEADER)) {
              this.#write(RecordKind.ABORT, null, 0, 0, 0);
              Atomics.store(ring.words, Word.WRITER_IN_MESSAGE, 0);
              this.#publish(0, true);
              this.#abortOwed = false;
            } else {
              need = RECORD_HEADER;
            }
          }
          let batch = 0;
          while (need === 0 && this.pendingCount > 0) {
            const item = this.#pending[this.#first]!;
            if (item instanceof Deferred) break;
            if (item.length + RECORD_HEADER <= ring.maxRecord) {
              const size = recordSize(item.length);
              if (!this.#room(size)) {
                need = size;
                break;
              }
              this.#write(RecordKind.WHOLE, item, 0, item.length, 0);
              this.#shift();
              batch++;
            } else {
              this.#done(batch, false);
              batch = 0;
              await this.#stream(item);
              this.#shift();
              this.#done(1, true);
            }
          }
          this.#done(batch, false);
        } finally {
          ring.unlock(Word.WRITE_LOCK);
        }
        if (need > 0) await this.#waitForRoom(need, false);
      }
    } catch (error) {
      // Nothing above should throw; if it does, say so rather than spin.
      this.#pendingBytes = 0;
      getLogger().warning('queue flush failed, %d message(s) dropped: %s', this.pendingCount, String((error as Error)?.stack ?? error));
      ring.subPending(this.pendingCount);
      ring.giveBack(this.pendingCount);
      this.#pending = [];
      this.#first = 0;
      this.#written = this.#queued;
      this.#notifyWritten();
      this.#flushed();
    }
  }

  /**
   * While a flush runs, each put also writes what it can of the list, at
   * once: a flush that waits for room only resumes when the event loop turns,
   * and a producer putting in a loop of awaits (microtasks) may not let it
   * turn for a long time. Whole messages only; large ones are streamed by
   * the flush, which holds the lock meanwhile.
   */
  #drainNow(): void {
    const ring = this.#ring;
    while (this.pendingCount > 0 && !this.#abortOwed) {
      if (this.#pending[this.#first] instanceof Deferred) {
        this.#materialize();
        continue;
      }
      if (!ring.tryLock(Word.WRITE_LOCK)) return;
      let batch = 0;
      let stop = false;
      try {
        this.#locked();
        while (this.pendingCount > 0) {
          const item = this.#pending[this.#first]!;
          if (item instanceof Deferred) break;
          if (item.length + RECORD_HEADER > ring.maxRecord || !this.#room(recordSize(item.length))) {
            stop = true;
            break;
          }
          this.#write(RecordKind.WHOLE, item, 0, item.length, 0);
          this.#shift();
          batch++;
        }
        this.#done(batch, false);
      } finally {
        ring.unlock(Word.WRITE_LOCK);
      }
      if (stop) return;
    }
  }

  /** The write lock was taken over from a dead writer. */
  #repair(): void {
    const ring = this.#ring;
    if (Atomics.load(ring.words, Word.WRITER_IN_MESSAGE) !== 0) this.#abortOwed = true;
    ring.recoverDeadProducers();
  }

  /** `n` messages were written (and published already, if `published`). */
  #done(n: number, published: boolean): void {
    if (n === 0) return;
    if (!published) this.#publish(n, false);
    this.#ring.subPending(n);
    this.#written += n;
    this.#notifyWritten();
  }

  /** Encodes the object at the front of the list; drops it (as Python's feeder does) if that fails now. */
  #materialize(): void {
    const item = this.#pending[this.#first] as Deferred;
    try {
      const bytes = this.#encode(item.value);
      this.#pending[this.#first] = bytes;
      this.#pendingBytes += bytes.length;
    } catch (error) {
      getLogger().warning('queue: an object put on the queue can no longer be encoded and is dropped: %s', String((error as Error)?.message ?? error));
      process.emitWarning(`an object put on a queue was dropped: ${String((error as Error)?.message ?? error)}`, 'QueueWarning');
      this.#pending[this.#first] = EMPTY_MESSAGE;
      this.#shift();
      this.#ring.subPending(1);
      this.#ring.giveBack(1);
      this.#written++;
      this.#notifyWritten();
    }
  }

  #shift(): void {
    const item = this.#pending[this.#first];
    if (item instanceof Uint8Array && item !== EMPTY_MESSAGE) this.#pendingBytes -= item.length;
    this.#pending[this.#first++] = EMPTY_MESSAGE;
    if (this.#first === this.#pending.length) {
      this.#pending = [];
      this.#first = 0;
    } else if (this.#first >= 1024 && this.#first * 2 >= this.#pending.length) {
      this.#pending = this.#pending.slice(this.#first);
      this.#first = 0;
    }
  }

  #notifyWritten(): void {
    const waiters = this.#writtenWaiters;
    if (waiters.length === 0) return;
    let i = 0;
    while (i < waiters.length && waiters[i]!.seq <= this.#written) waiters[i++]!.resolve();
    if (i > 0) this.#writtenWaiters = waiters.slice(i);
  }

  /** Streams a message larger than one record as FIRST, MIDDLE…, LAST (write lock held throughout). */
  async #stream(item: Uint8Array): Promise<void> {
    for (let offset = 0; offset < item.length; ) {
      const next = this.#piece(item, offset);
      if (next < 0) await this.#waitForRoom(this.#pieceSize(item, offset), true);
      else offset = next;
    }
  }

  /** Bytes of payload of the piece of `item` that starts at `offset`. */
  #pieceLength(item: Uint8Array, offset: number): number {
    return Math.min(this.#ring.maxRecord - RECORD_HEADER - (offset === 0 ? FIRST_EXTRA : 0), item.length - offset);
  }

  /** Record size of the piece of `item` that starts at `offset`. */
  #pieceSize(item: Uint8Array, offset: number): number {
    return recordSize(this.#pieceLength(item, offset) + (offset === 0 ? FIRST_EXTRA : 0));
  }

  /**
   * Writes and publishes the piece of a large message that starts at
   * `offset`; returns where the next one starts, or -1 if there is no room.
   * WRITER_IN_MESSAGE is 1 from before the first piece is visible until the
   * last one is, so whoever takes the lock over from a dead writer knows
   * whether a message was left unfinished.
   */
  #piece(item: Uint8Array, offset: number): number {
    const words = this.#ring.words;
    const first = offset === 0;
    const n = this.#pieceLength(item, offset);
    const last = offset + n === item.length;
    if (!this.#room(this.#pieceSize(item, offset))) return -1;
    if (first) Atomics.store(words, Word.WRITER_IN_MESSAGE, 1);
    this.#write(first ? RecordKind.FIRST : last ? RecordKind.LAST : RecordKind.MIDDLE, item, offset, n, first ? item.length : -1);
    if (last) Atomics.store(words, Word.WRITER_IN_MESSAGE, 0);
    this.#publish(last ? 1 : 0, true);
    return offset + n;
  }

  /** Whether all pieces of a large message of `length` bytes fit in the free room now. */
  #fitsWhole(length: number): boolean {
    const ring = this.#ring;
    const perPiece = ring.maxRecord - RECORD_HEADER;
    const pieces = Math.ceil((length + FIRST_EXTRA) / perPiece);
    // Payload, headers and alignment of every piece, and one PAD at the end of the ring.
    const need = length + FIRST_EXTRA + pieces * (RECORD_HEADER + 8) + ring.maxRecord;
    if (need > ring.capacity) return false;
    this.#headCache = Atomics.load(ring.words, Word.HEAD);
    return ring.capacity - ((this.#tail - this.#headCache) | 0) >= need;
  }

  // ---- Ring access (write lock held) ---------------------------------------

  /**
   * Just took the write lock: read TAIL. If another writer moved it since
   * this one last wrote, the cached HEAD may be from any time ago (positions
   * wrap at 4 GiB), so read HEAD too; otherwise it is at most a ring behind.
   */
  #locked(): void {
    const tail = Atomics.load(this.#ring.words, Word.TAIL);
    if (tail !== this.#tail) {
      this.#headCache = Atomics.load(this.#ring.words, Word.HEAD);
      this.#tail = tail;
    }
  }

  /**
   * Makes room for a record of `size` bytes at `#tail`, padding to the end
   * of the ring if it would not fit before it. False when there is not room.
   */
  #room(size: number): boolean {
    const ring = this.#ring;
    const capacity = ring.capacity;
    const offset = this.#tail & ring.mask;
    const toEnd = capacity - offset;
    const need = size <= toEnd ? size : size + toEnd;
    let used = (this.#tail - this.#headCache) | 0;
    if (used < 0 || capacity - used < need) {
      this.#headCache = Atomics.load(ring.words, Word.HEAD);
      used = (this.#tail - this.#headCache) | 0;
      if (capacity - used < need) return false;
    }
    if (size > toEnd) {
      const w = (DATA_OFFSET + offset) >> 2;
      ring.words[w] = toEnd - RECORD_HEADER;
      ring.words[w + 1] = RecordKind.PAD;
      this.#tail = (this.#tail + toEnd) | 0;
    }
    return true;
  }

  /**
   * Writes a record at `#tail` (room made by `#room`): `n` bytes of `source`
   * from `start`; a FIRST record (`total >= 0`) carries the total size first.
   */
  #write(kind: RecordKind, source: Uint8Array | null, start: number, n: number, total: number): void {
    const ring = this.#ring;
    const at = DATA_OFFSET + (this.#tail & ring.mask);
    const w = at >> 2;
    const extra = kind === RecordKind.FIRST ? FIRST_EXTRA : 0;
    ring.words[w] = n + extra;
    ring.words[w + 1] = kind;
    if (extra) {
      ring.words[w + 2] = total % 0x100000000 | 0;
      ring.words[w + 3] = Math.floor(total / 0x100000000);
    }
    if (source !== null && n > 0) {
      ring.bytes.set(start === 0 && n === source.length ? source : source.subarray(start, start + n), at + RECORD_HEADER + extra);
    }
    this.#tail = (this.#tail + recordSize(n + extra)) | 0;
  }

  /** Makes what was written visible and wakes readers that sleep: up to `messages`, or all. */
  #publish(messages: number, wakeAll: boolean): void {
    const words = this.#ring.words;
    Atomics.store(words, Word.TAIL, this.#tail);
    // Write-lock holders only write it, and only qsize() reads it: no fence needed.
    if (messages > 0) words[Word.PUBLISHED] = (words[Word.PUBLISHED]! + messages) | 0;
    if (Atomics.load(words, Word.DATA_WAITERS) > 0) futexWake(words, Word.TAIL, wakeAll ? Infinity : messages);
  }

  /**
   * Sleeps until readers have freed room for a record of `size` (plus
   * padding) after the current tail. Readers wake writers once half of the
   * ring is free, so a writer refills it in one go rather than record by
   * record; a periodic re-check covers a reader that stops short of that.
   */
  async #waitForRoom(size: number, locked: boolean): Promise<void> {
    const ring = this.#ring;
    const words = ring.words;
    Atomics.add(words, Word.SPACE_WAITERS, 1);
    try {
      for (;;) {
        const head = Atomics.load(words, Word.HEAD);
        this.#headCache = head;
        const tail = locked ? this.#tail : Atomics.load(words, Word.TAIL);
        const toEnd = ring.capacity - (tail & ring.mask);
        const need = size <= toEnd ? size : size + toEnd;
        if (ring.capacity - ((tail - head) | 0) >= need) return;
        await this.#wait(words, Word.HEAD, head, 2 * LIVENESS_SLICE);
      }
    } finally {
      Atomics.sub(words, Word.SPACE_WAITERS, 1);
    }
  }
}
