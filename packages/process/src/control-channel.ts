/**
 * A child's end of its control socket (fd 3): the frames its parent sends,
 * and whether the parent is still there.
 *
 * It reads with system calls on an `FdWatcher`, not through a Node socket: a
 * child that never needs `node:net` does not load it (with the streams under
 * it, about 2 ms of every start), and a frame the parent sent before the
 * child got here (a spawned child's START) is read at once, without a turn
 * of the event loop.
 */
import { writeSync } from 'node:fs';
import { FdWatcher, READABLE, readPolling } from '@mpjs/native';
import { FrameReader, type ControlMessage, type Frame } from './messages.js';
import { closeQuietly } from './native.js';

/** Control frames are small; a larger one arrives in several reads. */
const READ_SIZE = 64 * 1024;

export class ControlChannel {
  readonly #fd: number;
  readonly #watcher: FdWatcher;
  readonly #reader = new FrameReader();
  readonly #queue: Frame[] = [];
  #chunk: Buffer | null = null;
  #waiting: { kind: ControlMessage['kind']; resolve: (frame: Frame) => void } | null = null;
  #ended = false;
  #resolveEnded!: () => void;

  /** Resolves once the parent's end is closed (the parent has exited or died). */
  readonly ended: Promise<void> = new Promise((resolve) => {
    this.#resolveEnded = resolve;
  });

  constructor(fd: number) {
    this.#fd = fd;
    // Any event (readable, hang-up, an error) is answered by reading: the read says what happened.
    this.#watcher = new FdWatcher(fd, () => this.#readAvailable());
    this.#watcher.set(READABLE);
  }

  /** Whether a frame of this kind has arrived and not been taken. */
  has(kind: ControlMessage['kind']): boolean {
    this.#readAvailable();
    return this.#queue.some((frame) => frame.message.kind === kind);
  }

  /** The next frame of this kind (frames of other kinds before it are dropped); one caller at a time. */
  next(kind: ControlMessage['kind']): Promise<Frame> {
    return new Promise((resolve) => {
      this.#waiting = { kind, resolve };
      this.#readAvailable();
      this.#deliver();
    });
  }

  /** Sends a frame to the parent (a few bytes: the socket's buffer always has room). */
  write(frame: Uint8Array): void {
    if (this.#ended) return;
    try {
      for (let sent = 0; sent < frame.byteLength; ) sent += writeSync(this.#fd, frame, sent);
    } catch {
      // The parent is gone: the read side reports it.
    }
  }

  /** Whether watching for the parent keeps the event loop alive (as `socket.ref()`/`unref()`). */
  ref(on: boolean): void {
    this.#watcher.ref(on);
  }

  #readAvailable(): void {
    while (!this.#ended) {
      const chunk = (this.#chunk ??= Buffer.allocUnsafe(READ_SIZE));
      let n: number | null;
      try {
        n = readPolling(this.#fd, chunk, 0);
      } catch {
        n = 0; // a reset or a closed descriptor: the parent is gone all the same
      }
      if (n === null) break;
      if (n === 0) {
        this.#end();
        break;
      }
      // The reader keeps slices of what it is given: hand it bytes of its own.
      this.#chunk = null;
      this.#queue.push(...this.#reader.push(chunk.subarray(0, n)));
    }
    this.#deliver();
  }

  #deliver(): void {
    const waiting = this.#waiting;
    if (!waiting) return;
    while (this.#queue.length > 0) {
      const frame = this.#queue.shift()!;
      if (frame.message.kind !== waiting.kind) continue;
      this.#waiting = null;
      waiting.resolve(frame);
      return;
    }
  }

  #end(): void {
    this.#ended = true;
    this.#watcher.close();
    closeQuietly(this.#fd);
    this.#resolveEnded();
  }
}
