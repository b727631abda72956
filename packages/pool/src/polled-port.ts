/**
 * The receiving side of a `MessagePort` between a `ThreadPool` and one of its
 * threads. A message posted to a thread that sleeps in its event loop costs
 * a wake-up of tens of microseconds (more than the task), so a receiver with
 * nothing to read first polls its port for a moment (`receiveMessageOnPort`),
 * as connections do (see `Connection.recv`), then waits for the 'message'
 * event.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { schedYield } from '@mpjs/native';
import { PollBackoff, PollGroup, type PollOutcome } from '@mpjs/util';

interface Reader {
  resolve(message: unknown): void;
  reject(error: unknown): void;
}

/**
 * An encoded message as `postMessage` arguments: its bytes in an ArrayBuffer
 * of their own, transferred. The codec's bytes are a view into a buffer
 * shared by consecutive encodes (64 KiB or more), and a view posted as it is
 * is cloned with all of that buffer.
 */
export function transferable(bytes: Uint8Array): [Uint8Array, ArrayBuffer[]] {
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : Uint8Array.prototype.slice.call(bytes);
  return [own, [own.buffer as ArrayBuffer]];
}

export class PolledPort {
  readonly #port: MessagePort;
  /** Whether the port keeps the event loop alive only while a receiver waits. */
  readonly #refWhileWaiting: boolean;
  readonly #inbox: unknown[] = [];
  #reader: Reader | undefined;
  #ended: Error | undefined;
  readonly #backoff = new PollBackoff();

  constructor(port: MessagePort, options: { refWhileWaiting: boolean }) {
    this.#port = port;
    this.#refWhileWaiting = options.refWhileWaiting;
    port.on('message', (message: unknown) => this.#deliver(message));
    if (this.#refWhileWaiting) port.unref();
  }

  /** Whether a receiver is waiting. */
  get waiting(): boolean {
    return this.#reader !== undefined;
  }

  post(message: unknown, transfer?: ArrayBuffer[]): void {
    this.#port.postMessage(message, transfer);
  }

  /** The next message; rejects with the error given to `end()` once nothing is left. */
  recv(): Promise<unknown> {
    if (this.#inbox.length > 0) return Promise.resolve(this.#inbox.shift());
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      this.#reader = { resolve, reject };
      if (this.#refWhileWaiting) this.#port.ref();
      PolledPort.#polls.add(this);
    });
  }

  /** The other side is gone: a waiting receiver, and later ones, reject with `error`. */
  end(error: Error): void {
    this.#ended ??= error;
    const reader = this.#take();
    reader?.reject(this.#ended);
  }

  close(): void {
    PolledPort.#polls.delete(this);
    this.#port.close();
  }

  #take(): Reader | undefined {
    const reader = this.#reader;
    this.#reader = undefined;
    if (reader && this.#refWhileWaiting) this.#port.unref();
    return reader;
  }

  #deliver(message: unknown): void {
    const reader = this.#take();
    if (reader) reader.resolve(message);
    else this.#inbox.push(message);
  }

  /** Ports of this thread with a receiver waiting, polled together once the current code has run. */
  static readonly #polls = new PollGroup<PolledPort>({
    poll: (port) => port.#pollOnce(),
    backoff: (port) => port.#backoff,
    yieldCpu: schedYield,
  });

  #pollOnce(): PollOutcome {
    if (this.#reader === undefined) return 'leave';
    const received = receiveMessageOnPort(this.#port);
    if (received === undefined) return 'nothing';
    this.#deliver(received.message);
    return 'delivered';
  }
}
