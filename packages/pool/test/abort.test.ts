import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import './helpers.js';
import { Pool, ThreadPool } from '../src/index.js';
import { square, touchThen } from './fixtures/tasks.js';

/** Resolves once `path` exists (the task that creates it has started). */
async function started(path: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!existsSync(path)) {
    if (Date.now() > end) throw new Error(`${path} was never created: its task did not start`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.each([
  ['Pool', (n: number): Pool => new Pool(n)],
  ['ThreadPool', (n: number): Pool => new ThreadPool(n)],
])('the signal of a submission (%s): it cancels what has not been handed to a worker', (_name, makePool) => {
  let pool: Pool;
  let dir: string;
  beforeAll(() => {
    pool = makePool(1);
    dir = mkdtempSync(join(tmpdir(), 'mpjs-pool-abort-'));
  });
  afterAll(async () => {
    await pool.terminate();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string): string => join(dir, name);

  test('apply: a task already running goes on and its result stands; one still queued is cancelled and never runs', async () => {
    const controller = new AbortController();
    const running = pool.applyAsync(touchThen, [file('a'), 300, 'A'], { signal: controller.signal });
    const queued = pool.applyAsync(touchThen, [file('b'), 10, 'B'], { signal: controller.signal });
    await started(file('a'));
    controller.abort(new Error('stop'));
    await expect(queued.get()).rejects.toThrow('stop');
    expect(await running.get()).toBe('A');
    expect(running.successful()).toBe(true);
    expect(await pool.apply(square, [5])).toBe(25);
    expect(existsSync(file('b'))).toBe(false);
  });

  test('map (unchanged, as documented): aborting rejects at once; chunks not handed out never run, those handed out run to their end', async () => {
    // After a long task, a worker gets one chunk at a time (short ones travel a few at a time, ahead of need).
    await pool.apply(touchThen, [file('long'), 20, 0]);
    const controller = new AbortController();
    const args: [string, number, number][] = [0, 1, 2, 3].map((i) => [file(`m${i}`), 200, i]);
    const mapped = pool.starmap(touchThen, args, { chunksize: 1, signal: controller.signal });
    await started(file('m0'));
    const abortedAt = Date.now();
    controller.abort(new Error('stop map'));
    await expect(mapped).rejects.toThrow('stop map');
    expect(Date.now() - abortedAt).toBeLessThan(150); // not after the running chunk
    expect(await pool.apply(square, [6])).toBe(36); // runs once the chunk that was running is done
    expect(['m0', 'm1', 'm2', 'm3'].filter((name) => existsSync(file(name)))).toEqual(['m0']);
    // A chunk of two calls, handed out whole: the map rejects, and the chunk still runs its second call.
    const late = new AbortController();
    const whole = pool.starmapAsync(touchThen, [[file('w0'), 200, 'W0'], [file('w1'), 0, 'W1']] as [string, number, string][], { chunksize: 2, signal: late.signal });
    await started(file('w0'));
    late.abort(new Error('too late'));
    await expect(whole.get()).rejects.toThrow('too late');
    expect(await pool.apply(square, [7])).toBe(49);
    expect(existsSync(file('w1'))).toBe(true);
  });
});
