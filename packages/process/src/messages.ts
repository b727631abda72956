/**
 * The control channel between a parent and the child it starts (fd 3 of the
 * child, a Unix socket pair). Every frame is a 4-byte big-endian length, a
 * header serialized with `node:v8`, and optional payload bytes whose length the
 * header gives. The process object itself is the payload, encoded by the codec
 * of `@mpjs/serialization`.
 */
import { deserialize, serialize } from 'node:v8';
import type { StartMethod } from './popen.js';

/** File descriptor of the control channel in the child. */
export const CONTROL_FD = 3;
/** First file descriptor of the handles inherited in the child's stdio table. */
export const FIRST_HANDLE_FD = 4;

/** Kinds of control messages. */
export const MessageKind = {
  /** parent → child: here is the process to become. */
  START: 'start',
  /** warm child → parent: preload done, waiting for a START. */
  READY: 'ready',
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
  env?: Record<string, string>;
}

/** A warm interpreter is ready. */
export interface ReadyMessage {
  kind: typeof MessageKind.READY;
  pid: number;
}

/** Any control message. */
export type ControlMessage = StartMessage | ReadyMessage;

/** Builds one frame. */
export function encodeFrame(message: ControlMessage, payload?: Uint8Array): Buffer {
  const header = serialize({ ...message, payloadLength: payload?.byteLength ?? 0 });
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(header.length, 0);
  return payload ? Buffer.concat([prefix, header, payload]) : Buffer.concat([prefix, header]);
}

/** A decoded frame. */
export interface Frame {
  message: ControlMessage;
  payload: Buffer;
}

/** Reassembles frames from a byte stream. */
export class FrameReader {
  #buffer: Buffer = Buffer.alloc(0);

  /** Adds bytes; returns every frame now complete. */
  push(chunk: Buffer): Frame[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const frames: Frame[] = [];
    for (;;) {
      if (this.#buffer.length < 4) break;
      const headerLength = this.#buffer.readUInt32BE(0);
      if (this.#buffer.length < 4 + headerLength) break;
      const header = deserialize(this.#buffer.subarray(4, 4 + headerLength)) as ControlMessage & { payloadLength: number };
      const end = 4 + headerLength + header.payloadLength;
      if (this.#buffer.length < end) break;
      const payload = this.#buffer.subarray(4 + headerLength, end);
      const { payloadLength: _ignored, ...message } = header;
      frames.push({ message: message as ControlMessage, payload });
      this.#buffer = this.#buffer.subarray(end);
    }
    return frames;
  }
}
