/**
 * JSON as a codec, for users who want it: plain data only, with JSON's rules
 * (functions and `undefined` properties are dropped, Map/Set become `{}`,
 * bigints and cycles are refused). No handles can travel.
 */
import { plainCodec, type Codec } from './codec.js';
import { DecodeError, SerializationError } from './errors.js';

function encode(value: unknown): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new SerializationError(`JSON cannot encode this value: ${(error as Error).message}`, { cause: error });
  }
  if (text === undefined) throw new SerializationError(`JSON cannot encode a value of type ${typeof value}`);
  return Buffer.from(text, 'utf8');
}

function decode(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('decode() expects a Uint8Array or Buffer');
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new DecodeError(`invalid JSON message: ${(error as Error).message}`, { cause: error });
  }
}

/** JSON (UTF-8) through the {@link Codec} interface. */
export const jsonCodec: Codec = plainCodec('json', encode, decode);
