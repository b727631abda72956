/**
 * CPython's message framing (`multiprocessing.connection`, POSIX): every
 * message is a big-endian signed 32-bit length followed by the payload; a
 * payload longer than 0x7fffffff bytes is announced by `ff ff ff ff` and an
 * unsigned 64-bit length instead. The reader accepts the 12-byte form for any
 * length, as CPython does, and treats any other negative length as an error.
 */
import { ProtocolError } from '@mpjs/util';

/** Largest payload that fits the short (4-byte) header. */
export const SHORT_HEADER_MAX = 0x7fff_ffff;

/** Size of the short header. */
export const SHORT_HEADER_SIZE = 4;

/** Size of the long header: `ff ff ff ff` + uint64. */
export const LONG_HEADER_SIZE = 12;

/**
 * Default upper bound on one incoming message (1 GiB). A header announcing more
 * is refused before anything is allocated; raise it per connection with the
 * `maxMessageSize` option.
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 2 ** 30;

/** Size of the header that announces a payload of `length` bytes. */
export function headerSize(length: number): number {
  return length <= SHORT_HEADER_MAX ? SHORT_HEADER_SIZE : LONG_HEADER_SIZE;
}

/**
 * Writes the header for a payload of `length` bytes into `target` at `offset`
 * and returns the number of header bytes written (4 or 12).
 */
export function writeHeader(target: Uint8Array, offset: number, length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`message length must be a non-negative safe integer, got ${length}`);
  }
  const view = new DataView(target.buffer, target.byteOffset + offset, target.byteLength - offset);
  if (length <= SHORT_HEADER_MAX) {
    view.setInt32(0, length);
    return SHORT_HEADER_SIZE;
  }
  view.setInt32(0, -1);
  view.setBigUint64(4, BigInt(length));
  return LONG_HEADER_SIZE;
}

/** The header for a payload of `length` bytes, as a new buffer. */
export function encodeHeader(length: number): Buffer {
  const header = Buffer.allocUnsafe(headerSize(length));
  writeHeader(header, 0, length);
  return header;
}

/** What {@link decodeHeader} found at the start of a buffer. */
export type HeaderResult =
  /** More bytes are needed: `needed` is the total header size known so far (4 or 12). */
  | { complete: false; needed: number }
  /** A complete header of `size` bytes announcing `length` payload bytes. */
  | { complete: true; size: number; length: number };

/**
 * Decodes a frame header from the start of `bytes` (which may hold only part
 * of it). Throws {@link ProtocolError} for a negative length other than the
 * `-1` escape, or for a 64-bit length beyond what JavaScript can count exactly.
 */
export function decodeHeader(bytes: Uint8Array): HeaderResult {
  if (bytes.byteLength < SHORT_HEADER_SIZE) return { complete: false, needed: SHORT_HEADER_SIZE };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const short = view.getInt32(0);
  if (short >= 0) return { complete: true, size: SHORT_HEADER_SIZE, length: short };
  if (short !== -1) {
    throw new ProtocolError(
      `bad message length: the frame header ${hex(bytes.subarray(0, 4))} is negative; ` +
        'the peer is not speaking the multiprocessing.connection protocol or the stream is out of sync',
    );
  }
  if (bytes.byteLength < LONG_HEADER_SIZE) return { complete: false, needed: LONG_HEADER_SIZE };
  const long = view.getBigUint64(4);
  if (long > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ProtocolError(`bad message length: the frame announces ${long} bytes, more than can be received`);
  }
  return { complete: true, size: LONG_HEADER_SIZE, length: Number(long) };
}

/** Error for a header whose length exceeds the receiver's limit. */
export function tooLargeError(length: number, limit: number): ProtocolError {
  return new ProtocolError(
    `bad message length: the peer announced a message of ${length} bytes, more than this connection's ` +
      `limit of ${limit} bytes; raise the maxMessageSize option if such messages are expected`,
  );
}

/** Lower-case hex of some bytes, for error messages. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
