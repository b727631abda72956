import { describe, expect, it } from '@jest/globals';
import { collect, spawnFixture, type ChildResult } from '@mpjs/test-utils';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultCodec } from '../src/index.js';
import { Counter, double, Point, TaskError } from './fixtures/tasks.js';
import { Token } from './fixtures/registered-type.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const fixtures = join(here, 'fixtures');

/** `node --import tsx fixture`, with `input` on stdin. */
async function runTs(fixture: string, input?: string): Promise<ChildResult> {
  const child = spawnFixture(join(fixtures, fixture), { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end(input ?? '');
  return collect(child, 30_000);
}

/** Plain `node file` (no loader), with `input` on stdin. */
async function runPlain(file: string, args: string[], input?: string): Promise<ChildResult> {
  const child = spawn(process.execPath, [join(fixtures, file), ...args], { cwd: fixtures, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(input ?? '');
  return collect(child, 30_000);
}

function ok(result: ChildResult): string {
  if (result.code !== 0) throw new Error(`child exited with ${result.code} (${result.signal})\n${result.stderr}`);
  return result.stdout;
}

describe('by reference across real processes', () => {
  it('one tsx child encodes functions, instances and errors; another imports and uses them', async () => {
    const bytes = ok(await runTs('encode-child.ts'));
    const report = JSON.parse(ok(await runTs('decode-child.ts', bytes))) as Record<string, Record<string, unknown>>;
    expect(report.fn).toEqual({ type: 'function', name: 'double', result: 42 });
    expect(report.lazyFn).toEqual({ type: 'function', name: 'triple', result: 63 });
    expect(report.point).toEqual({ type: 'object', class: 'Point', fields: { x: 3, y: 4 }, methods: { norm2: 25 } });
    expect(report.vector).toEqual({ type: 'object', class: 'Vector', fields: { x: 1, y: 2 }, methods: { sum: 3 } });
    // Counter has [reduce](): the receiver ran new Counter(7).
    expect(report.counter).toEqual({ type: 'object', class: 'Counter', fields: { count: 7, history: [] }, methods: {} });
    expect(report.error).toEqual({ type: 'error', class: 'TaskError', name: 'TaskError', message: 'task failed', code: 'ERR_TASK', stackHasOrigin: true });
    expect(report.lazyError).toEqual({ type: 'error', class: 'LazyError', name: 'LazyError', message: 'lazy failed', code: 'ERR_LAZY', stackHasOrigin: true });
    expect(report.big).toEqual({ type: 'bigint', value: (2n ** 100n).toString() });
    expect(report.when).toEqual({ type: 'date', value: 1_700_000_000_123 });
  });

  it('what a jest test encodes (fixtures loaded by jest) a tsx child can import', async () => {
    const bytes = defaultCodec.encode({ fn: double, point: new Point(6, 8), counter: new Counter(2), error: new TaskError('from jest', 'test') });
    const report = JSON.parse(ok(await runTs('decode-child.ts', Buffer.from(bytes).toString('base64')))) as Record<string, Record<string, unknown>>;
    expect(report.fn).toEqual({ type: 'function', name: 'double', result: 42 });
    expect(report.point).toEqual({ type: 'object', class: 'Point', fields: { x: 6, y: 8 }, methods: { norm2: 100 } });
    expect(report.counter!.class).toBe('Counter');
    expect(report.error).toMatchObject({ class: 'TaskError', message: 'from jest', code: 'ERR_TASK' });
  });

  it('a registered type whose module the receiver never imported is imported by decodeAsync', async () => {
    const bytes = defaultCodec.encode({ token: new Token('abc') });
    const report = JSON.parse(ok(await runTs('decode-registered-child.ts', Buffer.from(bytes).toString('base64')))) as Record<string, string>;
    expect(report.class).toBe('Token');
    expect(report.label).toBe('abc');
    expect(report.syncError).toMatch(/"test\.Token", which is not registered in this process; decode it with decodeAsync\(\), which imports file:.*registered-type\.ts/);
  });

  describe('plain Node programs (no TypeScript loader, the built package)', () => {
    const built = existsSync(join(here, '..', 'dist', 'index.js'));

    it('the package is built (pnpm build) so plain programs can import it', () => {
      expect(built).toBe(true);
    });

    (built ? it : it.skip)('an .mjs program sends ESM and CommonJS exports to another .mjs program', async () => {
      const encoded = await runPlain('plain-program.mjs', ['encode']);
      const bytes = ok(encoded);
      const timing = JSON.parse(encoded.stderr) as { first: number; second: number; refs: unknown[] };
      expect(timing.refs).toEqual([
        { module: expect.stringMatching(/^file:\/\/.*\/plain-module\.mjs$/), name: 'square' },
        { module: expect.stringMatching(/^file:\/\/.*\/commonjs\.cjs$/), name: 'add' },
        { module: expect.stringMatching(/^file:\/\/.*\/commonjs-default\.cjs$/), name: 'default' },
      ]);
      const report = JSON.parse(ok(await runPlain('plain-program.mjs', ['decode'], bytes))) as Record<string, unknown>;
      expect(report).toEqual({ square: 49, negate: -3, box: 5, add: 5, thing: 'thing x', greet: 'hello world' });
    });

    (built ? it : it.skip)('a plain module\'s exports are read from its file, and from V8 when the file does not have them', async () => {
      // Without the debugger (which costs tens of milliseconds the first time), the file on disk
      // gives the export list; this program changes the file after importing it to tell the two apart.
      const report = JSON.parse(ok(await runPlain('disk-exports-program.mjs', []))) as Record<string, unknown>;
      expect(report).toEqual({ renamed: 'renamed', dropped: 'task' });
    });

    (built ? it : it.skip)('a CommonJS program finds its own exports', async () => {
      const report = JSON.parse(ok(await runPlain('plain-program.cjs', []))) as Record<string, unknown>;
      expect(report).toEqual({
        ref: { module: expect.stringMatching(/^file:\/\/.*\/commonjs\.cjs$/), name: 'add' },
        same: true,
        thing: 'thing cjs',
      });
    });
  });
});
