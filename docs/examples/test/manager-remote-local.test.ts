/**
 * The spec's remote manager served from a program whose local Process subclass fills the
 * queue (docs/examples/manager-remote-local.ts): a client from manager-remote-get.ts gets
 * 'local hello'. It spans @mpjs/process, @mpjs/queues and @mpjs/managers, so it is tested here.
 */
import { describe, expect, it } from '@jest/globals';
import { collect, eventually, processesWithEnv, runFixture, spawnFixture } from '@mpjs/test-utils';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const example = (name: string): string => fileURLToPath(new URL(`../${name}.ts`, import.meta.url));

describe('manager-remote-local', () => {
  it("serves the queue a local Worker filled: a remote client gets 'local hello'", async () => {
    // Every process of the test inherits the marker, so anything left behind is found.
    const marker = randomUUID();
    const env: NodeJS.ProcessEnv = { ...process.env, MPJS_TEST_MARKER: marker };
    delete env.MPJS_EXEC_ARGV;
    const server = spawnFixture(example('manager-remote-local'), { env, args: ['0'] });
    const ended = collect(server, 30_000);
    try {
      const port = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /^serving on port (\d+)\n/.exec(out);
          if (match) resolve(match[1]!);
        });
        server.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
      });
      const client = await runFixture(example('manager-remote-get'), { env, args: [port], timeout: 30_000 });
      expect(client.stderr).toBe('');
      expect(client.code).toBe(0);
      expect(client.stdout).toBe('local hello\n');
    } finally {
      // The server runs until it is stopped, as Python's serve_forever() does.
      server.kill('SIGTERM');
    }
    const result = await ended;
    expect(result.stderr).toBe('');
    expect(result.signal).toBe('SIGTERM');
    expect(result.stdout).toMatch(/^serving on port \d+\n$/);
    expect(await eventually(() => processesWithEnv(marker).length === 0, 5_000)).toBe(true);
  }, 60_000);
});
