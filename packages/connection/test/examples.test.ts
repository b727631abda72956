/**
 * Runs the examples of docs/examples that belong to this package, as a user
 * would: `node --import tsx <example>` from the examples folder.
 */
import { describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { runFixture } from '@mpjs/test-utils';

const examples = fileURLToPath(new URL('../../../docs/examples/', import.meta.url));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function run(name: string, args: string[] = []) {
  return runFixture(`${examples}${name}.ts`, { args, timeout: 30_000 });
}

describe('docs/examples', () => {
  it('listener-pair.ts: the Listener/Client example exchanges the spec’s data', async () => {
    const port = await freePort();
    const result = await run('listener-pair', [String(port)]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      `[server] listening on [ '127.0.0.1', ${port} ]`,
      expect.stringMatching(/^\[server\] connection accepted from \[ '127\.0\.0\.1', \d+ \]$/),
      "[client] [ 2.25, null, 'junk', 18446744073709551616n ]",
      '[client] hello',
      '[client] 8',
      '[client] Int32Array(5) [ 42, 1729, 0, 0, 0 ]',
    ]);
  });

  it('pipe.ts: a child sends [42, null, hello] through a Pipe', async () => {
    const result = await run('pipe');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe("[ 42, null, 'hello' ]\n");
    expect(result.code).toBe(0);
  });

  it('connection-wait.ts: wait() collects all messages of four processes', async () => {
    const result = await run('connection-wait');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(40);
    for (let p = 1; p <= 4; p++) {
      const own = lines.filter((line) => line.endsWith(`'Process-${p}' ]`));
      // Each process's messages arrive complete and in its own order.
      expect(own).toEqual(Array.from({ length: 10 }, (_, i) => `[ ${i}, 'Process-${p}' ]`));
    }
  });

  it('connection-bytes.ts: the Connection doctest sends objects and bytes, and receives bytes into an Int32Array', async () => {
    const result = await run('connection-bytes');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("[ 1, 'hello', null ]\nthank you\n20\n[0, 1, 2, 3, 4, 0, 0, 0, 0, 0]\n");
  });
});
