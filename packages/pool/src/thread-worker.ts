/**
 * Entry of a `ThreadPool` worker thread: the same task loop as a pool
 * process, over the thread's message port.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { defaultCodec } from '@mpjs/serialization';
import { EOFError } from '@mpjs/util';
import type { TaskChannel } from './channel.js';
import { PolledPort, transferable } from './polled-port.js';
import { poolWorker, type TaskFunction } from './worker.js';

/** What the pool passes to a worker thread (encoded, so functions travel by reference). */
export interface ThreadWorkerData {
  settings: Uint8Array;
  /** Tasks in, results out. */
  port: MessagePort;
}

if (workerData !== null && typeof workerData === 'object' && 'port' in workerData) {
  const { settings, port: rawPort } = workerData as ThreadWorkerData;
  // Keeps the thread alive until the pool closes it.
  const port = new PolledPort(rawPort, { refWhileWaiting: false });
  const channel: TaskChannel = {
    send: (obj) => port.post(...transferable(defaultCodec.encode(obj))),
    recv: async () => {
      const message = await port.recv();
      if (message === null) throw new EOFError('the pool closed this worker');
      return defaultCodec.decodeAsync(message as Uint8Array);
    },
    close: () => port.close(),
  };
  const [initializer, initargs, maxtasks] = (await defaultCodec.decodeAsync(settings)) as [TaskFunction | null, unknown[], number | null];
  await poolWorker(channel, initializer, initargs, maxtasks);
}
