/**
 * V8's structured clone (`v8.serialize`/`v8.deserialize`) as a codec: Map,
 * Set, Date, RegExp, typed arrays, cycles and some errors, but no functions,
 * no classes (instances arrive as plain objects) and no handles.
 */
import { lazyBuiltin } from '@mpjs/util';
import { plainCodec, type Codec } from './codec.js';
import { DecodeError, SerializationError } from './errors.js';

/** `node:v8` on first use: it is not in Node's start-up snapshot, and loading it costs every process ~1 ms. */
const v8Module = lazyBuiltin<typeof import('node:v8')>('node:v8');

function encode(value: unknown): Uint8Array {
  try {
    return v8Module().serialize(value);
  } catch (error) {
    throw new SerializationError(`v8.serialize cannot encode this value: ${(error as Error).message}`, { cause: error });
  }
}

function decode(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('decode() expects a Uint8Array or Buffer');
  try {
    return v8Module().deserialize(bytes) as unknown;
  } catch (error) {
    throw new DecodeError(`invalid V8 serialization: ${(error as Error).message}`, { cause: error });
  }
}

/** `v8.serialize`/`v8.deserialize` through the {@link Codec} interface. */
export const v8Codec: Codec = plainCodec('v8', encode, decode);
