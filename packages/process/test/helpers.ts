/**
 * Shared setup of the process tests: children load the TypeScript sources
 * through tsx, results come back in temp files, and every process started by
 * a test carries a marker in its environment so leaks can be found.
 */
import { processesWithEnv } from '@mpjs/test-utils';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

/** Children of jest load `src/bootstrap.ts`: they need the TypeScript loader. */
process.env.MPJS_EXEC_ARGV = '--import tsx';
// Children make no TLS connections; without the extra CA bundle they start ~30 ms faster.
delete process.env.NODE_EXTRA_CA_CERTS;

/** Every process this test file starts inherits this marker. */
export const marker = randomUUID();
process.env.MPJS_TEST_MARKER = marker;

/** A fresh temp directory. */
export function tempDir(): { dir: string; file(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'mpjs-process-'));
  return {
    dir,
    file: (name: string) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Reads a JSON file a child wrote. */
export function readJson<T = unknown>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** Pids of live processes (zombies included) whose environment holds `value`, other than this one. */
export function processesWith(value: string = marker): number[] {
  return processesWithEnv(value);
}

/** The state letter of a process (`R`, `S`, `Z`…), or null if there is none. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}
