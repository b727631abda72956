import { afterEach, describe, expect, it } from '@jest/globals';
import { Socket } from 'node:net';
import { collect, spawnFixture } from '@mpjs/test-utils';
import { EOFError, ProtocolError, TimeoutError } from '@mpjs/util';
import { closeFd, createSharedMemory, dupFd, mapSharedMemory, recvFds, recvFdsSync, sendFds, socketpair } from '../src/index.js';
import { fixture } from './helpers.js';

// Every fd a test opens is closed afterwards, whatever happens.
const open: number[] = [];
function track<T extends number[]>(fds: T): T {
  open.push(...fds);
  return fds;
}
afterEach(() => {
  for (const fd of open.splice(0)) {
    try {
      closeFd(fd);
    } catch {
      // closed by the test itself
    }
  }
});

describe('socketpair', () => {
  it('returns two connected, distinct descriptors', () => {
    const [a, b] = track(socketpair());
    expect(Number.isInteger(a) && Number.isInteger(b)).toBe(true);
    expect(a).not.toBe(b);
    expect(sendFds(a, [], Buffer.from('x'))).toBe(1);
    expect(recvFdsSync(b, { timeout: 1_000 }).data.toString()).toBe('x');
  });
});

describe('dupFd', () => {
  it('gives a second descriptor that outlives the first', () => {
    const [a, b] = track(socketpair());
    const [copy] = track([dupFd(a)] as [number]);
    expect(copy).not.toBe(a);
    closeFd(a);
    expect(sendFds(copy, [], Buffer.from('still open'))).toBe(10);
    expect(recvFdsSync(b, { timeout: 1_000 }).data.toString()).toBe('still open');
  });

  it('reports a descriptor that is not open, and rejects what is not one', () => {
    const [a] = socketpair();
    closeFd(a);
    expect(() => dupFd(a)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'dup' }));
    expect(() => dupFd(-1)).toThrow(RangeError);
  });
});

describe('sendFds / recvFdsSync', () => {
  it('passes a memfd: the received descriptor maps the same memory', () => {
    const [a, b] = track(socketpair());
    const block = createSharedMemory(4096);
    track([block.fd]);
    expect(sendFds(a, [block.fd], Buffer.from('memory'))).toBe(6);
    const { fds, data } = recvFdsSync(b, { maxFds: 4, maxBytes: 64, timeout: 1_000 });
    track(fds);
    expect(data.toString()).toBe('memory');
    expect(fds).toHaveLength(1);
    expect(fds[0]).not.toBe(block.fd);
    const view = new Int32Array(mapSharedMemory(fds[0]!));
    Atomics.store(new Int32Array(block.buffer), 0, 1234);
    expect(Atomics.load(view, 0)).toBe(1234);
  });

  it('sends several descriptors and all the data, even when larger than one read', () => {
    const [a, b] = track(socketpair());
    const [c, d] = track(socketpair());
    const payload = Buffer.alloc(100_000, 7);
    const sending = sendFds(a, [c, d], payload.subarray(0, 10));
    expect(sending).toBe(10);
    const first = recvFdsSync(b, { maxFds: 2, maxBytes: 4, timeout: 1_000 });
    track(first.fds);
    expect(first.fds).toHaveLength(2);
    expect(first.data.length).toBe(4);
    const rest = recvFdsSync(b, { maxBytes: 100, timeout: 1_000 });
    expect(rest.fds).toEqual([]);
    expect(rest.data.length).toBe(6);
  });

  it('times out with TimeoutError', () => {
    const [, b] = track(socketpair());
    const start = performance.now();
    expect(() => recvFdsSync(b, { timeout: 60 })).toThrow(TimeoutError);
    const elapsed = performance.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(55);
    expect(elapsed).toBeLessThan(560);
  });

  it('throws EOFError when the other end is closed', () => {
    const [a, b] = track(socketpair());
    closeFd(a);
    expect(() => recvFdsSync(b, { timeout: 1_000 })).toThrow(EOFError);
  });

  it('refuses a message with more descriptors than maxFds, closing what came', () => {
    const [a, b] = track(socketpair());
    const [c, d] = track(socketpair());
    sendFds(a, [c, d, c], Buffer.from('three'));
    expect(() => recvFdsSync(b, { maxFds: 1, timeout: 1_000 })).toThrow(ProtocolError);
    expect(() => recvFdsSync(b, { timeout: 50 })).toThrow(TimeoutError); // the message is gone
  });

  it('checks its arguments', () => {
    const [a] = track(socketpair());
    expect(() => sendFds(a, [], Buffer.alloc(0))).toThrow(/at least one byte/);
    expect(() => sendFds(a, [-1], Buffer.from('x'))).toThrow(/"fds\[0\]" must be a file descriptor/);
    // @ts-expect-error: fds must be an array
    expect(() => sendFds(a, 3, Buffer.from('x'))).toThrow(TypeError);
    // @ts-expect-error: data must be bytes
    expect(() => sendFds(a, [], 'x')).toThrow(/"data" must be a Uint8Array/);
    expect(() => sendFds(a, new Array(254).fill(a), Buffer.from('x'))).toThrow(/at most 253/);
    expect(() => recvFdsSync(a, { maxFds: 300 })).toThrow(RangeError);
    expect(() => recvFdsSync(a, { maxBytes: 0 })).toThrow(RangeError);
  });

  it('reports closed descriptors as EBADF', () => {
    const [a, b] = socketpair();
    closeFd(a);
    closeFd(b);
    expect(() => sendFds(a, [], Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'sendmsg' }));
    expect(() => recvFdsSync(b, { timeout: 10 })).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});

describe('recvFds (async)', () => {
  it('receives without blocking the event loop', async () => {
    const [a, b] = track(socketpair());
    const [c] = track(socketpair());
    let ticks = 0;
    const interval = setInterval(() => ticks++, 5);
    const receiving = recvFds(b, { maxFds: 1, timeout: 5_000 });
    setTimeout(() => sendFds(a, [c], Buffer.from('later')), 60);
    const { fds, data } = await receiving;
    clearInterval(interval);
    track(fds);
    expect(data.toString()).toBe('later');
    expect(fds).toHaveLength(1);
    expect(ticks).toBeGreaterThanOrEqual(3);
  });

  it('rejects with TimeoutError, EOFError and signal.reason', async () => {
    const [a, b] = track(socketpair());
    await expect(recvFds(b, { timeout: 30 })).rejects.toBeInstanceOf(TimeoutError);
    const controller = new AbortController();
    const pending = recvFds(b, { signal: controller.signal });
    controller.abort('enough');
    await expect(pending).rejects.toBe('enough');
    // Nothing was lost by the cancelled receives.
    sendFds(a, [], Buffer.from('still here'));
    expect((await recvFds(b, { timeout: 1_000 })).data.toString()).toBe('still here');
    closeFd(a);
    await expect(recvFds(b, { timeout: 1_000 })).rejects.toBeInstanceOf(EOFError);
  });

  it('refuses a socket that a net.Socket already reads', async () => {
    const [, b] = track(socketpair());
    const socket = new Socket({ fd: b, readable: true, writable: true });
    open.splice(open.indexOf(b), 1);
    try {
      await expect(recvFds(b, { timeout: 100 })).rejects.toMatchObject({ code: 'EEXIST' });
      await expect(recvFds(b, { timeout: 100 })).rejects.toThrow(/already watched/);
    } finally {
      socket.destroy();
    }
  });

  it('rejects bad descriptors with a Node-style error', async () => {
    const [a] = socketpair();
    closeFd(a);
    await expect(recvFds(a, { timeout: 100 })).rejects.toMatchObject({ code: 'EBADF' });
    await expect(recvFds(-1)).rejects.toBeInstanceOf(RangeError);
  });

  it('hands a working socket and shared memory to a real child', async () => {
    const [parentEnd, childEnd] = track(socketpair()); // carries the descriptors
    const [mine, theirs] = track(socketpair()); // the socket being handed over
    const block = createSharedMemory(4096);
    track([block.fd]);
    const child = spawnFixture(fixture('fd-child.ts'), { stdio: ['ignore', 'pipe', 'pipe', childEnd] });
    const result = collect(child);
    closeFd(childEnd);
    sendFds(parentEnd, [theirs, block.fd], Buffer.from('take these'));
    closeFd(theirs);

    const socket = new Socket({ fd: mine, readable: true, writable: true });
    open.splice(open.indexOf(mine), 1); // the socket owns it now
    socket.setEncoding('utf8');
    let received = '';
    let pinged = false;
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (!pinged && received.includes('hello')) {
        pinged = true;
        socket.write('ping\n');
      }
    });
    await new Promise<void>((resolve) => socket.on('end', resolve));
    socket.destroy();

    const r = await result;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(received).toBe(`hello from ${child.pid}, got "take these"\npong\n`);
    expect(Atomics.load(new Int32Array(block.buffer), 0)).toBe(42);
  });
});
