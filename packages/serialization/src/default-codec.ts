/**
 * The default codec: MessagePack with the extensions of `wire.ts`. Plain data
 * is readable by any MessagePack implementation; errors, Map, Set, Date,
 * typed arrays, bigints, functions and classes by reference, registered types,
 * shared references and cycles all round-trip exactly.
 */
import type { Codec, DecodeContext, EncodeContext } from './codec.js';
import { Reader } from './reader.js';
import { importModule } from './references.js';
import { Writer } from './writer.js';

function encode(value: unknown, context?: EncodeContext): Uint8Array {
  return new Writer(context).encode(value);
}

function decode(bytes: Uint8Array, context?: DecodeContext): unknown {
  return new Reader(bytes, context).decode();
}

async function decodeAsync(bytes: Uint8Array, context?: DecodeContext): Promise<unknown> {
  // Find the modules first, so nothing (a registered type holding a handle) is built twice.
  const scan = new Reader(bytes, context);
  scan.scan();
  if (scan.required.size > 0 || scan.optional.size > 0) {
    await Promise.all([
      ...[...scan.required].map((module) => importModule(module)),
      // An error's own class is a nicety: without its module it arrives as its nearest base.
      ...[...scan.optional].map((module) => importModule(module).catch(() => undefined)),
    ]);
  }
  return decode(bytes, context);
}

/** The codec every mpjs package uses unless told otherwise: MessagePack, msgpack-compatible on the wire. */
export const defaultCodec: Codec = Object.freeze({ name: 'msgpack', encode, decode, decodeAsync });
