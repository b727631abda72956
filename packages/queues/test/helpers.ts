/**
 * Shared setup of the tests that start real processes: children load the
 * TypeScript fixtures through tsx, and every process a test starts carries a
 * marker in its environment, so that none can outlive the tests unnoticed.
 */
import { processesWithEnv } from '@mpjs/test-utils';
import { readdirSync, readlinkSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

/** Children of jest load TypeScript fixtures: they need the loader. */
process.env.MPJS_EXEC_ARGV = '--import tsx';
// Children make no TLS connections; without the extra CA bundle they start ~30 ms faster.
delete process.env.NODE_EXTRA_CA_CERTS;

/** Every process this test file starts inherits this marker. */
export const marker = randomUUID();
process.env.MPJS_TEST_MARKER = marker;

/** Pids of live processes (zombies included) whose environment holds the marker, other than this one. */
export function markedProcesses(): number[] {
  return processesWithEnv(marker);
}

/** Descriptors of anonymous shared memory (memfd) this process holds: one per queue object not yet closed. */
export function memfdCount(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('/memfd:')) n++;
    } catch {
      // Closed meanwhile.
    }
  }
  return n;
}
