/**
 * The port a ThreadPool and its threads receive on: a receiver polls for a
 * moment, then waits for the 'message' event; messages arrive once each and in
 * order either way.
 */
import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { MessageChannel } from 'node:worker_threads';
import { EOFError, POLL_MICROS } from '@mpjs/util';
import { PolledPort } from '../src/polled-port.js';

function pair(): { sender: MessageChannel['port1']; port: PolledPort; close(): void } {
  const { port1, port2 } = new MessageChannel();
  const port = new PolledPort(port2, { refWhileWaiting: true });
  return {
    sender: port1,
    port,
    close: () => {
      port1.close();
      port.close();
    },
  };
}

describe('PolledPort', () => {
  it('polls here (more than one CPU), so these tests exercise it', () => {
    expect(POLL_MICROS).toBeGreaterThan(0);
  });

  it('delivers messages posted before and after the receiver waits, in order, once each', async () => {
    const { sender, port, close } = pair();
    try {
      sender.postMessage(1);
      sender.postMessage(2);
      expect(await port.recv()).toBe(1);
      const third = port.recv(); // polls, finds 2 queued before it
      expect(await third).toBe(2);
      const late = port.recv(); // polls, gives up, then the event delivers
      await sleep(20);
      sender.postMessage(3);
      sender.postMessage(4);
      expect(await late).toBe(3);
      expect(await port.recv()).toBe(4);
      expect(port.waiting).toBe(false);
    } finally {
      close();
    }
  });

  it('catches a message posted while it polls, from another thread', async () => {
    const { Worker } = await import('node:worker_threads');
    const { port1, port2 } = new MessageChannel();
    const port = new PolledPort(port2, { refWhileWaiting: true });
    const thread = new Worker(
      `const { workerData } = require('node:worker_threads');
       workerData.port.on('message', (n) => workerData.port.postMessage(n + 1));`,
      { eval: true, workerData: { port: port1 }, transferList: [port1] },
    );
    try {
      for (let i = 0; i < 200; i++) {
        port.post(i);
        expect(await port.recv()).toBe(i + 1);
      }
    } finally {
      await thread.terminate();
      port.close();
    }
  });

  it('after end(), a waiting receiver and later ones reject, once queued messages are taken', async () => {
    const { sender, port, close } = pair();
    try {
      sender.postMessage('queued');
      await sleep(5);
      const waiting = (async () => [await port.recv(), await port.recv()])();
      await sleep(5);
      port.end(new EOFError('gone'));
      await expect(waiting).rejects.toThrow(EOFError);
      await expect(port.recv()).rejects.toThrow('gone');
    } finally {
      close();
    }
  });
});
