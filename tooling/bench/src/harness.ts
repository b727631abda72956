/**
 * The benchmark harness: a workload measures one figure in Node and, where
 * Python has the same operation, the same figure in CPython, so `run.ts` can
 * print them side by side with their ratio.
 */

/** One figure measured the same way in Node and, optionally, in CPython. */
export interface Workload {
  /** Table section, e.g. 'connection'. */
  group: string;
  /** What is measured, e.g. 'Pipe round trip, small object'. */
  name: string;
  /** Unit of every number this workload returns: 'ns', 'µs', 'ms', 'msg/s', 'MB/s'. */
  unit: string;
  /** True for times, false for rates. */
  lowerIsBetter: boolean;
  /** Measures mpjs; resolves to one number in `unit`. */
  node: () => Promise<number>;
  /**
   * CPython source that prints ONE number in `unit` on its last stdout line: the
   * figure of the ratio column, so it must do what `node` does, with the same
   * start method (`spawn` or `forkserver`; Node has no `fork`).
   */
  python?: string;
  /**
   * Further CPython measurements shown beside the others, label → source (same
   * contract as `python`), e.g. `{ 'CPython fork': … }` for CPython's default
   * start method on Linux, which Node cannot match.
   */
  pythonOthers?: Record<string, string>;
  /** Other Node implementations measured in the same run (e.g. JSON, other pools). */
  others?: Record<string, () => Promise<number>>;
}

/** Runs `fn` `iterations` times and returns the mean time per call in nanoseconds. */
export async function nsPerOp(iterations: number, fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn();
  return Number(process.hrtime.bigint() - start) / iterations;
}

/** Synchronous form of {@link nsPerOp}, for operations that must not pay for an await. */
export function nsPerOpSync(iterations: number, fn: () => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations;
}

/** Best (lowest) of `runs` measurements: the figure least disturbed by the machine. */
export async function bestOf(runs: number, measure: () => Promise<number> | number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < runs; i++) best = Math.min(best, await measure());
  return best;
}

/** Median of `runs` measurements. */
export async function medianOf(runs: number, measure: () => Promise<number> | number): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < runs; i++) values.push(await measure());
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}

/**
 * Runs `fn` with NODE_EXTRA_CA_CERTS removed from the environment children
 * inherit: this machine sets it, and every Node start-up then reads the CA
 * bundle (about 28 ms), which CPython does not.
 */
export async function withoutExtraCerts<T>(fn: () => Promise<T>): Promise<T> {
  const saved = process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.NODE_EXTRA_CA_CERTS;
  try {
    return await fn();
  } finally {
    if (saved !== undefined) process.env.NODE_EXTRA_CA_CERTS = saved;
  }
}
