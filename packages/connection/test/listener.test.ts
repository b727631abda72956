import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client, Listener, ProtocolError, ValueError, addressType } from '../src/index.js';

describe('address formats', () => {
  it('infers the family as Python does', () => {
    expect(addressType(['127.0.0.1', 6000])).toBe('AF_INET');
    expect(addressType('/tmp/socket')).toBe('AF_UNIX');
    expect(addressType('\0abstract')).toBe('AF_UNIX');
    expect(addressType('\\\\.\\pipe\\name')).toBe('AF_PIPE');
    expect(() => addressType(6000 as unknown as string)).toThrow(ValueError);
  });

  it('rejects AF_PIPE here, unknown families, and addresses that do not match the family', () => {
    expect(() => new Listener({ address: '\\\\.\\pipe\\x' })).toThrow(/AF_PIPE/);
    expect(() => new Listener({ family: 'AF_BLUETOOTH' as 'AF_INET' })).toThrow(/not recognized/);
    expect(() => new Listener({ address: '/tmp/x', family: 'AF_INET' })).toThrow(/is an AF_UNIX address/);
    expect(() => new Listener({ address: ['127.0.0.1', 70000] })).toThrow(/port must be/);
    expect(() => new Listener({ backlog: -1 })).toThrow(/backlog/);
  });
});

describe('Listener and Client over TCP', () => {
  it('port 0 picks a free port that address then reports; lastAccepted is the peer', async () => {
    const listener = new Listener({ address: ['127.0.0.1', 0] });
    // An IP address binds at once, as in Python: the port is known before ready().
    expect((listener.address as [string, number])[1]).toBeGreaterThan(0);
    await listener.ready();
    const [host, port] = listener.address as [string, number];
    expect(host).toBe('127.0.0.1');
    expect(port).toBeGreaterThan(0);
    expect(listener.family).toBe('AF_INET');
    expect(listener.lastAccepted).toBeNull();
    const [server, client] = await Promise.all([listener.accept(), Client(['127.0.0.1', port])]);
    const [peerHost, peerPort] = listener.lastAccepted as [string, number];
    expect(peerHost).toBe('127.0.0.1');
    expect(peerPort).toBeGreaterThan(0);
    client.send({ hello: 'server' });
    expect(await server.recv()).toEqual({ hello: 'server' });
    server.sendBytes(Buffer.alloc(3 * 1024 * 1024, 5));
    expect((await client.recvBytes()).length).toBe(3 * 1024 * 1024);
    client.close();
    await expect(server.recv()).rejects.toThrow(/end of file/);
    server.close();
    listener.close();
  });

  it("'localhost' means IPv4 on both sides, as in CPython", async () => {
    const listener = await new Listener({ address: ['localhost', 0] }).ready();
    const [host, port] = listener.address as [string, number];
    expect(host).toBe('127.0.0.1');
    const [server, client] = await Promise.all([listener.accept(), Client(['localhost', port])]);
    server.send('v4');
    expect(await client.recv()).toBe('v4');
    server.close();
    client.close();
    listener.close();
  });

  it("host '' listens on every interface, as Python's ('', port) does; a Client given '' reaches this machine", async () => {
    const listener = await new Listener({ address: ['', 0] }).ready();
    const [host, port] = listener.address as [string, number];
    expect(host).toBe('0.0.0.0');
    for (const address of [['127.0.0.1', port], ['', port]] as const) {
      const [server, client] = await Promise.all([listener.accept(), Client(address)]);
      server.send(address[0]);
      expect(await client.recv()).toBe(address[0]);
      server.close();
      client.close();
    }
    listener.close();
  });

  it('family AF_INET without an address listens on 127.0.0.1 with a free port', async () => {
    const listener = await new Listener({ family: 'AF_INET' }).ready();
    expect((listener.address as [string, number])[0]).toBe('127.0.0.1');
    listener.close();
  });

  it('an address in use is a clear error from ready() and accept()', async () => {
    const first = await new Listener({ address: ['127.0.0.1', 0] }).ready();
    const second = new Listener({ address: first.address });
    await expect(second.ready()).rejects.toThrow(/address is in use/);
    await expect(second.accept()).rejects.toThrow(ProtocolError);
    second.close();
    first.close();
  });

  it('Client to a port nobody listens on says so', async () => {
    const listener = await new Listener({ address: ['127.0.0.1', 0] }).ready();
    const address = listener.address;
    listener.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(Client(address)).rejects.toThrow(/ECONNREFUSED.*is a Listener running there\?/);
  });

  it('accept() rejects once the listener is closed, pending or not', async () => {
    const listener = await new Listener({ address: ['127.0.0.1', 0] }).ready();
    const pending = listener.accept();
    listener.close();
    await expect(pending).rejects.toThrow(new ProtocolError('listener is closed'));
    await expect(listener.accept()).rejects.toThrow(/listener is closed/);
    expect(listener.closed).toBe(true);
  });

  it('connections that arrive before accept() wait for it, in order', async () => {
    const listener = await new Listener({ address: ['127.0.0.1', 0], backlog: 4 }).ready();
    const clients = await Promise.all([Client(listener.address), Client(listener.address)]);
    clients[0]!.send('first');
    clients[1]!.send('second');
    const got = [];
    for (let i = 0; i < 2; i++) {
      const conn = await listener.accept();
      got.push(await conn.recv());
      conn.close();
    }
    expect(got.sort()).toEqual(['first', 'second']);
    for (const c of clients) c.close();
    listener.close();
  });
});

describe('a listener whose queue is full', () => {
  it('makes AF_UNIX clients wait for room, as a blocking connect does, instead of failing', async () => {
    using listener = await new Listener({ backlog: 1 }).ready();
    // Far more clients than the queue holds, all connecting before anything is accepted.
    const clients = Array.from({ length: 20 }, (_, i) =>
      Client(listener.address).then((client) => {
        client.send(i);
        return client;
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const accepted = (async () => {
      const got: number[] = [];
      for (let i = 0; i < clients.length; i++) {
        const conn = await listener.accept();
        got.push((await conn.recv()) as number);
        conn.close();
      }
      return got;
    })();
    accepted.catch(() => undefined); // a failed client leaves accept() waiting until the listener closes
    for (const client of await Promise.all(clients)) client.close();
    expect((await accepted).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});

describe('accepted connections', () => {
  it.each([['AF_UNIX'], ['AF_INET']] as const)(
    'read no further than the message asked for; the rest stays in the socket (%s)',
    async (family) => {
      using listener = await new Listener({ family }).ready();
      const client = await Client(listener.address);
      const conn = await listener.accept();
      client.sendBytes(Buffer.from('one'));
      client.sendBytes(Buffer.from('two'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await conn.recvBytes()).toString()).toBe('one');
      // The second frame was not taken from the kernel: another reader can have it.
      const raw = Buffer.alloc(64);
      const n = readSync(conn.fileno(), raw);
      expect(raw.subarray(0, n)).toEqual(Buffer.from([0, 0, 0, 3, ...Buffer.from('two')]));
      conn.close();
      client.close();
    },
  );
});

describe('Listener and Client over AF_UNIX', () => {
  it('with no address, uses a fresh path in a private 0700 directory, removed on close', async () => {
    const listener = await new Listener().ready();
    const path = listener.address as string;
    expect(listener.family).toBe('AF_UNIX');
    expect(typeof path).toBe('string');
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    expect(existsSync(path)).toBe(true);
    const [server, client] = await Promise.all([listener.accept(), Client(path)]);
    expect(listener.lastAccepted).toBe('');
    server.send('over unix');
    expect(await client.recv()).toBe('over unix');
    server.close();
    client.close();
    listener.close();
    expect(existsSync(path)).toBe(false);
    expect(existsSync(dirname(path))).toBe(false);
  });

  it('binds a given path, authenticates, and unlinks the path on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpjs-test-'));
    const path = join(dir, 'sock');
    try {
      const listener = await new Listener({ address: path, authkey: 'secret' }).ready();
      expect(listener.address).toBe(path);
      const [server, client] = await Promise.all([listener.accept(), Client(path, { authkey: 'secret' })]);
      client.sendBytes(Buffer.from('ping'));
      expect((await server.recvBytes()).toString()).toBe('ping');
      server.close();
      client.close();
      listener.close();
      expect(existsSync(path)).toBe(false);
      // Binding over an existing file fails, as in Python.
      writeFileSync(path, '');
      await expect(new Listener({ address: path }).ready()).rejects.toThrow(/cannot listen on/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('supports Linux abstract names', async () => {
    const name = `\0mpjs-test-${process.pid}-${Date.now()}`;
    const listener = await new Listener({ address: name }).ready();
    const [server, client] = await Promise.all([listener.accept(), Client(name)]);
    client.send('abstract');
    expect(await server.recv()).toBe('abstract');
    server.close();
    client.close();
    listener.close();
  });

  it('closes at the end of a using scope', async () => {
    let path: string;
    {
      using listener = await new Listener().ready();
      path = listener.address as string;
      expect(existsSync(path)).toBe(true);
    }
    expect(existsSync(path)).toBe(false);
  });
});
