/**
 * SharedMemory: named blocks attached by name from other processes (mpjs
 * children and CPython), Python's argument rules and errors, and cleanup of
 * created names by the tracker when the creator dies — SIGKILL included.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { shmUnlink } from '@mpjs/native';
import { collect, eventually, pidAlive, spawnFixture } from '@mpjs/test-utils';
import { SharedMemory, ValueError } from '../src/index.js';
import { trackerPid } from '../src/resource-tracker.js';
import { ctx, fixture, runAll, shmNames, stopAndCheck } from './helpers.js';
import { attachByName, writeBlock } from './fixtures/targets.js';

const python = spawnSync('python3', ['--version']).status === 0;
const startNames = shmNames();

afterAll(async () => {
  expect(await stopAndCheck()).toBe(true);
  const left = () => shmNames().filter((n) => !startNames.includes(n));
  await eventually(() => left().length === 0, 5_000);
  expect(left()).toEqual([]);
});

describe('SharedMemory', () => {
  it('creates a block with a fresh psm_ name that another process attaches to by name', async () => {
    const shm = new SharedMemory({ create: true, size: 64 });
    expect(shm.name).toMatch(/^psm_[0-9a-f]{8}$/);
    expect(shm.size).toBe(64);
    expect(shmNames()).toContain(shm.name);
    expect(String(shm)).toBe(`SharedMemory('${shm.name}', size=64)`);
    shm.buf.write('from parent;');
    expect(await runAll([ctx.Process({ target: attachByName, args: [shm.name, 'from parent;', 'from child'] })])).toEqual([0]);
    expect(shm.buf.toString('utf8', 0, 22)).toBe('from parent;from child');
    shm.close();
    shm.unlink();
    expect(shmNames()).not.toContain(shm.name);
  });

  it('travels as an argument (with its descriptor) and can be unlinked by the child', async () => {
    const shm = new SharedMemory({ name: `mpjs_test_${process.pid}`, create: true, size: 32 });
    expect(shm.name).toBe(`mpjs_test_${process.pid}`);
    expect(await runAll([ctx.Process({ target: writeBlock, args: [shm, 'written', true] })])).toEqual([0]);
    expect(shm.buf.toString('utf8', 0, 7)).toBe('written');
    expect(shmNames('mpjs_test_')).toEqual([]);
    expect(() => shm.unlink()).toThrow(expect.objectContaining({ code: 'ENOENT' }) as never);
    shm.close();
  });

  it("follows Python's rules for its arguments", () => {
    expect(() => new SharedMemory()).toThrow(new ValueError('SharedMemory: "name" can only be omitted with { create: true }; give the name of the block to attach to'));
    expect(() => new SharedMemory({ create: true })).toThrow(/must be a positive number different from zero/);
    expect(() => new SharedMemory({ create: true, size: -1 })).toThrow(ValueError);
    expect(() => new SharedMemory({ create: 'yes' as never, size: 1 })).toThrow(TypeError);
    expect(() => new SharedMemory('psm_does_not_exist')).toThrow(expect.objectContaining({ code: 'ENOENT' }) as never);
    const shm = new SharedMemory({ create: true, size: 10 });
    expect(() => new SharedMemory({ name: shm.name, create: true, size: 10 })).toThrow(expect.objectContaining({ code: 'EEXIST' }) as never);
    const again = new SharedMemory(`/${shm.name}`);
    expect(again.size).toBe(10);
    again.buf[0] = 7;
    expect(shm.buf[0]).toBe(7);
    {
      using scoped = new SharedMemory({ name: shm.name, size: 1000 });
      expect(scoped.size).toBe(10);
    }
    again.close();
    again.close();
    expect(() => again.buf).toThrow(new ValueError(`SharedMemory '${shm.name}' is closed; attach to it again to use its memory`));
    shm.unlink();
    shm.close();
  });

  it('is read and written by CPython attaching by name', () => {
    if (!python) return;
    const shm = new SharedMemory({ create: true, size: 16 });
    shm.buf.write('node');
    const script = `
import sys
from multiprocessing import shared_memory, resource_tracker
shm = shared_memory.SharedMemory(sys.argv[1])
resource_tracker.unregister(shm._name, 'shared_memory')  # attaching must not unlink at exit
print(bytes(shm.buf[:4]).decode(), shm.size >= 16)
shm.buf[4:10] = b'python'
shm.close()
`;
    const r = spawnSync('python3', ['-c', script, shm.name], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('node True\n');
    expect(shm.buf.toString('utf8', 0, 10)).toBe('nodepython');
    shm.close();
    shm.unlink();
  });
});

describe('cleanup of created names', () => {
  it('unlinks what a SIGKILLed creator did not, and keeps blocks created with track: false', async () => {
    const child = spawnFixture(fixture('shm-creator.ts'), { args: ['wait'] });
    const done = collect(child, 30_000);
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.on('exit', () => reject(new Error(`creator exited before reporting: ${out}`)));
    });
    const names = JSON.parse(line) as { tracked: string; list: string; untracked: string; unlinked: string };
    expect(shmNames()).toEqual(expect.arrayContaining([names.tracked, names.list, names.untracked]));
    expect(shmNames()).not.toContain(names.unlinked);
    child.kill('SIGKILL');
    const result = await done;
    expect(result.signal).toBe('SIGKILL');
    expect(result.stderr).toContain(`mpjs: unlinked 2 shared memory blocks that process ${child.pid} created`);
    expect(await eventually(() => !shmNames().includes(names.tracked) && !shmNames().includes(names.list), 10_000)).toBe(true);
    expect(shmNames()).toContain(names.untracked);
    shmUnlink(names.untracked);
  });

  it('unlinks, with a warning, what a creator that exits normally left behind', async () => {
    const creator = spawnFixture(fixture('shm-creator.ts'), { args: ['exit'] });
    const result = await collect(creator, 30_000);
    expect(result.code).toBe(0);
    const names = JSON.parse(result.stdout) as { tracked: string; list: string; untracked: string };
    // The tracker shares the creator's stderr, so its warning is part of what was collected.
    expect(result.stderr).toBe(
      `mpjs: unlinked 2 shared memory blocks that process ${creator.pid} created and did not unlink before it ended: ${names.tracked}, ${names.list}\n`,
    );
    expect(await eventually(() => !shmNames().includes(names.tracked) && !shmNames().includes(names.list), 10_000)).toBe(true);
    expect(shmNames()).toContain(names.untracked);
    shmUnlink(names.untracked);
  });

  it('stops its tracker once every created name is unlinked', async () => {
    const shm = new SharedMemory({ create: true, size: 8 });
    const pid = trackerPid();
    expect(pid).toBeGreaterThan(0);
    expect(pidAlive(pid!)).toBe(true);
    shm.unlink();
    shm.close();
    expect(await eventually(() => !pidAlive(pid!), 10_000)).toBe(true);
    expect(trackerPid()).toBeUndefined();
  });
});
