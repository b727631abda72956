import { afterAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { collect, eventually, spawnFixture } from '@mpjs/test-utils';
import { Process } from '@mpjs/process';
import { marker, processesWith } from './helpers.js';
import { AuthenticationError, Manager, ProcessError, SyncManager } from '../src/index.js';
import { QueueManager } from './fixtures/queue-manager.js';
import { putInQueue } from './fixtures/targets.js';

const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill();
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
});

function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawnFixture(new URL('./fixtures/remote-server.ts', import.meta.url).pathname);
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /port (\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

describe('remote manager', () => {
  it('the spec remote queue example works across three processes; a wrong key is refused', async () => {
    const { child, port } = await startServer();
    const address: [string, number] = ['127.0.0.1', port];

    const wrong = new QueueManager({ address, authkey: 'wrong key' });
    await expect(wrong.connect()).rejects.toThrow(AuthenticationError);

    const m = new QueueManager({ address, authkey: 'abracadabra' });
    await m.connect();
    const queue = await m.get_queue();
    // Another process puts through its own copy of the proxy.
    const p = new Process({ target: putInQueue, args: [queue, 'hello'] });
    p.start();
    await p.join();
    expect(p.exitcode).toBe(0);
    expect(await queue.get()).toBe('hello');
    expect(await queue.qsize()).toBe(0);

    // A second client sees the same queue.
    const other = new QueueManager({ address, authkey: Buffer.from('abracadabra') });
    await other.connect();
    const q2 = await other.get_queue();
    await q2.put('again');
    expect(await queue.get(true, 1000)).toBe('again');

    await m.shutdown();
    await expect(m.get_queue()).rejects.toThrow(ProcessError);
    await other.shutdown();
    child.kill();
    await collect(child).catch(() => undefined);
  });

  it("address ['', port] listens on every interface, as Python's ('', 50000)", async () => {
    await using m = await Manager({ address: ['', 0] });
    const [host, port] = m.address as [string, number];
    expect(host).toBe('0.0.0.0');
    const client = new SyncManager({ address: ['127.0.0.1', port] });
    await client.connect();
    const l = await client.list([1, 2]);
    expect(await l.length()).toBe(2);
    await client.shutdown();
  });
});
