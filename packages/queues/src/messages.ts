/**
 * The records a queue's ring holds. Every record starts with an 8-byte
 * header, `[length: u32, kind: u32]`, followed by `length` bytes of payload,
 * padded to a multiple of 8. A record never wraps around the end of the ring:
 * a `PAD` record fills the tail end instead.
 *
 * A message that fits in one record (at most a quarter of the ring) is one
 * `WHOLE` record. A larger one streams through the ring as `FIRST` (whose
 * payload starts with the total size as a u32 pair), any number of `MIDDLE`
 * and one `LAST`, while its writer holds the write lock. A writer that dies
 * in the middle leaves an unfinished sequence; whoever recovers its lock
 * appends `ABORT`, and a reader drops what it assembled so far.
 */

/** Kinds of record (the second word of a record header). */
export const RecordKind = {
  /** A complete message. */
  WHOLE: 1,
  /** The first piece of a large message; payload = total size (lo u32, hi u32) + bytes. */
  FIRST: 2,
  /** A piece of a large message. */
  MIDDLE: 3,
  /** The last piece of a large message. */
  LAST: 4,
  /** Filler up to the end of the ring. */
  PAD: 5,
  /** The large message in progress will never be finished: drop it. */
  ABORT: 6,
} as const;

/** One of {@link RecordKind}. */
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/** Bytes of a record header. */
export const RECORD_HEADER = 8;

/** Extra payload bytes of a `FIRST` record: the total size of the message. */
export const FIRST_EXTRA = 8;

/** Size of a record with `length` bytes of payload: header plus payload rounded up to 8. */
export function recordSize(length: number): number {
  return RECORD_HEADER + ((length + 7) & ~7);
}

/** What kind of queue a ring belongs to (stored in its header). */
export const QueueKind = {
  QUEUE: 1,
  SIMPLE: 2,
  JOINABLE: 3,
} as const;

/** One of {@link QueueKind}. */
export type QueueKind = (typeof QueueKind)[keyof typeof QueueKind];
