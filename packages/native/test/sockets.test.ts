import { afterAll, describe, expect, it } from '@jest/globals';
import { fstatSync, mkdtempSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FdWatcher,
  HANG_UP,
  READABLE,
  WRITABLE,
  acceptSocket,
  closeFd,
  connectSocket,
  listenSocket,
  readPolling,
  setNonBlocking,
  socketError,
  socketpair,
  type SocketAddress,
} from '../src/index.js';

/** The next events the watcher reports for `fd` (watching `events`), after which it is closed. */
function nextEvents(fd: number, events: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const watcher = new FdWatcher(fd, (ready, error) => {
      watcher.close();
      if (error) reject(error);
      else resolve(ready);
    });
    watcher.set(events);
  });
}

async function connected(target: SocketAddress): Promise<number> {
  const { fd, pending } = connectSocket(target);
  if (pending) {
    expect(await nextEvents(fd, WRITABLE)).toBe(WRITABLE);
    expect(socketError(fd)).toBeNull();
  }
  return fd;
}

describe('listenSocket, acceptSocket, connectSocket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mpjs-sockets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['a Unix socket path', (): SocketAddress => ({ path: join(dir, 'listener') })],
    ['a Linux abstract name', (): SocketAddress => ({ path: `\0mpjs-test-${process.pid}` })],
    ['IPv4 with port 0', (): SocketAddress => ({ host: '127.0.0.1', port: 0 })],
  ])('%s: accepts connections in order, with the peer for TCP, and streams both ways', async (_, make) => {
    const address = make();
    const listening = listenSocket(address, 4);
    const target = 'path' in address ? address : { host: '127.0.0.1', port: listening.port! };
    if ('host' in address) expect(listening.port).toBeGreaterThan(0);
    else expect(listening.port).toBeNull();
    try {
      expect(acceptSocket(listening.fd)).toBeNull(); // nobody yet
      const first = await connected(target);
      const second = await connected(target);
      expect(await nextEvents(listening.fd, READABLE)).toBe(READABLE);
      const a = acceptSocket(listening.fd)!;
      const b = acceptSocket(listening.fd)!;
      if ('host' in address) expect(a.peer).toEqual({ host: '127.0.0.1', port: expect.any(Number) });
      else expect(a.peer).toBeNull();
      writeSync(first, 'one');
      writeSync(second, 'two');
      const buffer = Buffer.alloc(8);
      expect(await nextEvents(a.fd, READABLE)).toBe(READABLE);
      expect(buffer.toString('utf8', 0, readPolling(a.fd, buffer, 0)!)).toBe('one');
      expect(await nextEvents(b.fd, READABLE)).toBe(READABLE);
      expect(buffer.toString('utf8', 0, readPolling(b.fd, buffer, 0)!)).toBe('two');
      // Accepted sockets do not block: nothing to read is EAGAIN, not a wait.
      expect(readPolling(a.fd, buffer, 0)).toBeNull();
      expect(() => readSync(a.fd, buffer)).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
      closeFd(first);
      expect(await nextEvents(a.fd, READABLE)).toBe(READABLE | HANG_UP);
      expect(readPolling(a.fd, buffer, 0)).toBe(0);
      for (const fd of [second, a.fd, b.fd]) closeFd(fd);
    } finally {
      closeFd(listening.fd);
    }
  });

  it('fails clearly: an address in use, nobody listening, a bad address, a path too long', () => {
    const path = join(dir, 'taken');
    const listening = listenSocket({ path }, 1);
    try {
      expect(() => listenSocket({ path }, 1)).toThrow(expect.objectContaining({ code: 'EADDRINUSE', syscall: 'bind' }));
    } finally {
      closeFd(listening.fd);
    }
    expect(() => connectSocket({ path: join(dir, 'nobody') })).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'connect' }));
    expect(() => listenSocket({ host: 'localhost', port: 0 }, 1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => listenSocket({ path: `/tmp/${'x'.repeat(120)}` }, 1)).toThrow(RangeError);
    expect(() => listenSocket({ host: '127.0.0.1', port: 70000 }, 1)).toThrow(RangeError);
    expect(() => connectSocket({} as SocketAddress)).toThrow(TypeError);
  });

  it('a TCP connection to a closed port fails once it completes', async () => {
    const probe = listenSocket({ host: '127.0.0.1', port: 0 }, 1);
    const port = probe.port!;
    closeFd(probe.fd);
    let fd: number;
    try {
      const started = connectSocket({ host: '127.0.0.1', port });
      fd = started.fd;
      if (!started.pending) throw new Error('expected a pending connection');
    } catch (error) {
      // Refused at once is also correct.
      expect(error).toEqual(expect.objectContaining({ code: 'ECONNREFUSED' }));
      return;
    }
    await nextEvents(fd, WRITABLE).catch(() => undefined);
    expect(socketError(fd)).toEqual(expect.objectContaining({ code: 'ECONNREFUSED' }));
    closeFd(fd);
  });
});

describe('FdWatcher', () => {
  it('reports readiness until the data is read, stops when told, and not after close()', async () => {
    const [a, b] = socketpair();
    try {
      setNonBlocking(a);
      const seen: number[] = [];
      let wake: () => void = () => undefined;
      const watcher = new FdWatcher(a, (events) => {
        seen.push(events);
        wake();
      });
      const next = (): Promise<void> => new Promise((resolve) => (wake = resolve));
      watcher.set(READABLE);
      writeSync(b, 'x');
      await next();
      await next(); // level-triggered: still readable
      expect(seen.slice(0, 2)).toEqual([READABLE, READABLE]);
      watcher.set(0);
      const count = seen.length;
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen.length).toBe(count);
      watcher.set(WRITABLE);
      await next();
      expect(seen.at(-1)).toBe(WRITABLE);
      watcher.close();
      const closedAt = seen.length;
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen.length).toBe(closedAt);
      expect(() => watcher.set(READABLE)).not.toThrow(); // ignored once closed
    } finally {
      closeFd(a);
      closeFd(b);
    }
  });

  it('an unref()ed watch does not keep the process alive; a ref()ed one does', async () => {
    const built = new URL('../dist/index.js', import.meta.url).href;
    const script = (ref: boolean): string =>
      `const n = await import(${JSON.stringify(built)});
       const [a] = n.socketpair();
       const w = new n.FdWatcher(a, () => {});
       w.set(n.READABLE);
       w.ref(${ref});
       setTimeout(() => { console.log('timer'); process.exit(0); }, 300).unref();`;
    const { execFileSync } = await import('node:child_process');
    const run = (ref: boolean): string => execFileSync(process.execPath, ['--input-type=module', '-e', script(ref)], { encoding: 'utf8' });
    expect(run(false)).toBe('');
    expect(run(true)).toBe('timer\n');
  });

  it('refuses what is not a descriptor or a callback', () => {
    expect(() => new FdWatcher(-1, () => undefined)).toThrow(RangeError);
    expect(() => new FdWatcher(0, 'x' as unknown as () => void)).toThrow(TypeError);
    expect(fstatSync(0)).toBeDefined();
  });
});
