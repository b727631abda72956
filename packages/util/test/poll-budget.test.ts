import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { POLL_MICROS, PollBackoff } from '../src/index.js';

const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** POLL_MICROS as a fresh process sees it. */
function budgetIn(env: NodeJS.ProcessEnv, prefix: string[] = []): number {
  const r = spawnSync(
    prefix[0] ?? process.execPath,
    [...prefix.slice(1), ...(prefix.length > 0 ? [process.execPath] : []), '--input-type=module', '-e', `import { POLL_MICROS } from ${JSON.stringify(entry)}; console.log(POLL_MICROS);`],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  return Number(r.stdout.trim());
}

describe('POLL_MICROS', () => {
  it('is 50 µs by default on more than one CPU, set by MPJS_POLL_MICROS, 0 turns it off', () => {
    expect(POLL_MICROS).toBe(50); // the test machines have 2 CPUs or more
    expect(budgetIn({ MPJS_POLL_MICROS: '120' })).toBe(120);
    expect(budgetIn({ MPJS_POLL_MICROS: '0' })).toBe(0);
    expect(budgetIn({ MPJS_POLL_MICROS: 'lots' })).toBe(50);
    expect(budgetIn({ MPJS_POLL_MICROS: '1e9' })).toBe(1000);
  });

  it('is 0 in a process allowed on one CPU only', () => {
    expect(budgetIn({ MPJS_POLL_MICROS: '' }, ['taskset', '-c', '0'])).toBe(0);
  });
});

describe('PollBackoff', () => {
  it('skips 0, 1, 3, 7, … waits after polls in a row that found nothing, up to 63; a hit starts over', () => {
    const backoff = new PollBackoff();
    const skipsAfterMiss = (): number => {
      backoff.miss();
      let skipped = 0;
      while (!backoff.shouldPoll()) skipped++;
      return skipped;
    };
    expect(backoff.shouldPoll()).toBe(true);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map(skipsAfterMiss)).toEqual([0, 1, 3, 7, 15, 31, 63, 63, 63]);
    backoff.hit();
    expect(skipsAfterMiss()).toBe(0);
    expect(skipsAfterMiss()).toBe(1);
  });
});
