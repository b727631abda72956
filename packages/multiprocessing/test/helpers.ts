/**
 * Setup of the tests that start real processes: children load the TypeScript
 * fixtures through tsx, and every process a test file starts carries a marker
 * in its environment, so the tests can check that none outlives them.
 */
import { processesWithEnv } from '@mpjs/test-utils';
import { randomUUID } from 'node:crypto';

process.env.MPJS_EXEC_ARGV = '--import tsx';

/** The marker every process this test file starts inherits. */
export const marker = randomUUID();
process.env.MPJS_TEST_MARKER = marker;

/** Pids of live processes whose environment holds the marker, other than this one. */
export function markedProcesses(): number[] {
  return processesWithEnv(marker);
}
