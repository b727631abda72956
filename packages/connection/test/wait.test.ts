import { describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { Connection, Listener, Pipe, ValueError, wait, waitReady, type Waitable } from '../src/index.js';

function pipes(n: number): Array<[Connection, Connection]> {
  return Array.from({ length: n }, () => Pipe());
}

function closeAll(pairs: Array<[Connection, Connection]>): void {
  for (const [a, b] of pairs) {
    a.close();
    b.close();
  }
}

/** A Waitable we control, that records whether wait() withdrew from it. */
class Gate implements Waitable {
  open = false;
  withdrawn = 0;
  #resolvers = new Set<() => void>();
  [waitReady](signal: AbortSignal): Promise<void> {
    if (this.open) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#resolvers.add(resolve);
      signal.addEventListener(
        'abort',
        () => {
          this.#resolvers.delete(resolve);
          this.withdrawn += 1;
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }
  release(): void {
    this.open = true;
    for (const resolve of this.#resolvers) resolve();
    this.#resolvers.clear();
  }
}

describe('wait()', () => {
  it('returns the connections that have data, in the order given', async () => {
    const pairs = pipes(4);
    const readers = pairs.map(([r]) => r);
    pairs[1]![1].send('one');
    pairs[3]![1].send('three');
    const ready = await wait(readers, 1000);
    expect(ready).toEqual([readers[1], readers[3]]);
    expect(await readers[1]!.recv()).toBe('one');
    closeAll(pairs);
  });

  it('waits until something arrives, and reports a closed other end as ready', async () => {
    const pairs = pipes(3);
    const readers = pairs.map(([r]) => r);
    setTimeout(() => pairs[2]![1].close(), 30);
    const ready = await wait(readers);
    expect(ready).toEqual([readers[2]]);
    await expect(readers[2]!.recv()).rejects.toThrow(/end of file/);
    closeAll(pairs);
  });

  it('returns [] on timeout; a negative timeout means 0', async () => {
    const pairs = pipes(2);
    const readers = pairs.map(([r]) => r);
    const start = performance.now();
    expect(await wait(readers, 50)).toEqual([]);
    expect(performance.now() - start).toBeGreaterThanOrEqual(40);
    expect(await wait(readers, -1)).toEqual([]);
    expect(await wait(readers, 0)).toEqual([]);
    pairs[0]![1].send(1);
    // Data that is already in the kernel is seen even with a zero timeout.
    expect(await wait(readers, 0)).toEqual([readers[0]]);
    closeAll(pairs);
  });

  it('wait(objects, 0) sees a message or the end already in the socket (50 times over)', async () => {
    const seen = { data: 0, eof: 0, second: 0, none: 0 };
    for (let i = 0; i < 50; i++) {
      const [a, b] = Pipe();
      b.sendBytes(Buffer.from('x'));
      if ((await wait([a], 0)).length === 1) seen.data++;
      const [c, d] = Pipe();
      d.close();
      if ((await wait([c], 0)).length === 1) seen.eof++;
      const [e, f] = Pipe();
      f.send('one');
      f.send('two');
      await e.recv();
      if ((await wait([e], 0)).length === 1) seen.second++;
      const [g, h] = Pipe();
      if ((await wait([g], 0)).length === 0) seen.none++;
      for (const x of [a, b, c, e, f, g, h]) x.close();
    }
    expect(seen).toEqual({ data: 50, eof: 50, second: 50, none: 50 });
  });

  it('a timeout longer than a Node timer holds waits instead of returning at once', async () => {
    const [a, b] = Pipe();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      let settled = false;
      const waited = wait([b], 3e9).then((ready) => ((settled = true), ready));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(settled).toBe(false);
      a.send('late');
      expect(await waited).toEqual([b]);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      a.close();
      b.close();
    }
  });

  it('mixes connections, sockets and Waitables, and withdraws from all of them afterwards', async () => {
    const [r, w] = Pipe();
    const gate = new Gate();
    const listener = await new Listener({ address: ['127.0.0.1', 0] }).ready();
    const [, port] = listener.address as [string, number];
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const peer = await accepted;

    const events = ['readable', 'end', 'close', 'error'] as const;
    const baseline = events.map((e) => socket.listenerCount(e));
    setTimeout(() => gate.release(), 20);
    expect(await wait([r, socket, gate])).toEqual([gate]);
    expect(events.map((e) => socket.listenerCount(e))).toEqual(baseline);

    gate.open = false;
    peer.write('hello');
    expect(await wait([r, socket, gate], 1000)).toEqual([socket]);
    expect(gate.withdrawn).toBe(2);
    expect(events.map((e) => socket.listenerCount(e))).toEqual(baseline);
    expect(socket.read()?.toString()).toBe('hello');

    w.send('x');
    expect(await wait([r, socket, gate], 1000)).toEqual([r]);
    expect(await r.recv()).toBe('x');

    socket.destroy();
    peer.destroy();
    server.close();
    listener.close();
    void port;
    r.close();
    w.close();
  });

  it('after it returns, the connections it watched no longer keep the process busy or read', async () => {
    const [r, w] = Pipe();
    expect(await wait([r], 10)).toEqual([]);
    // A later message is still delivered intact to recv.
    w.send({ after: 'wait' });
    expect(await r.recv()).toEqual({ after: 'wait' });
    r.close();
    w.close();
  });

  it('rejects a closed connection and things it cannot watch', async () => {
    const [r, w] = Pipe();
    r.close();
    await expect(wait([r], 10)).rejects.toThrow(/handle is closed/);
    await expect(wait([{} as Waitable], 10)).rejects.toThrow(TypeError);
    await expect(wait([])).rejects.toThrow(ValueError);
    expect(await wait([], 5)).toEqual([]);
    w.close();
  });
});
