/**
 * The quick start's program (docs/quickstart.md) runs as shown, through the umbrella package.
 */
import { describe, expect, it } from '@jest/globals';
import { runFixture } from '@mpjs/test-utils';
import { fileURLToPath } from 'node:url';

describe('quickstart', () => {
  it("prints the child's queue item", async () => {
    const env = { ...process.env };
    delete env.MPJS_EXEC_ARGV;
    const r = await runFixture(fileURLToPath(new URL('../quickstart.ts', import.meta.url)), { env, timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("[ 42, null, 'hello' ]\n");
  }, 90_000);
});
