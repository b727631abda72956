/**
 * `{ signal }` on every wait of this package (API rule 4): `recv`,
 * `recvBytes`, `recvBytesInto`, `poll`, `wait` and `Listener.accept`. An
 * abort rejects with the signal's reason (an already aborted signal at
 * once), loses nothing, and leaves nothing attached.
 */
import { describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { writeSync } from 'node:fs';
import { closeFd, pollFd, socketpair } from '@mpjs/native';
import { Client, Connection, encodeHeader, Listener, Pipe, ProtocolError, wait } from '../src/index.js';

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Aborts with `reason` after `ms`. */
function abortAfter(ms: number, reason: unknown = new Error('aborted by the test')): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(reason), ms);
  return controller.signal;
}

describe('receives with { signal }', () => {
  it.each([
    ['recv', (c: Connection, signal: AbortSignal) => c.recv({ signal })],
    ['recvBytes(options)', (c: Connection, signal: AbortSignal) => c.recvBytes({ signal })],
    ['recvBytes(maxlength, options)', (c: Connection, signal: AbortSignal) => c.recvBytes(100, { signal })],
    ['recvBytesInto(buffer, options)', (c: Connection, signal: AbortSignal) => c.recvBytesInto(Buffer.alloc(100), { signal })],
    ['recvBytesInto(buffer, offset, options)', (c: Connection, signal: AbortSignal) => c.recvBytesInto(Buffer.alloc(100), 2, { signal })],
  ])('%s rejects with the reason, and the next receive gets the message sent afterwards', async (_name, receive) => {
    const [a, b] = Pipe();
    try {
      const reason = new Error('stop waiting');
      const started = performance.now();
      await expect(receive(b, abortAfter(40, reason))).rejects.toBe(reason);
      expect(performance.now() - started).toBeGreaterThanOrEqual(30);
      a.sendBytes(Buffer.from('"kept"'));
      expect((await b.recvBytes()).toString()).toBe('"kept"');
      // Nothing else was taken or left behind.
      expect(await b.poll()).toBe(false);
    } finally {
      a.close();
      b.close();
    }
  });

  it('an aborted signal rejects at once and takes nothing, even with a message waiting', async () => {
    const [a, b] = Pipe();
    try {
      a.send('waiting');
      const reason = new Error('already');
      const signal = AbortSignal.abort(reason);
      await expect(b.recv({ signal })).rejects.toBe(reason);
      await expect(b.recvBytes({ signal })).rejects.toBe(reason);
      await expect(b.recvBytesInto(Buffer.alloc(10), { signal })).rejects.toBe(reason);
      await expect(b.poll(null, { signal })).rejects.toBe(reason);
      expect(await b.recv()).toBe('waiting');
    } finally {
      a.close();
      b.close();
    }
  });

  it('abort() without a reason rejects with the AbortError DOMException the signal carries', async () => {
    const [a, b] = Pipe();
    try {
      const controller = new AbortController();
      const pending = b.recv({ signal: controller.signal });
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      await expect(b.recv({ signal: AbortSignal.timeout(20) })).rejects.toMatchObject({ name: 'TimeoutError' });
    } finally {
      a.close();
      b.close();
    }
  });

  it('keeps a message that was half read when the abort came, and the next recv gets all of it', async () => {
    // A raw peer writes the header and part of the payload, then the rest after the abort.
    const [fd, peer] = socketpair();
    const conn = new Connection(fd);
    try {
      const payload = Buffer.from('0123456789abcdef');
      const controller = new AbortController();
      const pending = conn.recvBytes({ signal: controller.signal });
      writeSync(peer, Buffer.concat([encodeHeader(payload.length), payload.subarray(0, 6)]));
      // Let the connection read what is there (the header and six bytes).
      await tick(30);
      controller.abort(new Error('half way'));
      await expect(pending).rejects.toThrow('half way');
      // The connection had taken those bytes from the kernel: they are kept in it, not lost.
      expect(pollFd(fd)).toBe(0);
      writeSync(peer, payload.subarray(6));
      expect((await conn.recvBytes()).toString()).toBe('0123456789abcdef');
    } finally {
      conn.close();
      closeFd(peer);
    }
  });

  it('a later receiver in line is served in order after an earlier one is aborted', async () => {
    const [a, b] = Pipe();
    try {
      const controller = new AbortController();
      const first = b.recv({ signal: controller.signal });
      const second = b.recv();
      const third = b.recv();
      controller.abort(new Error('first gives up'));
      await expect(first).rejects.toThrow('first gives up');
      a.send('one');
      a.send('two');
      expect(await second).toBe('one');
      expect(await third).toBe('two');
    } finally {
      a.close();
      b.close();
    }
  });

  it('a receiver already served keeps its message when the signal aborts right after', async () => {
    const [a, b] = Pipe();
    try {
      const controller = new AbortController();
      const pending = b.recv({ signal: controller.signal });
      a.send('arrived');
      // Served by the read that follows the send; the abort comes once it is.
      await tick(20);
      controller.abort();
      expect(await pending).toBe('arrived');
    } finally {
      a.close();
      b.close();
    }
  });

  it('works on a Connection over a net.Socket', async () => {
    const [fd, peer] = socketpair();
    const socket = new net.Socket({ fd, readable: true, writable: true });
    const conn = new Connection(socket);
    const other = new Connection(peer);
    try {
      const reason = new Error('socket abort');
      await expect(conn.recv({ signal: abortAfter(30, reason) })).rejects.toBe(reason);
      other.send({ after: 'abort' });
      expect(await conn.recv()).toEqual({ after: 'abort' });
    } finally {
      conn.close();
      other.close();
    }
  });

  it('an aborted wait lets a program end: nothing is left watching', async () => {
    const { spawnSync } = await import('node:child_process');
    const entry = new URL('../dist/index.js', import.meta.url).href;
    const code = `
      import { Pipe } from ${JSON.stringify(entry)};
      const [a, b] = Pipe();
      const controller = new AbortController();
      const pending = b.recv({ signal: controller.signal }).catch((e) => console.log('recv:', e.message));
      const polled = b.poll(null, { signal: controller.signal }).catch((e) => console.log('poll:', e.message));
      setTimeout(() => controller.abort(new Error('gone')), 50);
      await Promise.all([pending, polled]);
      console.log('end');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 10_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('recv: gone\npoll: gone\nend\n');
    expect(r.status).toBe(0);
  });

  it('checks the options', async () => {
    const [a, b] = Pipe();
    try {
      await expect(b.recv({ signal: 'no' as unknown as AbortSignal })).rejects.toThrow(/recv: "signal" must be an AbortSignal/);
      await expect(b.recv(5 as never)).rejects.toThrow(/recv: options must be an object such as \{ signal \}/);
      await expect(b.recvBytes({ signal: {} as AbortSignal })).rejects.toThrow(TypeError);
      await expect(b.recvBytes({} as never, {})).rejects.toThrow(/give the options once/);
      await expect(b.recvBytesInto(Buffer.alloc(1), 0, { signal: 1 as never })).rejects.toThrow(/recvBytesInto: "signal"/);
      await expect(b.poll(0, { signal: 'x' as never })).rejects.toThrow(/poll: "signal"/);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('poll() with { signal }', () => {
  it('rejects with the reason while it waits, with null or a timeout, or the timeout in the options', async () => {
    const [a, b] = Pipe();
    try {
      const reason = new Error('poll abort');
      await expect(b.poll(null, { signal: abortAfter(20, reason) })).rejects.toBe(reason);
      await expect(b.poll(5_000, { signal: abortAfter(20, reason) })).rejects.toBe(reason);
      await expect(b.poll({ timeout: null, signal: abortAfter(20, reason) })).rejects.toBe(reason);
      // Without a timeout in the options it only checks, as poll() does.
      expect(await b.poll({ signal: abortAfter(1000) })).toBe(false);
      expect(await b.poll({ timeout: 20 })).toBe(false);
      a.send('x');
      expect(await b.poll(null, { signal: new AbortController().signal })).toBe(true);
      expect(await b.recv()).toBe('x');
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('wait() with { signal }', () => {
  it('rejects with the reason, withdraws from every object, and a later wait sees what arrives', async () => {
    const [a, b] = Pipe();
    const [c, d] = Pipe();
    try {
      const reason = new Error('wait abort');
      await expect(wait([b, d], null, { signal: abortAfter(30, reason) })).rejects.toBe(reason);
      await expect(wait([b, d], { signal: abortAfter(30, reason) })).rejects.toBe(reason);
      await expect(wait([b], { timeout: 5_000, signal: abortAfter(30, reason) })).rejects.toBe(reason);
      await expect(wait([b], 0, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      // With no objects it is a sleep the signal can end.
      await expect(wait([], null, { signal: abortAfter(20, reason) })).rejects.toBe(reason);
      c.send('on d');
      expect(await wait([b, d], 1000)).toEqual([d]);
      expect(await d.recv()).toBe('on d');
    } finally {
      for (const x of [a, b, c, d]) x.close();
    }
  });

  it('checks the options', async () => {
    const [a, b] = Pipe();
    try {
      await expect(wait([b], 10, { signal: 'x' as never })).rejects.toThrow(/wait: "signal" must be an AbortSignal/);
      await expect(wait([b], { timeout: 'x' as never })).rejects.toThrow(/wait: "timeout" must be a number/);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('Listener.accept() with { signal }', () => {
  it('rejects with the reason; a client that connects afterwards is accepted by the next accept()', async () => {
    const listener = await new Listener({ address: ['127.0.0.1', 0] }).ready();
    try {
      const reason = new Error('accept abort');
      await expect(listener.accept({ signal: abortAfter(30, reason) })).rejects.toBe(reason);
      await expect(listener.accept({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      const client = await Client(listener.address);
      client.send('hello');
      const conn = await listener.accept({ signal: new AbortController().signal });
      expect(await conn.recv()).toBe('hello');
      conn.close();
      client.close();
    } finally {
      listener.close();
    }
  });

  it('an abort in the middle of the handshake disconnects that client and rejects with the reason', async () => {
    const authkey = Buffer.from('secret');
    const listener = await new Listener({ address: ['127.0.0.1', 0], authkey }).ready();
    // A client that connects but never answers the challenge.
    const silent = net.connect(listener.address[1] as number, '127.0.0.1');
    const closed = new Promise<void>((resolve) => silent.on('close', () => resolve()));
    silent.on('error', () => {});
    silent.resume();
    try {
      const reason = new Error('handshake abort');
      await expect(listener.accept({ signal: abortAfter(100, reason) })).rejects.toBe(reason);
      await closed;
      // The listener still works.
      const [client, conn] = await Promise.all([Client(listener.address, { authkey }), listener.accept()]);
      client.send('after');
      expect(await conn.recv()).toBe('after');
      client.close();
      conn.close();
    } finally {
      silent.destroy();
      listener.close();
    }
  });

  it('checks the options', async () => {
    const listener = new Listener();
    try {
      await expect(listener.accept({ signal: 5 as never })).rejects.toThrow(/accept: "signal" must be an AbortSignal/);
      await expect(listener.accept('x' as never)).rejects.toThrow(/accept: options must be an object/);
      await expect(listener.accept({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      listener.close();
    }
  });

  it('accept() after an aborted one rejects with ProtocolError once the listener is closed', async () => {
    const listener = new Listener();
    await expect(listener.accept({ signal: abortAfter(10) })).rejects.toThrow('aborted by the test');
    listener.close();
    await expect(listener.accept()).rejects.toBeInstanceOf(ProtocolError);
  });
});

describe('Client() with { signal }', () => {
  it('rejects at once with an aborted signal, and checks it', async () => {
    const listener = new Listener();
    try {
      const reason = new Error('no connect');
      await expect(Client(listener.address, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      await expect(Client(listener.address, { signal: 'x' as never })).rejects.toThrow(/Client: "signal" must be an AbortSignal/);
    } finally {
      listener.close();
    }
  });

  it('gives up waiting for room in a full AF_UNIX queue, leaving nothing behind', async () => {
    const listener = await new Listener({ backlog: 0 }).ready();
    // Fill the queue (nobody accepts), so the next client has to wait for room.
    const fillers: Connection[] = [];
    const first = Client(listener.address, { signal: AbortSignal.timeout(1_000) }).then((c) => fillers.push(c), () => undefined);
    const second = Client(listener.address, { signal: AbortSignal.timeout(1_000) }).then((c) => fillers.push(c), () => undefined);
    try {
      const reason = new Error('queue full, giving up');
      const started = performance.now();
      await expect(Client(listener.address, { signal: abortAfter(100, reason) })).rejects.toBe(reason);
      expect(performance.now() - started).toBeGreaterThanOrEqual(80);
    } finally {
      listener.close();
      await Promise.all([first, second]);
      for (const c of fillers) c.close();
    }
  });

  it('an abort during the handshake closes the connection and rejects with the reason', async () => {
    // A server that accepts and never says anything: the client waits for its challenge.
    const server = net.createServer((socket) => {
      socket.resume();
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const closed = new Promise<void>((resolve) => server.once('connection', (socket) => socket.on('close', () => resolve())));
    try {
      const reason = new Error('handshake took too long');
      await expect(Client(['127.0.0.1', port], { authkey: 'k', signal: abortAfter(100, reason) })).rejects.toBe(reason);
      await closed;
    } finally {
      server.close();
    }
  });
});
