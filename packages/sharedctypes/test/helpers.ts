/**
 * Shared setup of the sharedctypes tests: children load the TypeScript
 * sources through tsx, every process a test file starts carries a marker in
 * its environment (so leaks can be found), and children are started through
 * a forkserver whose warm interpreters have imported the fixtures already
 * (handles then travel over a Unix socket; `spawnCtx` passes them in the
 * child's descriptor table).
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { activeChildren, getContext, setForkserverPreload, type BaseContext, type ForkServerContext, type Process } from '@mpjs/process';
import { eventually, processesWithEnv } from '@mpjs/test-utils';

process.env.MPJS_EXEC_ARGV = '--import tsx';
// Children make no TLS connections; without the extra CA bundle they start ~30 ms faster.
delete process.env.NODE_EXTRA_CA_CERTS;

/** Every process this test file starts inherits this marker. */
export const marker = randomUUID();
process.env.MPJS_TEST_MARKER = marker;

/** The fixture module every child imports. */
export const targetsPath = fileURLToPath(new URL('./fixtures/targets.ts', import.meta.url));
setForkserverPreload([targetsPath]);

/** Children started through warm interpreters (handles over SCM_RIGHTS). */
export const ctx: BaseContext = getContext('forkserver');
/** Children started afresh (handles in the stdio table). */
export const spawnCtx: BaseContext = getContext('spawn');

/** The path of a fixture script. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** Pids of live processes whose environment holds `value`, other than this one. */
export function processesWith(value: string = marker): number[] {
  return processesWithEnv(value);
}

/** Stops the forkserver and checks that no process this file started is left. */
export async function stopAndCheck(): Promise<boolean> {
  for (const child of activeChildren()) child.kill();
  await Promise.all(activeChildren().map((child) => child.join()));
  await (getContext('forkserver') as ForkServerContext).stopForkserver();
  return eventually(() => processesWith(marker).length === 0, 8_000);
}

/** Starts every process, joins them all, and returns their exit codes. */
export async function runAll(processes: Process[], timeout = 30_000): Promise<Array<number | null>> {
  for (const p of processes) p.start();
  await Promise.all(processes.map((p) => p.join(timeout)));
  return processes.map((p) => p.exitcode);
}

/** Descriptors of this process that are anonymous shared memory (memfd). */
export function memfds(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith('/memfd:')) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** Entries of /dev/shm whose names start with `prefix`. */
export function shmNames(prefix = 'psm_'): string[] {
  try {
    return readdirSync('/dev/shm').filter((n) => n.startsWith(prefix)).sort();
  } catch {
    return [];
  }
}
