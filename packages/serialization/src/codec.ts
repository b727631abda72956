/**
 * The codec interface every mpjs package accepts wherever it sends a value:
 * `Connection.send`, queues, pools, managers and `Process` arguments. The
 * default is MessagePack ({@link defaultCodec}); JSON and V8's structured clone
 * ship as alternatives, and a user's own object with these members works too.
 */

/** An OS handle travelling beside the bytes (the transport moves the fd). */
export interface HandleRecord {
  /** The file descriptor in the process that encoded (the sender) or decodes (the receiver). */
  fd: number;
  /** What the handle is, for the transport and for error messages, e.g. `'socket'`. */
  kind: string;
  /** Anything else the receiving side needs to rebuild the object. */
  meta?: unknown;
}

/** Encoding collects handles here; the encoded bytes refer to them by index. */
export interface EncodeContext {
  /** Filled by registered types while encoding, in order. */
  handles: HandleRecord[];
  /**
   * Set while encoding the process object for a child being started
   * (`Process.start()`). Secrets only a child may inherit (a manager proxy's
   * authkey, as Python sends it only while spawning) travel only then.
   */
  spawning?: boolean;
}

/** Decoding reads handles by index; their fds are valid in the receiving process. */
export interface DecodeContext {
  /** The handles that travelled with the message, in the order the sender collected them. */
  handles: HandleRecord[];
}

/** Turns values into bytes and back. */
export interface Codec {
  /** Short name, e.g. `'msgpack'`, `'json'`, `'v8'`. */
  readonly name: string;
  /** Encodes `value`; registered types may push OS handles onto `context.handles`. */
  encode(value: unknown, context?: EncodeContext): Uint8Array;
  /** Synchronous; throws a clear error if a referenced module is not loaded yet. */
  decode(bytes: Uint8Array, context?: DecodeContext): unknown;
  /** Imports any module that referenced functions/classes need, then decodes. */
  decodeAsync(bytes: Uint8Array, context?: DecodeContext): Promise<unknown>;
}

/** Whether `value` has the members of a {@link Codec} (for validating a user's `codec` option). */
export function isCodec(value: unknown): value is Codec {
  if (value === null || typeof value !== 'object') return false;
  const c = value as Partial<Codec>;
  return typeof c.name === 'string' && typeof c.encode === 'function' && typeof c.decode === 'function' && typeof c.decodeAsync === 'function';
}

/**
 * A frozen {@link Codec} from a synchronous encode/decode pair that needs no
 * module imports: `decodeAsync` is `decode` with its error as a rejection.
 */
export function plainCodec(name: string, encode: (value: unknown) => Uint8Array, decode: (bytes: Uint8Array) => unknown): Codec {
  return Object.freeze({
    name,
    encode,
    decode,
    decodeAsync: (bytes: Uint8Array): Promise<unknown> => {
      try {
        return Promise.resolve(decode(bytes));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    },
  });
}
