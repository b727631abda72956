/**
 * What a process's proxies hold in a server, and when it is given back: when
 * the process ends, and when an object that holds proxies is freed; and what
 * a manager leaves on disk whichever way its parent ends.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect, eventually, runFixture, spawnFixture } from '@mpjs/test-utils';
import { Process, activeChildren } from '@mpjs/process';
import { marker, processesWith } from './helpers.js';
import { Manager } from '../src/index.js';
import { holdProxies } from './fixtures/proxy-tasks.js';

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'managers-lifetime-'));

afterAll(async () => {
  for (const child of activeChildren()) child.kill();
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
  rmSync(scratch, { recursive: true, force: true });
});

describe('references are given back when a process ends', () => {
  it('a child that held proxies gives them back when it exits', async () => {
    await using manager = await Manager();
    const holder = await manager.list([await manager.list<unknown>(['x'])]);
    const before = await manager._debugInfo();
    const child = new Process({ target: holdProxies, args: [holder] });
    child.start();
    await child.join();
    expect(child.exitcode).toBe(0);
    // Given back before the child exited: nothing is left to garbage collection.
    expect(await manager._debugInfo()).toEqual(before);
  });

  it.each(['return', 'exit'])('a remote client that ends (%s) gives back what it held; an object freed releases the proxies it held', async (mode) => {
    await using manager = await Manager();
    const before = await manager._numberOfObjects();
    const r = await runFixture(fixture('remote-client.ts'), { args: [JSON.stringify(manager.address), manager.authkey.toString('hex'), mode] });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('made\n');
    if (mode === 'return') {
      // Awaited before the client exited.
      expect(await manager._numberOfObjects()).toBe(before);
    } else {
      // process.exit(): written at exit, unanswered; the server reads them a moment later.
      expect(await eventually(async () => (await manager._numberOfObjects()) === before, 3_000)).toBe(true);
    }
  });
});

describe('the proxies inside an object that lives on', () => {
  it('a proxy put on a served queue by a client that exits stays usable by the next client (the spec remote queue)', async () => {
    const key = 'abracadabra';
    const server = spawnFixture(fixture('queue-server.ts'), { args: [key] });
    try {
      const address = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /address (.+)\n/.exec(out);
          if (match) resolve(match[1]!);
        });
        server.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
      });
      const put = await runFixture(fixture('queue-client.ts'), { args: [address, key, 'put'] });
      expect(put.stderr).toBe('');
      expect(put.stdout).toBe('put\n');
      // The first client is gone, and gave back its proxies of the queue and of the list; the
      // queue lives on in the server's module, and so does the list it holds.
      const get = await runFixture(fixture('queue-client.ts'), { args: [address, key, 'get'] });
      expect(get.stderr).toBe('');
      expect(get.stdout).toBe('got ["payload"]\n');
    } finally {
      server.kill();
      await collect(server).catch(() => undefined);
    }
  });
});

describe('nothing left on disk', () => {
  it.each([
    ['is killed (SIGKILL)', 'wait'],
    ['returns', 'return'],
    ['calls process.exit()', 'exit'],
  ])('a manager whose parent %s without shutdown() leaves no socket, no directory, no process', async (_how, mode) => {
    const tmp = mkdtempSync(join(scratch, `${mode}-`));
    const child = spawnFixture(fixture('orphan.ts'), { args: [mode], env: { ...process.env, TMPDIR: tmp } });
    let out = '';
    const [pid, address] = await new Promise<[number, string]>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /server (\d+) (.+)\n/.exec(out);
        if (match) resolve([Number(match[1]), JSON.parse(match[2]!) as string]);
      });
      child.once('exit', () => setTimeout(() => reject(new Error(`fixture exited early: ${out}`)), 100));
    });
    if (mode === 'wait') child.kill('SIGKILL');
    const result = await collect(child);
    if (mode !== 'wait') expect(result.code).toBe(0);
    expect(await eventually(() => !processesWith(marker).includes(pid), 5_000)).toBe(true);
    if (process.platform === 'linux') expect(address.startsWith('\0')).toBe(true);
    expect(readdirSync(tmp).filter((name) => name.startsWith('mpjs-'))).toEqual([]);
  });
});
