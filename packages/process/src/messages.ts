/**
 * The control channel between a parent and the child it starts (fd 3 of the
 * child, a Unix socket pair). Every frame is a 4-byte big-endian length, a
 * JSON header, and optional payload bytes whose length the header gives. The
 * process object itself is the payload, encoded by the codec of
 * `@mpjs/serialization`.
 */
import { readFileSync } from 'node:fs';
import { defaultCodec } from '@mpjs/serialization';
import type { StartMethod } from './popen.js';

/** File descriptor of the control channel in the child. */
export const CONTROL_FD = 3;
/** First file descriptor of the handles inherited in the child's stdio table. */
export const FIRST_HANDLE_FD = 4;

/** `O_NONBLOCK` on Linux. */
const O_NONBLOCK = 0o4000;

/**
 * Whether stdout and stderr are non-blocking (`'1,0'`: stdout is, stderr is
 * not), from `/proc/self/fdinfo`, or null if that cannot be read. Node puts
 * back at exit the `O_NONBLOCK` flag its stdout and stderr had when it started
 * (opening a pipe as a stream sets it, for every process sharing the pipe). A
 * child's are its parent's when it is started, so the parent reads them for it
 * and passes them on the command line (a loader imported before the bootstrap
 * may have changed them by the time it runs).
 */
export function stdioFlags(): string | null {
  try {
    return [1, 2]
      .map((fd) => {
        const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))![1]!;
        return parseInt(flags, 8) & O_NONBLOCK ? '1' : '0';
      })
      .join(',');
  } catch {
    return null;
  }
}

/** Kinds of control messages. */
export const MessageKind = {
  /** parent → child: here is the process to become. */
  START: 'start',
  /** warm child → parent: preload done, waiting for a START. */
  READY: 'ready',
  /** parent → warm child, first: a START to go through without becoming it (see `bootstrap.ts`). */
  REHEARSAL: 'rehearsal',
} as const;

/** An OS handle's description without its fd (the fd travels by inheritance or SCM_RIGHTS). */
export interface HandleDescription {
  kind: string;
  meta?: unknown;
}

/** The parent tells the child who it is. */
export interface StartMessage {
  kind: typeof MessageKind.START;
  name: string;
  identity: number[];
  authkey: Uint8Array;
  daemon: boolean;
  parentPid: number;
  parentName: string;
  startMethod: StartMethod;
  logging: { enabled: boolean; level: number };
  handles: HandleDescription[];
  /** How the handles arrive: in the stdio table from fd 4 on, or over the fd channel. */
  handleTransport: 'stdio' | 'scm-rights';
  /** Ask the kernel to kill the child when its parent dies (only valid when started from the main thread). */
  deathSignal: boolean;
  /** A warm interpreter adopts the parent's current directory and environment. */
  cwd?: string;
  /** How the parent's environment differs from the one the warm interpreter was started with. */
  envChanges?: EnvironmentChanges;
}

/** Variables set (added or changed) and removed since an interpreter was started. */
export interface EnvironmentChanges {
  set: Array<[name: string, value: string]>;
  unset: string[];
}

/** A warm interpreter is ready. */
export interface ReadyMessage {
  kind: typeof MessageKind.READY;
  pid: number;
}

/** A START message to rehearse with; its payload refers to a function of a built-in module. */
export interface RehearsalMessage extends Omit<StartMessage, 'kind'> {
  kind: typeof MessageKind.REHEARSAL;
}

/** Any control message. */
export type ControlMessage = StartMessage | ReadyMessage | RehearsalMessage;

// The header is JSON, which every child parses with no module to load (`node:v8`
// would cost each one about a millisecond). What JSON cannot carry is marked:
// bytes (the authkey) travel as base64, a handle's `meta` (any value the codec
// carries) as the codec's bytes.
const BYTES = '$bytes';
const CODEC = '$codec';

function toJson(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // `this[key]` is the value before its toJSON() (a Buffer's would be an array of numbers).
  const original = this[key];
  if (key === 'meta') return { [CODEC]: Buffer.from(defaultCodec.encode(original)).toString('base64') };
  if (original instanceof Uint8Array) {
    return { [BYTES]: Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64') };
  }
  return value;
}

function fromJson(key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const marked = value as Record<string, unknown>;
  if (typeof marked[BYTES] === 'string') return Buffer.from(marked[BYTES], 'base64');
  if (key === 'meta' && typeof marked[CODEC] === 'string') return defaultCodec.decode(Buffer.from(marked[CODEC], 'base64'));
  return value;
}

/** Builds one frame. */
export function encodeFrame(message: ControlMessage, payload?: Uint8Array): Buffer {
  const header = Buffer.from(JSON.stringify({ ...message, payloadLength: payload?.byteLength ?? 0 }, toJson));
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(header.length, 0);
  return payload ? Buffer.concat([prefix, header, payload]) : Buffer.concat([prefix, header]);
}

/** A decoded frame. */
export interface Frame {
  message: ControlMessage;
  payload: Buffer;
}

/**
 * Reassembles frames from a byte stream. Chunks are held as they come and
 * joined only once enough bytes are there for the next step (the length, the
 * header, the whole frame): a frame that arrives in many chunks (a large
 * process object) is copied once, not once per chunk.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #held = 0;
  /** Bytes needed before the next frame can get further. */
  #needed = 4;
  /** The header of the frame being reassembled, once it has arrived. */
  #header: (ControlMessage & { payloadLength: number }) | null = null;

  /** Adds bytes; returns every frame now complete. */
  push(chunk: Buffer): Frame[] {
    this.#chunks.push(chunk);
    this.#held += chunk.length;
    const frames: Frame[] = [];
    while (this.#held >= this.#needed) {
      const buffer = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#held);
      this.#chunks = [buffer];
      const headerLength = buffer.readUInt32BE(0);
      if (this.#header === null) {
        if (buffer.length < 4 + headerLength) {
          this.#needed = 4 + headerLength;
          continue;
        }
        this.#header = JSON.parse(buffer.toString('utf8', 4, 4 + headerLength), fromJson) as ControlMessage & { payloadLength: number };
      }
      const end = 4 + headerLength + this.#header.payloadLength;
      if (buffer.length < end) {
        this.#needed = end;
        continue;
      }
      const { payloadLength: _ignored, ...message } = this.#header;
      frames.push({ message: message as ControlMessage, payload: buffer.subarray(4 + headerLength, end) });
      const rest = buffer.subarray(end);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#held = rest.length;
      this.#header = null;
      this.#needed = 4;
    }
    return frames;
  }
}
