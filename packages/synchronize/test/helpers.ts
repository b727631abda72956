/**
 * Shared setup of the synchronize tests: children load the TypeScript
 * sources through tsx, every process a test file starts carries a marker in
 * its environment (so leaks can be found), and the children are started
 * through a forkserver whose warm interpreters have already imported the
 * fixtures (a start then costs milliseconds, not a Node start-up).
 */
import { readdirSync } from 'node:fs';
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

setForkserverPreload([fileURLToPath(new URL('./fixtures/targets.ts', import.meta.url))]);

/** The context children of the tests are started with. */
export const ctx: BaseContext = getContext('forkserver');

/** Pids of live processes (zombies included) whose environment holds `value`, other than this one. */
export function processesWith(value: string = marker): number[] {
  return processesWithEnv(value);
}

/** Stops the forkserver and checks that no process this file started is left. */
export async function stopAndCheck(): Promise<boolean> {
  for (const child of activeChildren()) child.kill();
  await Promise.all(activeChildren().map((child) => child.join()));
  await (getContext('forkserver') as ForkServerContext).stopForkserver();
  return eventually(() => processesWith(marker).length === 0, 5_000);
}

/** Starts every process, joins them all, and returns their exit codes. */
export async function runAll(processes: Process[], timeout = 30_000): Promise<Array<number | null>> {
  for (const p of processes) p.start();
  await Promise.all(processes.map((p) => p.join(timeout)));
  return processes.map((p) => p.exitcode);
}

/** The descriptors this process holds that point at shared memory of this package's chunks (memfd). */
export function memfdCount(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (/^\/memfd:/.test(readlinkSafe(`/proc/self/fd/${fd}`))) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

import { readlinkSync } from 'node:fs';
function readlinkSafe(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}
