/**
 * Shared setup of the pool tests: workers load the TypeScript sources through tsx.
 */
process.env.MPJS_EXEC_ARGV = '--import tsx';
// Workers make no TLS connections; without the extra CA bundle they start faster.
delete process.env.NODE_EXTRA_CA_CERTS;

/** Numbers 0..n-1. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
