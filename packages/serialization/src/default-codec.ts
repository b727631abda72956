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

/** Modules `bytes` refers to that are not loaded yet, imported; undefined when there are none. */
function importsOf(bytes: Uint8Array, context: DecodeContext | undefined): Promise<unknown> | undefined {
  // Find the modules first, so nothing (a registered type holding a handle) is built twice.
  const scan = new Reader(bytes, context);
  scan.scan();
  if (scan.required === undefined && scan.optional === undefined) return undefined;
  return Promise.all([
    ...[...(scan.required ?? [])].map((module) => importModule(module)),
    // An error's own class is a nicety: without its module it arrives as its nearest base.
    ...[...(scan.optional ?? [])].map((module) => importModule(module).catch(() => undefined)),
  ]);
}

function decodeAsync(bytes: Uint8Array, context?: DecodeContext): Promise<unknown> {
  try {
    return Promise.resolve(decodeWhenReady(defaultCodec, bytes, context));
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

/** The codec every mpjs package uses unless told otherwise: MessagePack, msgpack-compatible on the wire. */
export const defaultCodec: Codec = Object.freeze({ name: 'msgpack', encode, decode, decodeAsync });

/**
 * Decodes `bytes` with `codec` as soon as it can: with the default codec, at
 * once when every module the message refers to is loaded (the usual case),
 * else once they are imported, as `codec.decodeAsync` does. Returns the value,
 * or a promise of it; for a receiver that hands the result on through a
 * promise anyway (`promise.then(...)`), so a message in hand costs no promise
 * of its own. Throws (or rejects) as `decode` does.
 */
export function decodeWhenReady(codec: Codec, bytes: Uint8Array, context?: DecodeContext): unknown {
  if (codec !== defaultCodec) return codec.decodeAsync(bytes, context);
  const imports = importsOf(bytes, context);
  return imports === undefined ? decode(bytes, context) : imports.then(() => decode(bytes, context));
}
