/**
 * The child side of the locked-increment workload in sharedctypes.ts: an
 * exported target that `Process` children import.
 *
 * flags (a RawArray of int64): [0] children ready, [1] go, [2 + 2k] and
 * [3 + 2k] child k's start and end (process.hrtime, which is the system-wide
 * monotonic clock, so the parent can compare them).
 */
// A value import, not `import type`: the package registers how its objects travel when it loads,
// and the child must have done that before it decodes its arguments.
import '@mpjs/sharedctypes';
import type { RawArray, Value } from '@mpjs/sharedctypes';

/** Waits for the go flag, then does `times` increments of `v`, each under its lock. */
export async function lockedIncrements(v: Value<'i'>, times: number, flags: RawArray<'q'>, k: number): Promise<void> {
  Atomics.add(flags.typed, 0, 1n);
  while (Atomics.load(flags.typed, 1) === 0n) await new Promise((resolve) => setImmediate(resolve));
  flags[2 + 2 * k] = process.hrtime.bigint();
  for (let i = 0; i < times; i++) {
    using _ = v.holdSync();
    v.value += 1;
  }
  flags[3 + 2 * k] = process.hrtime.bigint();
}
