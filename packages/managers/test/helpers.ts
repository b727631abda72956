/** Shared setup: children load the TypeScript sources through tsx. */
import { readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';

process.env.MPJS_EXEC_ARGV = '--import tsx';
// Children make no TLS connections; without the extra CA bundle they start faster.
delete process.env.NODE_EXTRA_CA_CERTS;

/** Every process this test file starts inherits this marker. */
export const marker = randomUUID();
process.env.MPJS_TEST_MARKER = marker;

/** Pids of live processes whose environment holds `value`, other than this one. */
export function processesWith(value: string = marker): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(value)) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

v8.setFlagsFromString('--expose-gc');
const gcFunction = vm.runInNewContext('gc') as () => void;

/** Runs a full garbage collection and lets finalizers run. */
export async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gcFunction();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
