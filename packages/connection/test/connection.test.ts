import { describe, expect, it } from '@jest/globals';
import { fstatSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pipe as nativePipe, pollFd, READABLE, socketpair } from '@mpjs/native';
import {
  BufferTooShort,
  Connection,
  EOFError,
  Pipe,
  ProtocolError,
  ValueError,
  flushConnections,
} from '../src/index.js';

function pipe(duplex = true): [Connection, Connection] {
  return Pipe(duplex);
}

describe('Pipe and Connection', () => {
  it('carries objects and bytes both ways (the spec example)', async () => {
    const [a, b] = pipe();
    try {
      a.send([1, 'hello', null]);
      expect(await b.recv()).toEqual([1, 'hello', null]);
      b.sendBytes(Buffer.from('thank you'));
      expect((await a.recvBytes()).toString()).toBe('thank you');
      const arr1 = new Int32Array([0, 1, 2, 3, 4]);
      const arr2 = new Int32Array(10);
      a.sendBytes(arr1);
      const count = await b.recvBytesInto(arr2);
      expect(count).toBe(arr1.length * arr1.BYTES_PER_ELEMENT);
      expect([...arr2]).toEqual([0, 1, 2, 3, 4, 0, 0, 0, 0, 0]);
    } finally {
      a.close();
      b.close();
    }
  });

  it('keeps message order and boundaries, including empty and large messages', async () => {
    const [a, b] = pipe();
    const big = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    a.sendBytes(Buffer.alloc(0));
    a.sendBytes(big);
    a.sendBytes(Buffer.from('after'));
    for (let i = 0; i < 100; i++) a.send(i);
    // Several receivers waiting at once are served in order.
    const [empty, large, after] = await Promise.all([b.recvBytes(), b.recvBytes(), b.recvBytes()]);
    expect(empty.length).toBe(0);
    expect(large.equals(big)).toBe(true);
    expect(after.toString()).toBe('after');
    const numbers = await Promise.all(Array.from({ length: 100 }, () => b.recv()));
    expect(numbers).toEqual(Array.from({ length: 100 }, (_, i) => i));
    a.close();
    b.close();
  });

  it('sends a range of a buffer and checks the range as Python does', async () => {
    const [a, b] = pipe();
    const data = Buffer.from('0123456789');
    a.sendBytes(data, 2);
    a.sendBytes(data, 2, 3);
    a.sendBytes(data, 10);
    a.sendBytes(new Uint16Array([1, 2, 3]), 2, 2);
    expect((await b.recvBytes()).toString()).toBe('23456789');
    expect((await b.recvBytes()).toString()).toBe('234');
    expect((await b.recvBytes()).length).toBe(0);
    expect([...(await b.recvBytes())]).toEqual([2, 0]);
    expect(() => a.sendBytes(data, -1)).toThrow(new ValueError('offset is negative'));
    expect(() => a.sendBytes(data, 11)).toThrow(new ValueError('buffer length < offset'));
    expect(() => a.sendBytes(data, 0, -1)).toThrow(new ValueError('size is negative'));
    expect(() => a.sendBytes(data, 5, 6)).toThrow(new ValueError('buffer length < offset + size'));
    expect(() => a.sendBytes('text' as unknown as Buffer)).toThrow(TypeError);
    a.close();
    b.close();
  });

  it('send() captures the bytes at call time, even when they are queued', async () => {
    const [a, b] = pipe();
    // Larger than the socket buffer, so part of it has to wait in the queue.
    const data = Buffer.alloc(4 * 1024 * 1024, 1);
    a.sendBytes(data);
    data.fill(2);
    const got = await b.recvBytes();
    expect(got.every((x) => x === 1)).toBe(true);
    a.close();
    b.close();
  });

  it('recvBytesInto writes at an offset and raises BufferTooShort with the whole message', async () => {
    const [a, b] = pipe();
    const target = Buffer.alloc(8, 0x2e);
    a.sendBytes(Buffer.from('abc'));
    expect(await b.recvBytesInto(target, 5)).toBe(3);
    expect(target.toString()).toBe('.....abc');
    a.sendBytes(Buffer.from('abcdef'));
    const error = await b.recvBytesInto(target, 4).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BufferTooShort);
    expect((error as BufferTooShort).buffer.toString()).toBe('abcdef');
    await expect(b.recvBytesInto(target, -1)).rejects.toThrow(new ValueError('negative offset'));
    await expect(b.recvBytesInto(target, 9)).rejects.toThrow(new ValueError('offset too large'));
    // The connection is still in sync after BufferTooShort.
    a.sendBytes(Buffer.from('ok'));
    expect((await b.recvBytes()).toString()).toBe('ok');
    a.close();
    b.close();
  });

  it('a message longer than maxlength makes the connection write-only (or closes it)', async () => {
    const [a, b] = pipe();
    await expect(b.recvBytes(-1)).rejects.toThrow(new ValueError('negative maxlength'));
    a.sendBytes(Buffer.alloc(10));
    a.sendBytes(Buffer.alloc(11));
    expect((await b.recvBytes(10)).length).toBe(10);
    const error = await b.recvBytes(10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toMatch(/^bad message length/);
    expect(b.readable).toBe(false);
    expect(b.writable).toBe(true);
    expect(b.closed).toBe(false);
    await expect(b.recv()).rejects.toThrow(/connection is write-only/);
    b.send('still writable');
    expect(await a.recv()).toBe('still writable');
    a.close();
    b.close();

    const [r, w] = pipe(false);
    w.sendBytes(Buffer.alloc(300));
    await expect(r.recvBytes(256)).rejects.toThrow(/bad message length/);
    expect(r.closed).toBe(true);
    w.close();
  });

  it('a waiting reader with maxlength is refused as soon as the header arrives', async () => {
    const [a, b] = pipe();
    const pending = b.recvBytes(16);
    a.sendBytes(Buffer.alloc(1024 * 1024));
    await expect(pending).rejects.toThrow(/bad message length: the message has 1048576 bytes, more than maxlength 16/);
    a.close();
    b.close();
  });

  it('refuses a frame beyond maxMessageSize before reading it', async () => {
    const [a, b] = Pipe(true, { maxMessageSize: 1000 });
    a.sendBytes(Buffer.alloc(1000));
    a.sendBytes(Buffer.alloc(1001));
    expect((await b.recvBytes()).length).toBe(1000);
    await expect(b.recvBytes()).rejects.toThrow(/1001 bytes, more than this connection's limit of 1000/);
    a.close();
    b.close();
  });

  it('Pipe(false) gives a read-only first end and a write-only second end', async () => {
    const [r, w] = pipe(false);
    expect([r.readable, r.writable, w.readable, w.writable]).toEqual([true, false, false, true]);
    expect(() => r.send(1)).toThrow(ProtocolError);
    expect(() => r.send(1)).toThrow(/connection is read-only/);
    await expect(w.recv()).rejects.toThrow(/connection is write-only/);
    await expect(w.poll()).rejects.toThrow(/connection is write-only/);
    w.send({ one: 'way' });
    expect(await r.recv()).toEqual({ one: 'way' });
    r.close();
    w.close();
  });

  it('a Connection over an OS pipe (a FIFO) carries large messages, handles and the end', async () => {
    const [rfd, wfd] = nativePipe();
    const channel = socketpair();
    const r = new Connection(rfd, { writable: false, readAhead: true, fdChannel: channel[0] });
    const w = new Connection(wfd, { readable: false, fdChannel: channel[1] });
    expect(fstatSync(r.fileno()).isFIFO()).toBe(true);
    // Far beyond the 64 KiB a pipe holds: the rest is written as the reader drains it.
    const large = Buffer.alloc(3 * 1024 * 1024, 7);
    large[large.length - 1] = 9;
    w.sendBytes(large);
    w.send('after');
    const back = await r.recvBytes();
    expect([back.length, back[0], back[back.length - 1]]).toEqual([large.length, 7, 9]);
    expect(await r.recv()).toBe('after');
    // Nothing there: a poll says so (a read of an empty pipe is no error).
    expect(await r.poll()).toBe(false);
    // A Connection sent through it arrives as a working end.
    const [a, b] = pipe();
    w.send(b);
    b.close();
    const received = (await r.recv()) as Connection;
    a.send('through');
    expect(await received.recv()).toBe('through');
    received.close();
    a.close();
    w.close();
    await expect(r.recv()).rejects.toBeInstanceOf(EOFError);
    r.close();
  });

  it('poll() checks at once, waits for a timeout, or forever with null', async () => {
    const [a, b] = pipe();
    expect(await b.poll()).toBe(false);
    expect(await b.poll(-5)).toBe(false);
    const start = performance.now();
    expect(await b.poll(60)).toBe(false);
    expect(performance.now() - start).toBeGreaterThanOrEqual(50);
    a.send('x');
    expect(await b.poll()).toBe(true);
    expect(await b.poll()).toBe(true); // polling does not consume
    expect(await b.recv()).toBe('x');
    setTimeout(() => a.send('later'), 30);
    expect(await b.poll(null)).toBe(true);
    expect(await b.recv()).toBe('later');
    a.close();
    expect(await b.poll(1000)).toBe(true); // the other end closed: ready, and recv says EOF
    await expect(b.recv()).rejects.toBeInstanceOf(EOFError);
    b.close();
  });

  it('poll() and poll(0) see at once a message or the end already in the socket (50 times over)', async () => {
    const seen = { data: 0, data0: 0, eof: 0, eof0: 0, second: 0, afterLast: 0 };
    for (let i = 0; i < 50; i++) {
      const [a, b] = pipe();
      b.sendBytes(Buffer.from('x'));
      if (await a.poll()) seen.data++;
      if (await a.poll(0)) seen.data0++;
      const [c, d] = pipe();
      d.close();
      if (await c.poll()) seen.eof++;
      if (await c.poll(0)) seen.eof0++;
      // One message read, the next already sent: Python's poll() is True.
      const [e, f] = pipe();
      f.send('one');
      f.send('two');
      await e.recv();
      if (await e.poll()) seen.second++;
      // The last message read and the other end closed: ready (recv then says EOF).
      f.close();
      await e.recv();
      if (await e.poll()) seen.afterLast++;
      await expect(e.recv()).rejects.toBeInstanceOf(EOFError);
      for (const x of [a, b, c, e]) x.close();
    }
    expect(seen).toEqual({ data: 50, data0: 50, eof: 50, eof0: 50, second: 50, afterLast: 50 });
  });

  it('poll() asks the kernel without taking the message: a copy in another process can still receive it', async () => {
    const [a, b] = pipe();
    try {
      a.sendBytes(Buffer.from('for whoever reads'));
      expect(await b.poll()).toBe(true);
      // Nothing was read: the bytes are still in the kernel.
      expect(pollFd(b.fileno())).toBe(READABLE);
      expect((await b.recvBytes()).toString()).toBe('for whoever reads');
    } finally {
      a.close();
      b.close();
    }
  });

  it('poll() on a Pipe(false) (an OS pipe) sees data and the writer closing at once', async () => {
    for (let i = 0; i < 20; i++) {
      const [r, w] = pipe(false);
      expect(await r.poll()).toBe(false);
      w.sendBytes(Buffer.from('y'));
      expect(await r.poll()).toBe(true);
      await r.recvBytes();
      w.close();
      expect(await r.poll(0)).toBe(true);
      r.close();
    }
  });

  it('poll(timeout) longer than a Node timer holds waits instead of returning at once', async () => {
    const [a, b] = pipe();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      let settled = false;
      const polled = b.poll(3e9, { signal: controller.signal }).then(
        (ready) => ((settled = true), ready),
        () => ((settled = true), 'aborted'),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(settled).toBe(false);
      a.send('late');
      expect(await polled).toBe(true);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      a.close();
      b.close();
    }
  });

  it('EOFError once the other end closed and every message was read', async () => {
    const [a, b] = pipe();
    a.send('last words');
    a.close();
    expect(await b.recv()).toBe('last words');
    await expect(b.recv()).rejects.toBeInstanceOf(EOFError);
    await expect(b.recvBytes()).rejects.toBeInstanceOf(EOFError);
    // A reader already waiting is woken by the close.
    const [c, d] = pipe();
    const waiting = d.recv();
    c.close();
    await expect(waiting).rejects.toBeInstanceOf(EOFError);
    b.close();
    d.close();
  });

  it('send() after the other end closed throws a clear error', () => {
    const [a, b] = pipe();
    b.close();
    expect(() => a.sendBytes(Buffer.from('x'))).toThrow(/the other end of the connection is closed \(EPIPE\)/);
    a.close();
  });

  it('close() is idempotent, rejects pending readers and makes every method throw', async () => {
    const [a, b] = pipe();
    const fd = a.fileno();
    expect(typeof fd).toBe('number');
    const pending = a.recv();
    a.close();
    a.close();
    await expect(pending).rejects.toThrow(/handle is closed/);
    expect(a.closed).toBe(true);
    expect(() => a.fileno()).toThrow(/handle is closed/);
    expect(() => a.send(1)).toThrow(/handle is closed/);
    await expect(a.recv()).rejects.toThrow(/handle is closed/);
    await expect(a.poll()).rejects.toThrow(/handle is closed/);
    b.close();
  });

  it('data sent just before close() still arrives', async () => {
    const [a, b] = pipe();
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    a.sendBytes(big);
    a.send('end');
    a.close();
    expect((await b.recvBytes()).equals(big)).toBe(true);
    expect(await b.recv()).toBe('end');
    await expect(b.recv()).rejects.toBeInstanceOf(EOFError);
    b.close();
  });

  it('flushConnections() waits for queued writes', async () => {
    const [a, b] = pipe();
    a.sendBytes(Buffer.alloc(2 * 1024 * 1024));
    const reading = b.recvBytes();
    await flushConnections();
    expect((await reading).length).toBe(2 * 1024 * 1024);
    a.close();
    b.close();
  });

  it('closes at the end of a using scope', async () => {
    const [a, b] = pipe();
    {
      using scoped = a;
      scoped.send('bye');
    }
    expect(a.closed).toBe(true);
    expect(await b.recv()).toBe('bye');
    b.close();
  });

  it('rejects bad constructor arguments', () => {
    expect(() => new Connection(-1)).toThrow(new ValueError('invalid handle: -1'));
    expect(() => new Connection(0, { readable: false, writable: false })).toThrow(/at least one of/);
    expect(() => new Connection('3' as unknown as number)).toThrow(TypeError);
  });

  it('uses the codec given', async () => {
    const { jsonCodec } = await import('@mpjs/serialization');
    const [a, b] = Pipe(true, { codec: jsonCodec });
    expect(a.codec).toBe(jsonCodec);
    a.send({ json: [1, 2] });
    expect((await b.recvBytes()).toString()).toBe('{"json":[1,2]}');
    a.close();
    b.close();
  });

  it('readAhead reads many messages at a time, in order, of any size', async () => {
    const [a, b] = Pipe(true, { readAhead: true });
    try {
      const big = Buffer.alloc(300_000, 7);
      for (let i = 0; i < 500; i++) b.send(i);
      b.sendBytes(big);
      b.send({ last: true });
      const got: unknown[] = [];
      for (let i = 0; i < 500; i++) got.push(await a.recv());
      expect(got).toEqual(Array.from({ length: 500 }, (_, i) => i));
      expect((await a.recvBytes()).equals(big)).toBe(true);
      expect(await a.recv()).toEqual({ last: true });
      expect(await a.poll()).toBe(false);
    } finally {
      a.close();
      b.close();
    }
  });

  it('a connection holding messages it read ahead cannot be sent elsewhere until they are received', async () => {
    const [a, b] = Pipe(true, { readAhead: true });
    const [carrier, receiver] = Pipe();
    try {
      b.send('one');
      b.send('two');
      expect(await a.recv()).toBe('one'); // 'two' was read in the same read
      expect(() => carrier.send(a)).toThrow(/read ahead/);
      expect(await a.recv()).toBe('two');
      carrier.send(a);
      const copy = (await receiver.recv()) as Connection;
      expect(copy.readAhead).toBe(true); // the option travels with the connection
      b.send('three');
      expect(await copy.recv()).toBe('three');
      copy.close();
    } finally {
      for (const c of [a, b, carrier, receiver]) c.close();
    }
  });
});

describe('connections over descriptors', () => {
  it('make no Node socket: Pipe, Listener and Client exchange messages without loading node:net (plain Node, built package)', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const program = fileURLToPath(new URL('./fixtures/no-socket-program.mjs', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [program], { encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({ viaPipe: { hello: 'pipe' }, big: 300_000, loadedByConnections: false, cryptoForListener: false });
  });

  it('left open and idle, do not keep a program alive (plain Node, built package)', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const program = fileURLToPath(new URL('./fixtures/idle-exit-program.mjs', import.meta.url));
    // A program kept alive by a connection would be killed by the timeout and reject.
    const { stdout } = await promisify(execFile)(process.execPath, [program], { encoding: 'utf8', timeout: 10_000 });
    expect(JSON.parse(stdout)).toEqual(['over the pipe', 'over the socket']);
  });
});
