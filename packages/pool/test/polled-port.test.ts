/**
 * The port a ThreadPool and its threads receive on: a receiver polls for a
 * moment, then waits for the 'message' event; messages arrive once each and in
 * order either way.
 */
import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { MessageChannel } from 'node:worker_threads';
import { EOFError, POLL_MICROS } from '@mpjs/util';
import { defaultCodec } from '@mpjs/serialization';
import { PolledPort, transferable } from '../src/polled-port.js';

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

describe('transferable', () => {
  it('gives an encoded message an ArrayBuffer of its own, so posting it copies only its bytes', async () => {
    const first = defaultCodec.encode({ n: 1 });
    const second = defaultCodec.encode({ n: 2 });
    // Consecutive encodes share one larger buffer.
    expect(first.buffer).toBe(second.buffer);
    expect(first.buffer.byteLength).toBeGreaterThan(first.byteLength);
    const [own, transfer] = transferable(second);
    expect(own.buffer.byteLength).toBe(second.byteLength);
    expect(transfer).toEqual([own.buffer]);
    expect(defaultCodec.decode(own)).toEqual({ n: 2 });
    // Posting transfers it: the sender's copy is detached, the shared buffer is not.
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<Uint8Array>((resolve) => port2.once('message', resolve));
    port1.postMessage(...transferable(first));
    expect(defaultCodec.decode(await received)).toEqual({ n: 1 });
    expect(first.buffer.byteLength).toBeGreaterThan(0);
    port1.close();
    // A message that fills its buffer is posted as it is.
    const whole = new Uint8Array([1, 2, 3]);
    expect(transferable(whole)[0]).toBe(whole);
  });
});
