import { afterEach, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import net from 'node:net';
import {
  AuthenticationError,
  CHALLENGE,
  Client,
  Connection,
  FAILURE,
  Listener,
  Pipe,
  WELCOME,
  answerChallenge,
  defaultAuthkey,
  deliverChallenge,
  setDefaultAuthkeyProvider,
} from '../src/index.js';

const K = Buffer.from('secret');
const range = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => i));
const opened: Connection[] = [];
function pipe(): [Connection, Connection] {
  const ends = Pipe();
  opened.push(...ends);
  return ends;
}
afterEach(() => {
  for (const c of opened.splice(0)) c.close();
  setDefaultAuthkeyProvider(undefined);
});

describe('answerChallenge (test vectors of CPython 3.11.7 and 3.13.0)', () => {
  it('answers a legacy 20-byte challenge with a bare HMAC-MD5', async () => {
    const [us, peer] = pipe();
    const answering = answerChallenge(us, K);
    peer.sendBytes(Buffer.concat([CHALLENGE, range(20)]));
    expect((await peer.recvBytes()).toString('hex')).toBe('7defa9cc46abc3583325d17ccda75190');
    peer.sendBytes(WELCOME);
    await answering;
  });

  it('answers a {sha256} challenge with {sha256} + HMAC-SHA256 over the whole message', async () => {
    const [us, peer] = pipe();
    const answering = answerChallenge(us, K);
    peer.sendBytes(Buffer.concat([CHALLENGE, Buffer.from('{sha256}'), range(40)]));
    const response = await peer.recvBytes();
    expect(response.subarray(0, 8).toString()).toBe('{sha256}');
    expect(response.subarray(8).toString('hex')).toBe('fc57fbe650d6124b98215e7b5d197d5807ad69982d275a9735ea2d56f1fa6989');
    peer.sendBytes(WELCOME);
    await answering;
  });

  it.each([
    ['md5', 'md5'],
    ['sha384', 'sha384'],
    ['sha3_256', 'sha3-256'],
    ['sha3_384', 'sha3-384'],
  ])('answers a {%s} challenge with the same digest', async (name, nodeName) => {
    const [us, peer] = pipe();
    const answering = answerChallenge(us, K);
    const message = Buffer.concat([Buffer.from(`{${name}}`), range(40)]);
    peer.sendBytes(Buffer.concat([CHALLENGE, message]));
    const response = await peer.recvBytes();
    const expected = Buffer.concat([Buffer.from(`{${name}}`), createHmac(nodeName, K).update(message).digest()]);
    expect(response.equals(expected)).toBe(true);
    peer.sendBytes(WELCOME);
    await answering;
  });

  it('refuses what is not a challenge, a short challenge, an unknown digest, and a #FAILURE#', async () => {
    const cases: Array<[Buffer, RegExp]> = [
      [Buffer.from('hello'), /Protocol error, expected challenge/],
      [Buffer.concat([CHALLENGE, range(19)]), /challenge too short/],
      [Buffer.concat([CHALLENGE, Buffer.from('{sha512}'), range(40)]), /unsupported digest/],
      [Buffer.concat([CHALLENGE, range(41)]), /missing digest prefix/],
    ];
    for (const [challenge, message] of cases) {
      const [us, peer] = pipe();
      const answering = answerChallenge(us, K);
      peer.sendBytes(challenge);
      await expect(answering).rejects.toThrow(message);
    }
    const [us, peer] = pipe();
    const answering = answerChallenge(us, K);
    peer.sendBytes(Buffer.concat([CHALLENGE, range(20)]));
    await peer.recvBytes();
    peer.sendBytes(FAILURE);
    await expect(answering).rejects.toThrow(new AuthenticationError('digest sent was rejected: the other end does not have the same authkey'));
  });
});

describe('deliverChallenge', () => {
  async function challenge(reply: (message: Buffer) => Buffer): Promise<{ result: Promise<void>; verdict: Buffer }> {
    const [us, peer] = pipe();
    const result = deliverChallenge(us, K);
    result.catch(() => undefined);
    const frame = await peer.recvBytes();
    expect(frame.subarray(0, 11).equals(CHALLENGE)).toBe(true);
    const message = frame.subarray(11);
    expect(message.length).toBe(48);
    expect(message.subarray(0, 8).toString()).toBe('{sha256}');
    peer.sendBytes(reply(message));
    return { result, verdict: await peer.recvBytes() };
  }

  it('sends #CHALLENGE#{sha256} + 40 random bytes and welcomes a right answer', async () => {
    const { result, verdict } = await challenge((m) =>
      Buffer.concat([Buffer.from('{sha256}'), createHmac('sha256', K).update(m).digest()]),
    );
    expect(verdict.equals(WELCOME)).toBe(true);
    await result;
  });

  it('accepts the bare 16-byte HMAC-MD5 of CPython <= 3.11 and other allowed digests', async () => {
    const legacy = await challenge((m) => createHmac('md5', K).update(m).digest());
    expect(legacy.verdict.equals(WELCOME)).toBe(true);
    await legacy.result;
    const sha384 = await challenge((m) => Buffer.concat([Buffer.from('{sha384}'), createHmac('sha384', K).update(m).digest()]));
    expect(sha384.verdict.equals(WELCOME)).toBe(true);
    await sha384.result;
  });

  it('answers #FAILURE# and throws on a wrong MAC, a wrong length or a missing prefix', async () => {
    const wrongKey = await challenge((m) => Buffer.concat([Buffer.from('{sha256}'), createHmac('sha256', 'other').update(m).digest()]));
    expect(wrongKey.verdict.equals(FAILURE)).toBe(true);
    await expect(wrongKey.result).rejects.toThrow(/digest received was wrong/);
    const short = await challenge((m) => Buffer.concat([Buffer.from('{sha256}'), createHmac('sha256', K).update(m).digest().subarray(1)]));
    expect(short.verdict.equals(FAILURE)).toBe(true);
    await expect(short.result).rejects.toThrow(/expected "sha256" of length 32 got 31/);
    const bare = await challenge(() => Buffer.alloc(32));
    expect(bare.verdict.equals(FAILURE)).toBe(true);
    await expect(bare.result).rejects.toThrow(AuthenticationError);
  });

  it('two mpjs ends authenticate each other with the same key, and fail with different keys', async () => {
    const [a, b] = pipe();
    await Promise.all([deliverChallenge(a, 'k'), answerChallenge(b, 'k')]);
    const [c, d] = pipe();
    const results = await Promise.allSettled([deliverChallenge(c, 'k'), answerChallenge(d, 'not k')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(AuthenticationError);
  });
});

describe('authkeys of Listener and Client', () => {
  it('a wrong key fails on both sides and closes both connections', async () => {
    const listener = await new Listener({ address: ['127.0.0.1', 0], authkey: Buffer.from('right') }).ready();
    const [server, client] = await Promise.allSettled([
      listener.accept(),
      Client(listener.address, { authkey: Buffer.from('wrong') }),
    ]);
    expect(server.status).toBe('rejected');
    expect(client.status).toBe('rejected');
    expect((server as PromiseRejectedResult).reason).toBeInstanceOf(AuthenticationError);
    expect((client as PromiseRejectedResult).reason).toBeInstanceOf(AuthenticationError);
    expect(String((client as PromiseRejectedResult).reason)).toMatch(/digest sent was rejected/);
    listener.close();
  });

  it('authenticate: true uses the current process authkey on both sides', async () => {
    const provided = Buffer.alloc(32, 9);
    setDefaultAuthkeyProvider(() => provided);
    expect(defaultAuthkey().equals(provided)).toBe(true);
    const listener = await new Listener({ address: ['127.0.0.1', 0], authenticate: true }).ready();
    const [server, client] = await Promise.all([listener.accept(), Client(listener.address, { authkey: provided })]);
    client.send('authenticated');
    expect(await server.recv()).toBe('authenticated');
    server.close();
    client.close();
    const failing = Promise.allSettled([listener.accept(), Client(listener.address, { authkey: 'other' })]);
    expect((await failing).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    listener.close();
  });

  it('a Listener also serves a client that waits for each verdict before its own challenge (as CPython does)', async () => {
    const listener = await new Listener({ address: ['127.0.0.1', 0], authkey: 'k' }).ready();
    const [, port] = listener.address as [string, number];
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const client = new Connection(socket);
    opened.push(client);
    const [server] = await Promise.all([
      listener.accept(),
      (async () => {
        await answerChallenge(client, 'k');
        await deliverChallenge(client, 'k');
      })(),
    ]);
    opened.push(server);
    server.send('sequential ok');
    expect(await client.recv()).toBe('sequential ok');
    listener.close();
  });

  it('reads the current process authkey that @mpjs/process publishes', () => {
    const slot = Symbol.for('mpjs.authkey');
    const published = Buffer.alloc(32, 4);
    Object.defineProperty(globalThis, slot, { configurable: true, get: () => published });
    try {
      expect(defaultAuthkey().equals(published)).toBe(true);
      setDefaultAuthkeyProvider(() => Buffer.alloc(32, 5));
      expect(defaultAuthkey()[0]).toBe(5);
    } finally {
      delete (globalThis as Record<symbol, unknown>)[slot];
    }
  });

  it('without a provider the default key is 32 random bytes, the same for the whole process', () => {
    const key = defaultAuthkey();
    expect(key.length).toBe(32);
    expect(defaultAuthkey().equals(key)).toBe(true);
  });

  it('an empty key still runs the handshake (CPython 3.13 behaviour)', async () => {
    const listener = await new Listener({ address: ['127.0.0.1', 0], authkey: '' }).ready();
    const [server, client] = await Promise.allSettled([listener.accept(), Client(listener.address, { authkey: 'x' })]);
    expect([server.status, client.status]).toEqual(['rejected', 'rejected']);
    listener.close();
  });

  it('rejects keys of the wrong type', () => {
    expect(() => new Listener({ authkey: 42 as unknown as string })).toThrow(TypeError);
  });
});
