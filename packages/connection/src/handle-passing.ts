/**
 * How a message that carries OS handles travels between two mpjs processes.
 *
 * The data socket of a connection is read by libuv with plain `read()`, which
 * would silently drop `SCM_RIGHTS` descriptors, so descriptors never travel on
 * it. Instead each end made by `Pipe()` has a second socket, the *fd channel*
 * (a socketpair created with the data socketpair): `send()` first passes the
 * descriptors there with an 8-byte token, then writes an ordinary CPython frame
 * whose payload is an *envelope*:
 *
 * ```
 * c1 6d 70 68        magic; 0xc1 is never the first byte of MessagePack, JSON or V8 data
 * 8 bytes            token, matching the fd-channel message
 * uint32 BE          length M of the handle descriptions
 * M bytes            [{ kind, meta }, …] encoded with defaultCodec, one per descriptor
 * rest               the codec's bytes of the object, whose handles refer to indexes
 * ```
 *
 * Plain messages are untouched CPython frames, so a connection stays
 * byte-compatible with Python for `sendBytes`/`recvBytes`; only `recv()` on an
 * mpjs peer interprets envelopes.
 */
import { closeFd, recvFds, sendFds } from '@mpjs/native';
import { ProtocolError, randomBytes, ValueError } from '@mpjs/util';
import { defaultCodec, type HandleRecord } from '@mpjs/serialization';

const MAGIC = Buffer.from([0xc1, 0x6d, 0x70, 0x68]);
const TOKEN_SIZE = 8;
const PREFIX_SIZE = MAGIC.length + TOKEN_SIZE + 4;
/** Linux's SCM_MAX_FD: descriptors in one `SCM_RIGHTS` message. */
export const MAX_HANDLES_PER_MESSAGE = 253;
/** How long `recv()` waits for the descriptors of an envelope that has already arrived. */
const FD_TIMEOUT_MS = 10_000;

/** Whether a received payload is an envelope with handles. */
export function isEnvelope(message: Uint8Array): boolean {
  return (
    message.byteLength >= PREFIX_SIZE &&
    message[0] === MAGIC[0] &&
    message[1] === MAGIC[1] &&
    message[2] === MAGIC[2] &&
    message[3] === MAGIC[3]
  );
}

/** Wraps an encoded object and the descriptions of its handles. */
export function sealEnvelope(handles: readonly HandleRecord[], body: Uint8Array): { envelope: Buffer; token: Buffer } {
  if (handles.length > MAX_HANDLES_PER_MESSAGE) {
    throw new ValueError(
      `a message can carry at most ${MAX_HANDLES_PER_MESSAGE} OS handles, this one has ${handles.length}; send them in several messages`,
    );
  }
  const token = randomBytes(TOKEN_SIZE);
  const descriptions = defaultCodec.encode(handles.map((h) => ({ kind: h.kind, meta: h.meta })));
  const envelope = Buffer.allocUnsafe(PREFIX_SIZE + descriptions.byteLength + body.byteLength);
  MAGIC.copy(envelope, 0);
  token.copy(envelope, MAGIC.length);
  envelope.writeUInt32BE(descriptions.byteLength, MAGIC.length + TOKEN_SIZE);
  envelope.set(descriptions, PREFIX_SIZE);
  envelope.set(body, PREFIX_SIZE + descriptions.byteLength);
  return { envelope, token };
}

/** Splits an envelope into its token, handle descriptions and body. */
export function openEnvelope(envelope: Buffer): {
  token: Buffer;
  handles: Array<Omit<HandleRecord, 'fd'>>;
  body: Buffer;
} {
  const token = envelope.subarray(MAGIC.length, MAGIC.length + TOKEN_SIZE);
  const length = envelope.readUInt32BE(MAGIC.length + TOKEN_SIZE);
  if (PREFIX_SIZE + length > envelope.byteLength) {
    throw new ProtocolError('malformed handle envelope: its descriptions run past the end of the message');
  }
  const decoded = defaultCodec.decode(envelope.subarray(PREFIX_SIZE, PREFIX_SIZE + length));
  if (!Array.isArray(decoded) || decoded.some((d) => typeof d !== 'object' || d === null || typeof d.kind !== 'string')) {
    throw new ProtocolError('malformed handle envelope: the handle descriptions are not a list of { kind, meta }');
  }
  const handles = (decoded as Array<{ kind: string; meta?: unknown }>).map((d) =>
    d.meta === undefined ? { kind: d.kind } : { kind: d.kind, meta: d.meta },
  );
  return { token, handles, body: envelope.subarray(PREFIX_SIZE + length) };
}

/** One end of the side channel that carries descriptors. */
export class FdChannel {
  readonly fd: number;
  /** Descriptors that arrived for another envelope than the one being read, by token. */
  readonly #stash = new Map<string, number[]>();
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Aborts the receive in progress, so the descriptor is not closed under a watcher. */
  #inflight: AbortController | undefined;

  constructor(fd: number) {
    if (!Number.isInteger(fd) || fd < 0) throw new ValueError(`invalid fd channel descriptor: ${String(fd)}`);
    this.fd = fd;
  }

  /** Passes `fds` (duplicated by the kernel; the caller keeps its own) with `token`. */
  send(fds: number[], token: Buffer): void {
    if (this.#closed) throw new ProtocolError('handle is closed: the fd channel of this connection was closed');
    try {
      sendFds(this.fd, fds, token);
    } catch (error) {
      throw new ProtocolError(`cannot pass OS handles to the other end: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Receives the `count` descriptors sent with `token`. */
  receive(token: Buffer, count: number): Promise<number[]> {
    const next = this.#chain.then(() => this.#receive(token.toString('hex'), count));
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async #receive(key: string, count: number): Promise<number[]> {
    for (;;) {
      const stashed = this.#stash.get(key);
      if (stashed) {
        this.#stash.delete(key);
        return this.#check(stashed, count);
      }
      if (this.#closed) throw new ProtocolError('handle is closed: the fd channel of this connection was closed');
      let received;
      const controller = new AbortController();
      this.#inflight = controller;
      try {
        received = await recvFds(this.fd, {
          maxFds: MAX_HANDLES_PER_MESSAGE,
          maxBytes: TOKEN_SIZE,
          timeout: FD_TIMEOUT_MS,
          signal: controller.signal,
        });
      } catch (error) {
        if (this.#closed) throw new ProtocolError('handle is closed: the connection was closed while receiving OS handles');
        throw new ProtocolError(
          `the OS handles announced by a message did not arrive on the fd channel: ${(error as Error).message}`,
          { cause: error },
        );
      } finally {
        this.#inflight = undefined;
      }
      if (received.data.byteLength !== TOKEN_SIZE) {
        for (const fd of received.fds) closeFd(fd);
        throw new ProtocolError(
          received.data.byteLength === 0
            ? 'the fd channel was closed before the OS handles of a message arrived'
            : `malformed fd channel message of ${received.data.byteLength} bytes`,
        );
      }
      const got = received.data.toString('hex');
      if (got === key) return this.#check(received.fds, count);
      this.#stash.set(got, received.fds);
    }
  }

  #check(fds: number[], count: number): number[] {
    if (fds.length !== count) {
      for (const fd of fds) closeFd(fd);
      throw new ProtocolError(`expected ${count} OS handles with the message, received ${fds.length}`);
    }
    return fds;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inflight?.abort();
    for (const fds of this.#stash.values()) for (const fd of fds) closeFd(fd);
    this.#stash.clear();
    closeFd(this.fd);
  }
}
