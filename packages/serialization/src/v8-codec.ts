/**
 * V8's structured clone (`v8.serialize`/`v8.deserialize`) as a codec: Map,
 * Set, Date, RegExp, typed arrays, cycles and some errors, but no functions,
 * no classes (instances arrive as plain objects) and no handles.
 */
import { deserialize, serialize } from 'node:v8';
import { plainCodec, type Codec } from './codec.js';
import { DecodeError, SerializationError } from './errors.js';

function encode(value: unknown): Uint8Array {
  try {
    return serialize(value);
  } catch (error) {
    throw new SerializationError(`v8.serialize cannot encode this value: ${(error as Error).message}`, { cause: error });
  }
}

function decode(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('decode() expects a Uint8Array or Buffer');
  try {
    return deserialize(bytes) as unknown;
  } catch (error) {
    throw new DecodeError(`invalid V8 serialization: ${(error as Error).message}`, { cause: error });
  }
}

/** `v8.serialize`/`v8.deserialize` through the {@link Codec} interface. */
export const v8Codec: Codec = plainCodec('v8', encode, decode);
