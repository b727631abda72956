/**
 * The manager examples in docs/examples run as documented
 * (`node --import tsx docs/examples/<name>.ts`) and print what they say.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collect, eventually, runFixture, spawnFixture } from '@mpjs/test-utils';
import { marker, processesWith } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mpjs-managers-'));
// Map the package names to the built packages, as an installed copy would resolve them.
const tsconfig = join(dir, 'tsconfig.json');
writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { paths: { '@mpjs/*': [`${root}packages/*/dist/index.js`] } } }));
const env: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: tsconfig };
delete env.MPJS_EXEC_ARGV;

afterAll(async () => {
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
  rmSync(dir, { recursive: true, force: true });
});

async function example(name: string, args: string[] = []): Promise<string> {
  const r = await runFixture(`${root}docs/examples/${name}.ts`, { env, args, timeout: 40_000 });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('docs/examples', () => {
  it('manager prints the dict and the reversed list', async () => {
    expect(await example('manager')).toBe("{1: '1', '2': 2, 0.25: null}\n[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]\n");
  });

  it('manager-custom prints 7 and 56', async () => {
    expect(await example('manager-custom')).toBe('7\n56\n');
  });

  it('manager-remote-*: one process serves, one puts, one gets', async () => {
    const server = spawnFixture(`${root}docs/examples/manager-remote-server.ts`, { env, args: ['0'] });
    try {
      const port = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /serving on port (\d+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        server.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
      });
      expect(await example('manager-remote-put', [port])).toBe('');
      expect(await example('manager-remote-get', [port])).toBe('hello\n');
    } finally {
      server.kill();
      await collect(server).catch(() => undefined);
    }
  });

  it("manager-namespace prints the referent's attributes only", async () => {
    expect(await example('manager-namespace')).toBe("Namespace(x=10, y='hello')\nfalse 12.3\n");
  });

  it('manager-proxies prints what the Proxy Objects doctests show', async () => {
    const lines = (await example('manager-proxies')).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toEqual([
      '[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]',
      expect.stringMatching(/^<ListProxy object, typeid 'list' at 0x[0-9a-f]+>$/),
      '16',
      '[ 4, 9, 16 ]',
      expect.stringMatching(/^\[<ListProxy object, typeid 'list' at 0x[0-9a-f]+>\] \[\]$/),
      "['hello'] ['hello']",
      "{'a': 1, 'b': 2}",
      "{'c': 3, 'z': 26}",
      '[{}]',
      "[{'a': 1, 'b': 2}]",
      'false',
      'true',
      '10',
      '[ 2, 3, 4, 5, 6 ]',
      'RangeError: list index out of range: 20 (length 10)',
    ]);
  });
  it('logging shows the warning, then the manager server starting, serving and exiting, in order', async () => {
    const r = await runFixture(`${root}docs/examples/logging.ts`, { env, timeout: 40_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      '[WARNING/MainProcess] doomed',
      '[INFO/SyncManager-1] child process calling self.run()',
      expect.stringMatching(/^\[INFO\/SyncManager-1\] manager serving at '.+'$/),
      '[INFO/MainProcess] sending shutdown message to manager',
      '[INFO/SyncManager-1] process shutting down',
      '[INFO/SyncManager-1] process exiting with exitcode 0',
      '[INFO/MainProcess] process shutting down',
    ]);
  });
});
