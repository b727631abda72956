/**
 * Node built-in modules loaded on first use. Many built-ins are not in Node's
 * start-up snapshot and cost a process a millisecond or more each to load
 * (`node:crypto` several), while most processes never use the feature that
 * needs them: a child that never authenticates, names shared memory or starts
 * processes of its own should not pay for those modules.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A function that returns the built-in module `specifier` (e.g.
 * `'node:crypto'`), loading it the first time it is called.
 *
 * ```ts
 * const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');
 * crypto().randomBytes(4);
 * ```
 */
export function lazyBuiltin<T>(specifier: `node:${string}`): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}
