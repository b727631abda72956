/**
 * Interop with real CPython: a CPython Listener accepts an mpjs Client and an
 * mpjs Listener accepts a CPython Client, with the same authkey, exchanging
 * raw messages from 0 B to several MiB; with a wrong key both sides fail.
 * Runs for every CPython 3.10–3.13 installed under pyenv (3.10/3.11 speak the
 * legacy MD5 handshake, 3.12+ the {sha256} one).
 */
import { describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collect } from '@mpjs/test-utils';
import { AuthenticationError, Client, Listener, type Address } from '../src/index.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const pythons = ['3.10.13', '3.11.7', '3.12.1', '3.13.0']
  .map((v) => [v, join(homedir(), '.pyenv', 'versions', v, 'bin', 'python')] as const)
  .filter(([, path]) => existsSync(path));
const SIZES = [0, 1, 255, 4096, 65_537, 1024 * 1024, 5 * 1024 * 1024];
const KEY = Buffer.from('interop secret key');

function pattern(size: number, seed: number): Buffer {
  const block = Buffer.from(Array.from({ length: Math.min(size, 4096) }, (_, i) => (i * 31 + seed) & 0xff));
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += block.length) block.copy(out, i);
  return out;
}

function python(exe: string, script: string, args: string[]): ChildProcess {
  return spawn(exe, [join(fixtures, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Reads the first stdout line of a child (the Python listener's address). */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      const newline = buffered.indexOf('\n');
      if (newline >= 0) {
        child.stdout!.off('data', onData);
        child.stdout!.unshift(Buffer.from(buffered.slice(newline + 1)));
        resolve(buffered.slice(0, newline));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`python exited (${code}) before printing its address`)));
  });
}

it('finds at least one CPython to test against', () => {
  expect(pythons.length).toBeGreaterThan(0);
});

describe.each(pythons)('CPython %s', (_version, exe) => {
  it.each(['tcp', 'unix'])('a CPython Listener (%s) accepts an mpjs Client and echoes 0 B to 5 MiB', async (kind) => {
    const dir = mkdtempSync(join(tmpdir(), 'mpjs-interop-'));
    try {
      const child = python(exe, 'py_listener.py', [kind, KEY.toString('hex'), join(dir, 'sock')]);
      const done = collect(child, 20_000);
      const address = JSON.parse(await firstLine(child)) as Address;
      const conn = await Client(address, { authkey: KEY });
      for (const [seed, size] of SIZES.entries()) {
        const data = pattern(size, seed);
        conn.sendBytes(data);
        const back = await conn.recvBytes();
        expect(back.length).toBe(size);
        expect(back.equals(data)).toBe(true);
      }
      conn.close();
      const result = await done;
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain(`echoed ${SIZES.length}`);
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an mpjs Listener accepts a CPython Client and echoes 0 B to 5 MiB', async () => {
    const listener = await new Listener({ address: ['127.0.0.1', 0], authkey: KEY }).ready();
    const child = python(exe, 'py_client.py', [JSON.stringify(listener.address), KEY.toString('hex'), SIZES.join(',')]);
    const done = collect(child, 20_000);
    const conn = await listener.accept();
    let echoed = 0;
    for (;;) {
      let data: Buffer;
      try {
        data = await conn.recvBytes();
      } catch {
        break;
      }
      conn.sendBytes(data);
      echoed += 1;
    }
    conn.close();
    listener.close();
    const result = await done;
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(`ok ${SIZES.length}`);
    expect(result.code).toBe(0);
    expect(echoed).toBe(SIZES.length);
  });

  it('with a wrong key, a CPython Listener and an mpjs Client both fail to authenticate', async () => {
    const child = python(exe, 'py_listener.py', ['tcp', Buffer.from('the right key').toString('hex')]);
    const done = collect(child, 20_000);
    const address = JSON.parse(await firstLine(child)) as Address;
    await expect(Client(address, { authkey: 'a wrong key' })).rejects.toBeInstanceOf(AuthenticationError);
    const result = await done;
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/AuthenticationError: digest received was wrong/);
  });

  it('with a wrong key, an mpjs Listener and a CPython Client both fail to authenticate', async () => {
    const listener = await new Listener({ address: ['127.0.0.1', 0], authkey: 'the right key' }).ready();
    const child = python(exe, 'py_client.py', [
      JSON.stringify(listener.address),
      Buffer.from('a wrong key').toString('hex'),
      '',
    ]);
    const done = collect(child, 20_000);
    await expect(listener.accept()).rejects.toBeInstanceOf(AuthenticationError);
    listener.close();
    const result = await done;
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/AuthenticationError: digest sent was rejected/);
  });
});
