/** Task functions of the pool benchmarks; pool workers import them from here. */

/** x². */
export function square(x: number): number {
  return x * x;
}

/** Counts the primes below `limit` by trial division: pure CPU work. */
export function countPrimes(limit: number): number {
  let count = 0;
  for (let n = 2; n < limit; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}
