import { describe, expect, test } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import './helpers.js';
import { collect, eventually, pidAlive, spawnFixture } from '@mpjs/test-utils';

const fixture = fileURLToPath(new URL('./fixtures/orphans.ts', import.meta.url));

function firstLine(child: ReturnType<typeof spawnFixture>): Promise<number[]> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as number[]);
    });
    child.on('exit', (code) => reject(new Error(`fixture exited early with ${code}`)));
  });
}

describe('no orphaned workers', () => {
  test('a program that ends without closing its pool leaves no workers behind', async () => {
    const child = spawnFixture(fixture, { args: ['exit'] });
    const pids = await firstLine(child);
    const result = await collect(child);
    expect(result.code).toBe(0);
    expect(pids).toHaveLength(2);
    expect(await eventually(() => pids.every((p) => !pidAlive(p)))).toBe(true);
  });

  test('killing the parent with SIGKILL ends its workers', async () => {
    const child = spawnFixture(fixture, { args: ['wait'] });
    const pids = await firstLine(child);
    expect(pids.every(pidAlive)).toBe(true);
    child.kill('SIGKILL');
    const result = await collect(child);
    expect(result.signal).toBe('SIGKILL');
    expect(await eventually(() => pids.every((p) => !pidAlive(p)))).toBe(true);
  });
});
