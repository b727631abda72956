/**
 * The README's demo (`pnpm demo`) runs as a real program and prints exact totals.
 */
import { describe, expect, it } from '@jest/globals';
import { runFixture } from '@mpjs/test-utils';
import { fileURLToPath } from 'node:url';

const demo = fileURLToPath(new URL('../demo.ts', import.meta.url));

describe('demo', () => {
  it('spreads work over a pool, counts exactly, passes a queue and fills a manager dict', async () => {
    const env = { ...process.env };
    delete env.MPJS_EXEC_ARGV;
    const r = await runFixture(demo, { env, timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^main process \d+$/);
    const main = Number(lines[0]!.split(' ')[2]);
    const pool = /^pool: sums of primes 454396537, 1709600813, 3709507114, 6458901531 computed by worker pids ([\d, ]+)$/.exec(lines[1]!);
    expect(pool).not.toBeNull();
    const workers = pool![1]!.split(', ').map(Number);
    expect(workers.length).toBeGreaterThanOrEqual(1);
    expect(workers).not.toContain(main);
    expect(lines[2]).toMatch(/^shared counter: 200000 \(expected 200000\) from pids \d+, \d+$/);
    expect(lines[3]).toBe('queue: Process-7 received 20000 items summing to 199990000 (expected 199990000)');
    expect(lines[4]).toMatch(/^manager dict: Process-\d+=\d+, Process-\d+=\d+, Process-\d+=\d+$/);
    expect(lines).toHaveLength(5);
  }, 150_000);
});
