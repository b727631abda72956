/**
 * A receiver with nothing to read polls the socket for a moment before it
 * waits on the event loop. These tests split messages so that part of a
 * frame is taken by a polled read and the rest by the event loop's read,
 * at every boundary, with and without `readAhead`.
 */
import { describe, expect, it } from '@jest/globals';
import { writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { POLL_MICROS } from '@mpjs/util';
import { Pipe, ProtocolError, type Connection } from '../src/index.js';

/** A frame as CPython writes it: 4-byte big-endian length, then the payload. */
function frame(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

/** A frame with the long header: -1, then an 8-byte length. */
function longFrame(payload: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header.writeInt32BE(-1, 0);
  header.writeBigUInt64BE(BigInt(payload.length), 4);
  return Buffer.concat([header, payload]);
}

/**
 * Writes the first piece of `bytes` to `to`'s socket, starts `receive` (whose
 * polled read takes that piece and then gives up), and writes the other pieces
 * with pauses, for the event loop's reads.
 */
async function receiveInPieces<T>(to: Connection, bytes: Buffer, cuts: number[], receive: () => Promise<T>): Promise<T> {
  writeSync(to.fileno(), bytes.subarray(0, cuts[0]));
  const pending = receive();
  let from = cuts[0]!;
  for (const cut of [...cuts.slice(1), bytes.length]) {
    await sleep(15);
    writeSync(to.fileno(), bytes.subarray(from, cut));
    from = cut;
  }
  return pending;
}

const cases: Array<[string, number[]]> = [
  ['inside the header', [2]],
  ['between header and payload', [4]],
  ['inside the payload', [7]],
  ['at every byte of the header', [1, 2, 3]],
  ['inside the header and the payload', [3, 6, 9]],
];

describe.each([false, true])('polled reads (readAhead: %s)', (readAhead) => {
  it('is on here (more than one CPU), so these tests exercise it', () => {
    expect(POLL_MICROS).toBeGreaterThan(0);
  });

  it.each(cases)('reassembles a message split %s, then the next one', async (_name, cuts) => {
    const [a, b] = Pipe(true, { readAhead });
    try {
      const got = await receiveInPieces(b, frame(Buffer.from('hello world')), cuts, () => a.recvBytes());
      expect(got.toString()).toBe('hello world');
      b.sendBytes(Buffer.from('next'));
      expect((await a.recvBytes()).toString()).toBe('next');
      b.send({ after: [1, 2, 3] });
      expect(await a.recv()).toEqual({ after: [1, 2, 3] });
    } finally {
      a.close();
      b.close();
    }
  });

  it.each([[[2, 6, 13]], [[6, 13]], [[13]]])('reassembles a long-header frame split at %j', async (cuts) => {
    const [a, b] = Pipe(true, { readAhead });
    try {
      const got = await receiveInPieces(b, longFrame(Buffer.from('long form')), cuts, () => a.recvBytes());
      expect(got.toString()).toBe('long form');
    } finally {
      a.close();
      b.close();
    }
  });

  it('takes several messages that arrived together, in order, then a large one intact', async () => {
    const [a, b] = Pipe(true, { readAhead });
    try {
      writeSync(b.fileno(), Buffer.concat([frame(Buffer.from('one')), frame(Buffer.from('two')), frame(Buffer.from('three'))]));
      expect((await a.recvBytes()).toString()).toBe('one');
      expect((await a.recvBytes()).toString()).toBe('two');
      expect((await a.recvBytes()).toString()).toBe('three');
      const big = Buffer.alloc(3 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 997) big[i] = i & 0xff;
      b.sendBytes(big);
      const got = await a.recvBytes();
      expect(got.equals(big)).toBe(true);
      b.sendBytes(Buffer.from('after'));
      expect((await a.recvBytes()).toString()).toBe('after');
    } finally {
      a.close();
      b.close();
    }
  });

  it('leaves messages it has returned untouched by later reads', async () => {
    const [a, b] = Pipe(true, { readAhead });
    try {
      const received: Buffer[] = [];
      for (let i = 0; i < 50; i++) {
        const pending = a.recvBytes();
        // Half of them arrive at once (taken by polling), half later (by the event loop).
        if (i % 2 === 0) b.sendBytes(Buffer.alloc(100 + i, i));
        else setImmediate(() => b.sendBytes(Buffer.alloc(100 + i, i)));
        received.push(await pending);
      }
      received.forEach((message, i) => expect(message.equals(Buffer.alloc(100 + i, i))).toBe(true));
    } finally {
      a.close();
      b.close();
    }
  });

  it('serves several connections waiting at once, each its own messages', async () => {
    const pipes = [0, 1, 2].map(() => Pipe(true, { readAhead }));
    try {
      for (let round = 0; round < 20; round++) {
        const pending = pipes.map(([a]) => a.recvBytes());
        // Some answers are there when the poll runs, the others come later.
        pipes.forEach(([, b], i) => {
          const message = Buffer.from(`pipe ${i} round ${round}`);
          if ((i + round) % 2 === 0) b.sendBytes(message);
          else setTimeout(() => b.sendBytes(message), 1);
        });
        const got = await Promise.all(pending);
        expect(got.map(String)).toEqual(pipes.map((_, i) => `pipe ${i} round ${round}`));
      }
    } finally {
      for (const [a, b] of pipes) {
        a.close();
        b.close();
      }
    }
  });

  it('reports a garbage header read by polling as a protocol error', async () => {
    const [a, b] = Pipe(true, { readAhead });
    try {
      writeSync(b.fileno(), Buffer.from([0xff, 0xff, 0xff, 0xfe, 1, 2, 3]));
      await expect(a.recvBytes()).rejects.toThrow(ProtocolError);
    } finally {
      a.close();
      b.close();
    }
  });

  it('ends with EOFError when the peer closes after a polled message', async () => {
    const [a, b] = Pipe(true, { readAhead });
    b.sendBytes(Buffer.from('last'));
    b.close();
    expect((await a.recvBytes()).toString()).toBe('last');
    await expect(a.recvBytes()).rejects.toMatchObject({ name: 'EOFError' });
    a.close();
  });
});
