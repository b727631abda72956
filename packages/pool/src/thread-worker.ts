/**
 * Entry of a `ThreadPool` worker thread: the same task loop as a pool
 * process, over the thread's message port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { defaultCodec } from '@mpjs/serialization';
import { EOFError } from '@mpjs/util';
import type { TaskChannel } from './channel.js';
import { poolWorker, type TaskFunction } from './worker.js';

/** What the pool passes to a worker thread (encoded, so functions travel by reference). */
export interface ThreadWorkerData {
  settings: Uint8Array;
}

if (parentPort) {
  const port = parentPort;
  const inbox: unknown[] = [];
  let waiting: ((message: unknown) => void) | undefined;
  port.on('message', (message: unknown) => {
    if (waiting) {
      const wake = waiting;
      waiting = undefined;
      wake(message);
    } else inbox.push(message);
  });
  const channel: TaskChannel = {
    send: (obj) => port.postMessage(defaultCodec.encode(obj)),
    recv: async () => {
      const message = inbox.length > 0 ? inbox.shift() : await new Promise<unknown>((resolve) => (waiting = resolve));
      if (message === null) throw new EOFError('the pool closed this worker');
      return defaultCodec.decodeAsync(message as Uint8Array);
    },
    close: () => port.close(),
  };
  const { settings } = workerData as ThreadWorkerData;
  const [initializer, initargs, maxtasks] = (await defaultCodec.decodeAsync(settings)) as [TaskFunction | null, unknown[], number | null];
  await poolWorker(channel, initializer, initargs, maxtasks);
}
