/** Task functions of the pool benchmarks; pool workers import them from here. */

/** x². */
export function square(x: number): number {
  return x * x;
}
