/**
 * A peer that does not follow the protocol: raw sockets write garbage headers,
 * absurd lengths, or close mid-message. Every case must end in a clear error,
 * never a hang or a huge allocation.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import {
  AuthenticationError,
  Client,
  Connection,
  EOFError,
  Listener,
  ProtocolError,
} from '../src/index.js';

let listener: Listener;
let port: number;

beforeEach(async () => {
  listener = await new Listener({ address: ['127.0.0.1', 0] }).ready();
  port = (listener.address as [string, number])[1];
});

afterEach(() => listener.close());

/** Connects a raw socket, lets it write `bytes` (then optionally close), and returns the accepted Connection. */
async function rawPeer(bytes: Buffer, close = true): Promise<{ conn: Connection; raw: net.Socket }> {
  const raw = net.connect(port, '127.0.0.1');
  const conn = await listener.accept();
  raw.write(bytes);
  if (close) raw.end();
  return { conn, raw };
}

describe('a misbehaving peer', () => {
  it('a negative length header is a protocol error', async () => {
    const { conn, raw } = await rawPeer(Buffer.from('fffffffe00', 'hex'));
    await expect(conn.recvBytes()).rejects.toThrow(ProtocolError);
    conn.close();
    raw.destroy();
  });

  it('text that is not a frame (an HTTP request) announces an absurd length and is refused', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const { conn, raw } = await rawPeer(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), false);
    const error = await conn.recv().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toMatch(/1195725856 bytes, more than this connection's limit/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
    conn.close();
    raw.destroy();
  });

  it('a length just under the limit is not allocated up front; the close mid-message is reported', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const header = Buffer.alloc(4);
    header.writeInt32BE(2 ** 30 - 1);
    const { conn, raw } = await rawPeer(Buffer.concat([header, Buffer.alloc(1000)]));
    const error = await conn.recvBytes().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toMatch(/got end of file during message/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    conn.close();
    raw.destroy();
  });

  it.each([
    ['inside the header', '0000'],
    ['inside the 8-byte extension', 'ffffffff0000'],
    ['right after a complete header', '00000005'],
    ['inside the payload', '00000005abcd'],
  ])('a close %s is a truncated message (ProtocolError)', async (_where, hex) => {
    const { conn, raw } = await rawPeer(Buffer.from(hex, 'hex'));
    const error = await conn.recvBytes().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toMatch(/got end of file during message/);
    conn.close();
    raw.destroy();
  });

  it('a close between frames is a clean EOFError, after the complete messages', async () => {
    const { conn, raw } = await rawPeer(Buffer.from('00000002686900000000', 'hex'));
    expect((await conn.recvBytes()).toString()).toBe('hi');
    expect((await conn.recvBytes()).length).toBe(0);
    await expect(conn.recvBytes()).rejects.toBeInstanceOf(EOFError);
    conn.close();
    raw.destroy();
  });

  it('accepts the 12-byte length form for small messages, as CPython does', async () => {
    const { conn, raw } = await rawPeer(Buffer.from('ffffffff0000000000000003787a79', 'hex'));
    expect((await conn.recvBytes()).toString()).toBe('xzy');
    conn.close();
    raw.destroy();
  });

  it('a peer that resets the connection between frames ends it with EOFError', async () => {
    const { conn, raw } = await rawPeer(Buffer.from('00000001ff', 'hex'), false);
    expect((await conn.recvBytes())[0]).toBe(0xff);
    await new Promise((resolve) => setTimeout(resolve, 20));
    raw.resetAndDestroy();
    await expect(conn.recvBytes()).rejects.toBeInstanceOf(EOFError);
    conn.close();
  });
});

describe('a misbehaving peer during the handshake', () => {
  /** A raw server that answers each connection with `reply`. */
  async function rawServer(reply: Buffer, close: boolean): Promise<{ server: net.Server; port: number }> {
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.write(reply);
      if (close) socket.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as net.AddressInfo).port };
  }

  it('a challenge over 256 bytes is refused with "bad message length"', async () => {
    const big = Buffer.concat([Buffer.from('0000012c', 'hex'), Buffer.from('#CHALLENGE#'), Buffer.alloc(289)]);
    const { server, port: p } = await rawServer(big, false);
    await expect(Client(['127.0.0.1', p], { authkey: 'key' })).rejects.toThrow(/bad message length/);
    server.close();
  });

  it('a first message that is not a challenge is an AuthenticationError', async () => {
    const { server, port: p } = await rawServer(Buffer.from('0000000568656c6c6f', 'hex'), false);
    await expect(Client(['127.0.0.1', p], { authkey: 'key' })).rejects.toThrow(AuthenticationError);
    server.close();
  });

  it('a server that hangs up during the handshake gives EOFError', async () => {
    const { server, port: p } = await rawServer(Buffer.alloc(0), true);
    await expect(Client(['127.0.0.1', p], { authkey: 'key' })).rejects.toBeInstanceOf(EOFError);
    server.close();
  });

  it('a Listener with a key drops clients that send garbage and keeps serving', async () => {
    const secured = await new Listener({ address: ['127.0.0.1', 0], authkey: 'key' }).ready();
    const [, securedPort] = secured.address as [string, number];
    const raw = net.connect(securedPort, '127.0.0.1');
    raw.on('error', () => undefined);
    raw.on('data', () => raw.write(Buffer.from('7fffffff', 'hex')));
    await expect(secured.accept()).rejects.toThrow(/bad message length/);
    raw.destroy();
    const [server, client] = await Promise.all([secured.accept(), Client(['127.0.0.1', securedPort], { authkey: 'key' })]);
    client.send('fine');
    expect(await server.recv()).toBe('fine');
    server.close();
    client.close();
    secured.close();
  });
});
