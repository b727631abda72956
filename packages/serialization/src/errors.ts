/**
 * The two error classes of the codec: one for values that cannot be encoded,
 * one for bytes that cannot be decoded. Like the `@mpjs/util` classes each has
 * a fixed `name` on its prototype and a stable `code`.
 */
import type { MpErrorOptions } from '@mpjs/util';

/** Options of {@link SerializationError}. */
export interface SerializationErrorOptions extends MpErrorOptions {
  /** Where in the value the refused part sits, outermost first (`['args', 0, 'fn']`). */
  path?: ReadonlyArray<string | number>;
}

/**
 * Thrown by `encode` for a value the codec refuses: a closure, a function that
 * is not exported, a symbol, an instance of a class no other process could
 * rebuild. The message says what was refused and how to fix it.
 */
export class SerializationError extends Error {
  /** Stable machine-readable code. */
  readonly code: string = 'ERR_MP_SERIALIZATION';
  /** Where in the encoded value the refused part sits, outermost first; empty at the top. */
  readonly path: Array<string | number>;
  /** The message without the path suffix. */
  readonly reason: string;
  constructor(message?: string, options?: SerializationErrorOptions) {
    super(message, options);
    this.reason = message ?? '';
    this.path = options?.path ? [...options.path] : [];
  }
}

/** Options of {@link DecodeError}. */
export interface DecodeErrorOptions extends MpErrorOptions {
  /** Byte offset in the message where decoding failed, when known. */
  offset?: number;
  /** The module that must be imported before this message can be decoded synchronously. */
  module?: string;
}

/**
 * Thrown by `decode` for bytes that are not a valid message: truncated,
 * corrupted, of an unknown extension type, or claiming absurd lengths. Also
 * thrown by the synchronous `decode` when a message refers to a module that
 * is not loaded yet (`module` is then set; `decodeAsync` imports it).
 */
export class DecodeError extends Error {
  /** Stable machine-readable code. */
  readonly code: string = 'ERR_MP_DECODE';
  /** Byte offset in the message where decoding failed, when known. */
  readonly offset: number | undefined;
  /** Set when the message refers to a module that is not loaded in this process. */
  readonly module: string | undefined;
  constructor(message?: string, options?: DecodeErrorOptions) {
    super(message, options);
    this.offset = options?.offset;
    this.module = options?.module;
  }
}

for (const [name, cls] of Object.entries({ SerializationError, DecodeError })) {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true, enumerable: false });
}

/** Renders a value path for messages: `args[0].fn`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = 'value';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}
